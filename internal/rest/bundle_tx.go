package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// maxTransactionAttempts bounds how often a transaction is planned again
// after another client changed a resource it read; each round has a
// winner, so this is only reached under extreme contention.
const maxTransactionAttempts = 16

// txOp is what a transaction entry does.
type txOp int

const (
	opCreate txOp = iota
	opUpdate
	opPatch
	opDelete
	opMatched // a conditional create that found its resource: nothing to write
	opRead
)

// txEntry is one entry's plan: its target and, once built, its changes.
type txEntry struct {
	*inEntry
	op      txOp
	typ, id string // the target; for a conditional delete, see deletes
	exists  bool   // an update's target existed (200 rather than 201)
	// deletes are the resources a (conditional) delete removes.
	deletes []store.Version
	matched *store.Version // opMatched: the resource found
	rd      read           // opRead
	pending []store.Change // planned, in the entry's order
	// pendingDocs are the pending changes' resources as decoded trees
	// (nil: decode the body), for the checks that read them.
	pendingDocs []map[string]any
	changes     []int // indexes into the plan's changes

	// What the caller may do, checked against the resources once every
	// entry is planned: the rights of a create, update or patch, the
	// permit of a delete, the version an update or patch replaces.
	rights writeRights
	del    permit
	cur    *store.Version
	blob   blobContent // Binary content, stored once the plan is allowed
}

// txPlan is a whole transaction ready to commit in one store commit.
type txPlan struct {
	entries []*txEntry
	changes []store.Change
	// pinned names the entry whose ifMatch fixed a resource's version: a
	// conflict on it fails the transaction instead of planning again.
	pinned map[string]*txEntry
}

// transaction runs a transaction Bundle: every entry or none. The entries
// are planned against the current state (ids assigned, references
// rewritten, resources validated and indexed, versions read), then all
// their changes go to the store in one atomic commit that compares every
// version read. When another client changed one of them in between, the
// whole transaction is planned again.
func (s *Service) transaction(ctx context.Context, b *inBundle, opts BundleOptions) Response {
	defer s.creating.lock(s.creationKeys(b)...)()
	for attempt := 0; attempt < maxTransactionAttempts; attempt++ {
		plan, r, ok := s.planTransaction(ctx, b, opts)
		if !ok {
			return r
		}
		written, err := s.commit(ctx, plan.changes)
		if err == nil {
			plan.changes = written
		}
		if r, ok := asDenied(err); ok {
			return r
		}
		var conflict *store.ConflictError
		if errors.As(err, &conflict) {
			if e := plan.pinned[conflict.Type+"/"+conflict.ID]; e != nil {
				return entryFailure(e.inEntry, preconditionFailed(conflict.Type, conflict.ID, conflict.Want, conflict.Have), "request.ifMatch")
			}
			continue
		}
		if err != nil {
			return s.internalError(ctx, "transaction", err)
		}
		return s.transactionResponse(ctx, plan, opts)
	}
	return fail(http.StatusConflict, fhir.CodeConflict, "the transaction's resources are being changed by too many clients at once; retry")
}

// creationKeys are the criteria of the transaction's conditional creates
// and conditional updates (which create when nothing matches), held for
// the whole transaction so that identical ones elsewhere wait for it.
func (s *Service) creationKeys(b *inBundle) []string {
	var keys []string
	for i := range b.entries {
		e := &b.entries[i]
		u, err := s.parseEntryURL(e.url)
		if err != nil {
			continue // the plan reports it
		}
		switch {
		case e.method == http.MethodPost && e.ifNoneExist != "" && len(u.segments) == 1:
			typ := u.segments[0]
			if c, err := parseCriteria(strings.TrimPrefix(strings.TrimPrefix(e.ifNoneExist, typ), "?")); err == nil {
				keys = append(keys, conditionKey(typ, c))
			}
		case e.method == http.MethodPut:
			if typ, c, ok := u.conditional(); ok {
				keys = append(keys, conditionKey(typ, c))
			}
		}
	}
	return keys
}

// processingOrder is the order the spec gives: DELETE, POST, PUT and
// PATCH, then GET and HEAD, each in request order.
func processingOrder(entries []inEntry) []int {
	rank := map[string]int{http.MethodDelete: 0, http.MethodPost: 1, http.MethodPut: 2, http.MethodPatch: 2, http.MethodGet: 3, http.MethodHead: 3}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rank[entries[a].method] - rank[entries[b].method] })
	return order
}

func (s *Service) planTransaction(ctx context.Context, b *inBundle, opts BundleOptions) (*txPlan, Response, bool) {
	plan := &txPlan{entries: make([]*txEntry, len(b.entries)), pinned: map[string]*txEntry{}}
	order := processingOrder(b.entries)
	ids := identities{}
	claimed := map[string]*txEntry{} // "Type/id" -> the entry that writes it
	claim := func(e *txEntry, key string) (Response, bool) {
		if other := claimed[key]; other != nil {
			return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeDuplicate,
				fmt.Sprintf("%s is also the target of entry %d; a transaction may touch each resource once", key, other.index)), "request"), false
		}
		claimed[key] = e
		return Response{}, true
	}
	fullURLs := map[string]int{}
	for i := range b.entries {
		e := &b.entries[i]
		if e.fullURL == "" {
			continue
		}
		if j, dup := fullURLs[e.fullURL]; dup {
			return nil, entryFailure(e, fail(http.StatusBadRequest, fhir.CodeDuplicate,
				fmt.Sprintf("fullUrl %q is also the fullUrl of entry %d", e.fullURL, j)), "fullUrl"), false
		}
		fullURLs[e.fullURL] = i
	}

	// First every entry's identity, so that references can be rewritten
	// whatever the order of the entries.
	for _, i := range order {
		e := &txEntry{inEntry: &b.entries[i]}
		plan.entries[i] = e
		if r, ok := s.resolveTarget(ctx, e, opts); !ok {
			return nil, r, false
		}
		switch e.op {
		case opRead:
			continue
		case opDelete:
			for _, v := range e.deletes {
				if r, ok := claim(e, v.Type+"/"+v.ID); !ok {
					return nil, r, false
				}
			}
			continue
		}
		if r, ok := claim(e, e.typ+"/"+e.id); !ok {
			return nil, r, false
		}
		if e.fullURL != "" {
			ids[e.fullURL] = e.typ + "/" + e.id
		}
		if e.ifMatch != "" {
			plan.pinned[e.typ+"/"+e.id] = e
		}
	}

	// Then the changes, all stamped with one time: parsed, validated,
	// rendered and indexed on every core, then put in processing order.
	now := s.now()
	refs := &refRewriter{s: s, ctx: ctx, ids: ids, resolved: map[string]string{}}
	if r, ok := s.planAll(ctx, plan, order, refs, now); !ok {
		return nil, r, false
	}
	if r, ok := s.authorizePlan(ctx, plan, order); !ok {
		return nil, r, false
	}
	if err := s.storePlanBlobs(ctx, plan); err != nil {
		return nil, s.internalError(ctx, "transaction", err), false
	}
	for _, i := range order {
		e := plan.entries[i]
		for _, c := range e.pending {
			e.changes = append(e.changes, len(plan.changes))
			plan.changes = append(plan.changes, c)
		}
		e.pending, e.pendingDocs = nil, nil
	}
	return plan, Response{}, true
}

// planAll runs planChanges for every entry on up to GOMAXPROCS goroutines.
// The failure reported is the one of the earliest entry in processing
// order, as a sequential run would report it: once an entry fails, only
// entries before it are still planned.
func (s *Service) planAll(ctx context.Context, plan *txPlan, order []int, refs *refRewriter, now time.Time) (Response, bool) {
	var (
		next     atomic.Int64
		firstBad atomic.Int64 // position in order of the earliest failure
		fails    = make([]Response, len(order))
		wg       sync.WaitGroup
	)
	firstBad.Store(int64(len(order)))
	workers := min(runtime.GOMAXPROCS(0), len(order))
	for range workers {
		wg.Go(func() {
			for {
				pos := next.Add(1) - 1
				if pos >= int64(len(order)) || pos > firstBad.Load() {
					return
				}
				if r, ok := s.planChanges(ctx, plan.entries[order[pos]], refs, now); !ok {
					fails[pos] = r
					for {
						bad := firstBad.Load()
						if pos >= bad || firstBad.CompareAndSwap(bad, pos) {
							break
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if bad := firstBad.Load(); bad < int64(len(order)) {
		return fails[bad], false
	}
	return Response{}, true
}

// resolveTarget decides what an entry does and to which resource: new ids
// for creates, the match of conditional creates, updates and deletes.
func (s *Service) resolveTarget(ctx context.Context, e *txEntry, opts BundleOptions) (Response, bool) {
	u, err := s.parseEntryURL(e.url)
	if err != nil {
		return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeValue, err.Error()), "request.url"), false
	}
	switch e.method {
	case http.MethodGet, http.MethodHead:
		rd, ok := s.readFor(u, SearchOptions{Strict: opts.Strict})
		if !ok {
			return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeNotSupported,
				fmt.Sprintf("request.url %q names no read, search or history interaction", e.url)), "request.url"), false
		}
		// Reads run after the commit; one the caller has no scope for
		// fails the transaction now, before anything is written.
		if r, ok := s.readAllowed(ctx, u); !ok {
			return entryFailure(e.inEntry, r, ""), false
		}
		e.op, e.rd = opRead, rd
		return Response{}, true

	case http.MethodPost:
		if len(u.segments) != 1 || u.hasQuery || !fhir.IsResourceType(u.segments[0]) {
			return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeValue,
				fmt.Sprintf("a POST entry's request.url must be a resource type, not %q", e.url)), "request.url"), false
		}
		e.typ = u.segments[0]
		if e.resType != e.typ {
			return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeInvalid,
				fmt.Sprintf("the resource is a %s but request.url is for %s", e.resType, e.typ)), "resource"), false
		}
		rights, r, ok := s.createRights(ctx, e.typ)
		if !ok {
			return entryFailure(e.inEntry, r, ""), false
		}
		e.rights = rights
		if e.ifNoneExist != "" {
			found, r, ok := s.conditionalMatch(ctx, e, e.typ, strings.TrimPrefix(strings.TrimPrefix(e.ifNoneExist, e.typ), "?"), "request.ifNoneExist")
			if !ok {
				return r, false
			}
			if found != nil {
				e.op, e.id, e.matched = opMatched, found.ID, found
				return Response{}, true
			}
		}
		e.op, e.id = opCreate, s.cfg.NewID()
		return Response{}, true

	case http.MethodPut, http.MethodPatch:
		e.op = opUpdate
		if e.method == http.MethodPatch {
			e.op = opPatch
		}
		typ, id, byID := u.typeAndID()
		ctyp, criteria, conditional := u.conditional()
		if conditional {
			typ = ctyp
		}
		if byID || conditional {
			rights, r, ok := s.updateRights(ctx, typ)
			if !ok {
				return entryFailure(e.inEntry, r, ""), false
			}
			e.rights = rights
		}
		if byID {
			e.typ, e.id = typ, id
		} else if conditional {
			e.typ = typ
			found, r, ok := s.conditionalMatch(ctx, e, typ, criteria.Encode(), "request.url")
			if !ok {
				return r, false
			}
			switch {
			case found != nil:
				e.id = found.ID
			case e.op == opPatch:
				return entryFailure(e.inEntry, fail(http.StatusNotFound, fhir.CodeNotFound,
					"the conditional patch's criteria match no resource"), "request.url"), false
			default:
				e.id = s.cfg.NewID()
			}
		} else {
			return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeValue,
				fmt.Sprintf("a %s entry's request.url must be Type/id or Type?criteria, not %q", e.method, e.url)), "request.url"), false
		}
		if e.op == opUpdate && e.resType != e.typ {
			return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeInvalid,
				fmt.Sprintf("the resource is a %s but request.url is for %s", e.resType, e.typ)), "resource"), false
		}
		return Response{}, true

	case http.MethodDelete:
		e.op = opDelete
		typ, id, byID := u.typeAndID()
		ctyp, criteria, conditional := u.conditional()
		if conditional {
			typ = ctyp
		}
		if byID || conditional {
			if typ == auditType {
				return entryFailure(e.inEntry, auditWriteRefused(), ""), false
			}
			dp, r, ok := s.permitFor(ctx, typ, access.Delete)
			if !ok {
				return entryFailure(e.inEntry, r, ""), false
			}
			e.del = dp
		}
		if byID {
			e.typ, e.id = typ, id
			cur, err := s.repo.Current(ctx, typ, id)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return s.internalError(ctx, "transaction", err), false
			case !cur.Deleted:
				e.deletes = []store.Version{*cur}
			}
			return Response{}, true
		}
		if !conditional {
			return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeValue,
				fmt.Sprintf("a DELETE entry's request.url must be Type/id or Type?criteria, not %q", e.url)), "request.url"), false
		}
		e.typ = typ
		found, r, ok := s.matches(ctx, typ, criteria, maxConditionalDelete)
		if !ok {
			return entryFailure(e.inEntry, r, "request.url"), false
		}
		if len(found) > maxConditionalDelete {
			return entryFailure(e.inEntry, fail(http.StatusPreconditionFailed, fhir.CodeTooLong,
				fmt.Sprintf("the criteria match more than %d resources; narrow them", maxConditionalDelete)), "request.url"), false
		}
		e.deletes = found
		return Response{}, true
	}
	return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeValue, "unsupported request.method"), "request.method"), false
}

// conditionalMatch runs a conditional create's or update's criteria: nil
// for no match, the match for one, a 412 failure for several.
func (s *Service) conditionalMatch(ctx context.Context, e *txEntry, typ, query, element string) (*store.Version, Response, bool) {
	criteria, err := parseCriteria(query)
	if err != nil {
		return nil, entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeValue, err.Error()), element), false
	}
	found, r, ok := s.matches(ctx, typ, criteria, 1)
	if !ok {
		return nil, entryFailure(e.inEntry, r, element), false
	}
	switch len(found) {
	case 0:
		return nil, Response{}, true
	case 1:
		return &found[0], Response{}, true
	}
	return nil, entryFailure(e.inEntry, fail(http.StatusPreconditionFailed, fhir.CodeDuplicate,
		"the criteria match more than one resource"), element), false
}

// planChanges builds an entry's store changes into e.pending. Entries are
// planned concurrently: it touches nothing but e (and refs, which locks).
func (s *Service) planChanges(ctx context.Context, e *txEntry, refs *refRewriter, now time.Time) (Response, bool) {
	add := func(c store.Change, doc map[string]any) {
		e.pending = append(e.pending, c)
		e.pendingDocs = append(e.pendingDocs, doc)
	}
	switch e.op {
	case opRead, opMatched:
		return Response{}, true
	case opDelete:
		for _, v := range e.deletes {
			add(store.Change{Type: v.Type, ID: v.ID, PrevVersion: v.VersionID, Version: v.VersionID + 1,
				LastUpdated: now, Method: store.MethodDelete, Deleted: true}, nil)
		}
		return Response{}, true
	}

	var prev int64
	if e.op != opCreate {
		cur, err := s.repo.Current(ctx, e.typ, e.id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return s.internalError(ctx, "transaction", err), false
		default:
			prev = cur.VersionID
			e.exists = !cur.Deleted
			if e.exists {
				e.cur = cur
			}
			if e.op == opPatch && e.exists {
				if r, ok := s.planPatch(e, cur, refs, now, add); !ok {
					return r, false
				}
				return s.checkPlanned(ctx, e)
			}
		}
		if e.op == opPatch {
			return entryFailure(e.inEntry, fail(http.StatusNotFound, fhir.CodeNotFound,
				fmt.Sprintf("%s/%s does not exist, so it cannot be patched", e.typ, e.id)), "request.url"), false
		}
		if r, ok := checkEntryIfMatch(e, prev); !ok {
			return r, false
		}
		if e.ifNoneMatch == "*" && e.exists {
			return entryFailure(e.inEntry, fail(http.StatusPreconditionFailed, fhir.CodeDuplicate,
				fmt.Sprintf("%s/%s exists and request.ifNoneMatch is *", e.typ, e.id)), "request.ifNoneMatch"), false
		}
	}

	raw, doc, rerr := refs.rewrite(e.resource, e.fullURL)
	if rerr != nil {
		return entryFailure(e.inEntry, rerr.resp, "resource"+refPath(rerr.path)), false
	}
	res, o := s.codec.ParseTree(raw, doc)
	if o != nil {
		return entryOutcome(e.inEntry, http.StatusBadRequest, o), false
	}
	if e.op == opUpdate && res.ID() != "" && res.ID() != e.id && !isConditionalURL(e.url) {
		return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeInvalid,
			fmt.Sprintf("the resource's id (%q) differs from the id in request.url (%q)", res.ID(), e.id)), "resource.id"), false
	}
	res.SetID(e.id)
	method := store.MethodCreate
	if e.op == opUpdate {
		method = store.MethodUpdate
	}
	blob, r, ok := s.takeBinary(res)
	if !ok {
		return entryFailure(e.inEntry, r, "resource"), false
	}
	e.blob = blob
	c, err := s.prepareVersion(res, e.id, prev, method, "", now)
	if err != nil {
		return s.internalError(ctx, "transaction", err), false
	}
	add(c, res.Tree())
	return s.checkPlanned(ctx, e)
}

// checkPlanned runs the WriteCheckers on an entry's planned versions; a
// refusal names the entry.
func (s *Service) checkPlanned(ctx context.Context, e *txEntry) (Response, bool) {
	for i, c := range e.pending {
		if r, ok := asDenied(s.checkWrite(ctx, c, e.pendingDocs[i])); ok {
			return entryOutcome(e.inEntry, r.Status, r.Outcome), false
		}
	}
	return Response{}, true
}

// planPatch applies a PATCH entry's patch (a Binary holding a JSON Patch,
// or a Parameters holding a FHIRPath Patch) to the current version.
func (s *Service) planPatch(e *txEntry, cur *store.Version, refs *refRewriter, now time.Time, add func(store.Change, map[string]any)) (Response, bool) {
	if r, ok := checkEntryIfMatch(e, cur.VersionID); !ok {
		return r, false
	}
	if e.typ == "Binary" {
		return entryFailure(e.inEntry, fail(http.StatusMethodNotAllowed, fhir.CodeNotSupported, "Binary content is replaced with PUT, not patched"), "request.method"), false
	}
	patched, r, ok := entryPatch(e.typ, e.inEntry, cur.Body)
	if !ok {
		return entryFailure(e.inEntry, r, "resource"), false
	}
	patched, doc, rerr := refs.rewrite(patched, e.fullURL)
	if rerr != nil {
		return entryFailure(e.inEntry, rerr.resp, "resource"+refPath(rerr.path)), false
	}
	res, o := s.codec.ParseTree(patched, doc)
	if o != nil {
		o.Issue = append([]fhir.Issue{{Severity: fhir.SeverityError, Code: fhir.CodeProcessing,
			Diagnostics: "the patch would make the resource invalid", Expression: []string{e.path()}}}, o.Issue...)
		return failure(http.StatusUnprocessableEntity, o), false
	}
	if res.Type() != e.typ || res.ID() != e.id {
		return entryFailure(e.inEntry, fail(http.StatusUnprocessableEntity, fhir.CodeProcessing, "a patch may not change the resource type or id"), "resource"), false
	}
	c, err := s.prepareVersion(res, e.id, cur.VersionID, store.MethodPatch, cur.BlobRef, now)
	if err != nil {
		return s.internalError(context.Background(), "transaction", err), false
	}
	add(c, res.Tree())
	return Response{}, true
}

func checkEntryIfMatch(e *txEntry, have int64) (Response, bool) {
	if e.ifMatch == "" {
		return Response{}, true
	}
	want, ok := ParseETag(e.ifMatch)
	if !ok {
		return entryFailure(e.inEntry, fail(http.StatusBadRequest, fhir.CodeValue,
			fmt.Sprintf("ifMatch %q is not a version ETag such as W/\"3\"", e.ifMatch)), "request.ifMatch"), false
	}
	if want != have {
		return entryFailure(e.inEntry, preconditionFailed(e.typ, e.id, want, have), "request.ifMatch"), false
	}
	return Response{}, true
}

func isConditionalURL(u string) bool { return strings.Contains(u, "?") }

func refPath(path []string) string {
	var b strings.Builder
	for i := len(path) - 1; i >= 0; i-- {
		if !strings.HasPrefix(path[i], "[") {
			b.WriteByte('.')
		}
		b.WriteString(path[i])
	}
	return b.String()
}

// transactionResponse answers a committed transaction: a
// transaction-response Bundle with an entry per request entry, in request
// order. GET and HEAD entries run now, after the writes, as the spec
// orders.
func (s *Service) transactionResponse(ctx context.Context, plan *txPlan, opts BundleOptions) Response {
	out := s.newBundle("transaction-response")
	out.Entry = make([]bundleEntry, len(plan.entries))
	var touched []string
	for i, e := range plan.entries {
		var resp Response
		switch e.op {
		case opRead:
			resp = runRead(ctx, e.inEntry, e.rd)
		case opMatched:
			resp = s.versionResponse(ctx, e.matched)
			resp.Location = s.versionURL(e.typ, e.matched.ID, e.matched.VersionID)
			resp.Touched = []string{e.typ + "/" + e.matched.ID}
		case opDelete:
			resp = Response{Status: http.StatusNoContent}
			if n := len(e.changes); n == 1 {
				c := plan.changes[e.changes[0]]
				resp.Version, resp.LastUpdated = c.Version, c.LastUpdated
			}
		default:
			c := plan.changes[e.changes[0]]
			var err error
			if resp, err = s.committed(ctx, c); err != nil {
				return s.internalError(ctx, "transaction response", err)
			}
			if e.op == opCreate || (e.op == opUpdate && !e.exists) {
				resp.Status = http.StatusCreated
			}
		}
		out.Entry[i] = s.responseEntry(resp, opts)
		touched = append(touched, resp.Touched...)
		if e.op == opDelete {
			for _, v := range e.deletes {
				touched = append(touched, v.Type+"/"+v.ID)
			}
		}
	}
	body, err := marshalBundle(out)
	if err != nil {
		return s.internalError(ctx, "transaction response", err)
	}
	return Response{Status: http.StatusOK, Body: body, Touched: touched}
}

// entryFailure is a failure of the whole Bundle caused by entry e: its
// issues name the entry (element below it, when given).
func entryFailure(e *inEntry, r Response, element string) Response {
	if r.Outcome == nil {
		return r
	}
	at := e.path()
	if element != "" {
		at += "." + element
	}
	o := &fhir.Outcome{ResourceType: "OperationOutcome"}
	for _, is := range r.Outcome.Issue {
		if len(is.Expression) == 0 {
			is.Expression = []string{at}
		}
		is.Diagnostics = fmt.Sprintf("entry %d: %s", e.index, is.Diagnostics)
		o.Issue = append(o.Issue, is)
	}
	return failure(r.Status, o)
}

// entryOutcome re-roots the parser's issues about an entry's resource
// ("Patient.name[0]") under the entry ("Bundle.entry[3].resource.name[0]").
func entryOutcome(e *inEntry, status int, o *fhir.Outcome) Response {
	root := e.path() + ".resource"
	out := &fhir.Outcome{ResourceType: "OperationOutcome"}
	for _, is := range o.Issue {
		exprs := make([]string, len(is.Expression))
		for k, x := range is.Expression {
			exprs[k] = reroot(x, e.resType, root)
		}
		if len(exprs) == 0 {
			exprs = []string{root}
		}
		is.Expression = exprs
		is.Diagnostics = fmt.Sprintf("entry %d: %s", e.index, is.Diagnostics)
		out.Issue = append(out.Issue, is)
	}
	return failure(status, out)
}

func reroot(expr, typ, root string) string {
	switch {
	case expr == typ:
		return root
	case strings.HasPrefix(expr, typ+"."):
		return root + expr[len(typ):]
	case strings.HasPrefix(expr, typ+"["):
		return root + expr[len(typ):]
	}
	return root + "." + expr
}
