package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
)

// opPattern is an operation's path segment: "$" and its name.
const opPattern = `{op:\$[^/]+}`

// An operation is invoked on the system, a type or an instance.
type opLevel int

const (
	opSystem opLevel = iota
	opType
	opInstance
)

// opCall is one invocation: where and what was asked.
type opCall struct {
	typ, id string
	body    []byte // nil for GET
}

type opHandler func(r *http.Request, c opCall) rest.Response

// opRoute is one operation at one level: the methods it answers and how.
type opRoute struct {
	methods []string
	run     opHandler
}

// operations says which operation runs at which level. The spec lets
// operations that change nothing take GET; $meta-add and $meta-delete
// change the resource and take POST only.
func (s *server) operations() map[string]map[opLevel]opRoute {
	getOrPost := []string{http.MethodGet, http.MethodPost}
	post := []string{http.MethodPost}
	meta := opRoute{getOrPost, func(r *http.Request, c opCall) rest.Response { return s.svc.Meta(r.Context(), c.typ, c.id) }}
	validate := opRoute{getOrPost, func(r *http.Request, c opCall) rest.Response {
		return s.svc.Validate(r.Context(), c.typ, c.id, c.body, r.URL.Query())
	}}
	everything := opRoute{getOrPost, func(r *http.Request, c opCall) rest.Response {
		return s.svc.Everything(r.Context(), c.id, r.URL.Query(), c.body)
	}}
	ops := map[string]map[opLevel]opRoute{
		"$meta":     {opSystem: meta, opType: meta, opInstance: meta},
		"$validate": {opType: validate, opInstance: validate},
		"$meta-add": {opInstance: {post, func(r *http.Request, c opCall) rest.Response {
			return s.svc.MetaAdd(r.Context(), c.typ, c.id, c.body)
		}}},
		"$meta-delete": {opInstance: {post, func(r *http.Request, c opCall) rest.Response {
			return s.svc.MetaDelete(r.Context(), c.typ, c.id, c.body)
		}}},
		"$everything": {opType: everything, opInstance: everything},
	}
	for _, op := range s.svc.Operations() {
		s.addOperation(ops, op)
	}
	return ops
}

// addOperation routes an operation registered with the Service (one
// implemented outside rest, on one type).
func (s *server) addOperation(ops map[string]map[opLevel]opRoute, op rest.Operation) {
	methods := []string{http.MethodPost}
	if op.Idempotent {
		methods = []string{http.MethodGet, http.MethodPost}
	}
	route := opRoute{methods: methods, run: func(r *http.Request, c opCall) rest.Response {
		if c.typ != op.Type {
			o := fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported,
				"operation $"+op.Name+" is not supported on "+c.typ+"; it is invoked on "+op.Type)
			return rest.Response{Status: http.StatusNotFound, Body: o.JSON(), Outcome: o}
		}
		return op.Run(r.Context(), c.id, r.URL.Query(), c.body)
	}}
	name := "$" + op.Name
	if ops[name] == nil {
		ops[name] = map[opLevel]opRoute{}
	}
	if op.TypeLevel {
		ops[name][opType] = route
	}
	if op.InstanceLevel {
		ops[name][opInstance] = route
	}
}

// operation returns the handler of [base]/$op (opSystem),
// [base]/[type]/$op (opType) or [base]/[type]/[id]/$op (opInstance).
func (s *server) operation(ops map[string]map[opLevel]opRoute, level opLevel) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, f format) {
		s.runOperation(w, r, f, ops, level)
	}
}

func (s *server) runOperation(w http.ResponseWriter, r *http.Request, f format, ops map[string]map[opLevel]opRoute, level opLevel) {
	v := mux.Vars(r)
	c := opCall{typ: v["type"], id: v["id"]}
	op := v["op"]
	if level != opSystem && !fhir.IsResourceType(c.typ) {
		s.writeOutcome(w, r, f, http.StatusNotFound, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported, "unknown resource type "+strconv.Quote(c.typ)))
		return
	}
	route, ok := ops[op][level]
	if ok && op == "$everything" && c.typ != "Patient" {
		ok = false
	}
	if !ok {
		where := "on the system"
		if level != opSystem {
			where = "on " + c.typ
			if level == opInstance {
				where += " instances"
			}
		}
		if _, known := ops[op]; !known {
			where = ""
		}
		s.writeOutcome(w, r, f, http.StatusNotFound, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported,
			strings.TrimSpace("operation "+strconv.Quote(op)+" is not supported "+where)))
		return
	}
	if !slices.Contains(route.methods, r.Method) {
		w.Header().Set("Allow", strings.Join(route.methods, ", "))
		s.writeOutcome(w, r, f, http.StatusMethodNotAllowed, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported,
			r.Method+" is not allowed for "+op+"; use "+strings.Join(route.methods, " or ")))
		return
	}
	if r.Method == http.MethodPost {
		if kind, mt := requestBodyKind(r); kind != bodyFHIRJSON {
			s.writeOutcome(w, r, f, http.StatusUnsupportedMediaType, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported,
				op+" takes FHIR JSON (a resource or a Parameters), not "+orNone(mt)))
			return
		}
		body, ok := s.readBody(w, r, f)
		if !ok {
			return
		}
		c.body = body
	}
	s.writeResponse(w, r, f, route.run(r, c))
}
