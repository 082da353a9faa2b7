package suite

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCompareOp(t *testing.T) {
	for _, tc := range []struct {
		op       string
		actual   []string
		expected string
		ok       bool
	}{
		{"equals", []string{"201"}, "201", true},
		{"equals", []string{"200"}, "201", false},
		{"equals", nil, "", false},
		{"equals", []string{"Peter", "James"}, "Peter", true}, // the first value, as XPath engines read it
		{"notEquals", []string{"a"}, "b", true},
		{"notEquals", []string{"a"}, "a", false},
		{"notEquals", nil, "a", true},
		{"in", []string{"204"}, "200,204", true},
		{"in", []string{"204"}, "200, 204", true},
		{"in", []string{"404"}, "200,204", false},
		{"in", nil, "200,204", false},
		{"notIn", []string{"404"}, "200,204", true},
		{"notIn", []string{"200"}, "200,204", false},
		{"greaterThan", []string{"10"}, "9", true}, // numbers by value, not as text
		{"greaterThan", []string{"9"}, "10", false},
		{"greaterThan", []string{"2021-01-02"}, "2021-01-01", true},
		{"lessThan", []string{"1.5"}, "2", true},
		{"lessThan", []string{"3"}, "2", false},
		{"lessThan", nil, "2", false},
		{"empty", nil, "", true},
		{"empty", []string{"x"}, "", false},
		{"notEmpty", []string{"x"}, "", true},
		{"notEmpty", nil, "", false},
		{"contains", []string{"http://x/Patient/1/_history/1"}, "_history/1", true},
		{"contains", []string{"a", "bcd"}, "c", true}, // any value
		{"contains", []string{"a"}, "b", false},
		{"notContains", []string{"Patient/1"}, "urn:uuid", true},
		{"notContains", []string{"x", "urn:uuid:1"}, "urn:uuid", false},
		{"eval", []string{"true"}, "", true},
		{"eval", []string{"false"}, "", false},
	} {
		ok, want, err := compareOp(tc.op, tc.actual, tc.expected)
		if err != nil || ok != tc.ok {
			t.Errorf("%s %v %q = %v (%s), %v; want %v", tc.op, tc.actual, tc.expected, ok, want, err, tc.ok)
		}
	}
	if _, _, err := compareOp("approximately", []string{"1"}, "1"); err == nil {
		t.Error("unknown operator accepted")
	}
}

func TestVerdictSaysExpectedAndGot(t *testing.T) {
	ex := &exchange{json: map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{"code": "invalid", "diagnostics": "gender: unknown code"}}}}
	st, msg, _ := verdict("", "equals", []string{"400"}, "201", "response code", ex)
	if st != Fail || msg != "response code: expected 201, got 400 (OperationOutcome: invalid: gender: unknown code)" {
		t.Errorf("%s %q", st, msg)
	}
	st, msg, _ = verdict("notEmpty", "", nil, "", "header ETag", nil)
	if st != Fail || msg != "header ETag: expected a value, got nothing" {
		t.Errorf("%s %q", st, msg)
	}
	st, msg, _ = verdict("", "equals", []string{"a", "b"}, "c", "x", nil)
	if st != Fail || msg != `x: expected "c", got ["a","b"]` {
		t.Errorf("%s %q", st, msg)
	}
}

func TestToFHIRPath(t *testing.T) {
	for in, want := range map[string]string{
		"fhir:Patient/fhir:name/fhir:family/@value": "Patient.name.family",
		"fhir:Bundle/fhir:type/@value":              "Bundle.type",
		"Patient/id":                                "Patient.id",
		"/fhir:Bundle/fhir:entry[2]/fhir:fullUrl":   "Bundle.entry[1].fullUrl",
		"$.entry[0].resource":                       "entry[0].resource",
		"Patient.name.given":                        "Patient.name.given",
	} {
		if got := toFHIRPath(in); got != want {
			t.Errorf("toFHIRPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEvalExpr(t *testing.T) {
	body := decodeJSON([]byte(`{"resourceType":"Bundle","type":"searchset","total":2,
		"entry":[{"resource":{"resourceType":"Patient","id":"a","birthDate":"1970-01-02"}},{"resource":{"resourceType":"Patient","id":"b"}}],
		"link":[{"relation":"self","url":"http://x/Patient"}]}`))
	for expr, want := range map[string]string{
		"Bundle.type":          `["searchset"]`,
		"Bundle.entry.count()": `[2]`,
		"Bundle.total.toInteger() >= entry.count()":              `[true]`,
		"Bundle.total.toInteger() > entry.count()":               `[false]`,
		"Bundle.entry.count() < 3":                               `[true]`,
		"Bundle.entry.count() <= 1":                              `[false]`,
		"Bundle.total.toString()":                                `["2"]`,
		"Bundle.type.toInteger()":                                `[]`,
		"Bundle.missing >= 1":                                    `[]`, // empty compares to empty
		"Bundle.total.empty() or Bundle.total.toInteger() >= 1":  `[true]`,
		"Bundle.entry.count() > 1 and Bundle.type = 'searchset'": `[true]`,
		"Bundle.entry.resource.where(id = 'a').birthDate":        `["1970-01-02"]`,
		"Bundle.entry.resource.where(birthDate > '1960').id":     `["a"]`, // fhir/fhirpath compares natively
		"Bundle.link.where(relation = 'next').url":               `[]`,
	} {
		got, err := evalExpr(expr, body)
		var s string
		if err != nil {
			s = "error"
		} else {
			b, _ := json.Marshal(got)
			s = string(b)
		}
		if s != want {
			t.Errorf("%s = %s (%v), want %s", expr, s, err, want)
		}
	}
	if _, err := evalExpr("Patient.id", nil); err == nil {
		t.Error("evaluated on no body")
	}
}

func TestSplitTop(t *testing.T) {
	for in, want := range map[string][]string{
		"a >= b":               {"a", "b"},
		"a.where(x >= 1)":      {"a.where(x >= 1)"},
		"'x >= y' = a":         {"'x >= y' = a"},
		"count() >= `a>=b`":    {"count()", "`a>=b`"},
		"a != b":               {"a != b"},
		"total.toInteger()>=1": {"total.toInteger()", "1"},
	} {
		if got := splitTop(in, ">="); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("splitTop(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeQuery(t *testing.T) {
	for in, want := range map[string]string{
		"http://x/Patient?identifier=urn:sys|1":              "http://x/Patient?identifier=urn:sys%7C1",
		"http://x/Patient?name=a b&given=c":                  "http://x/Patient?name=a%20b&given=c",
		"http://x/Obs?date=ge2020-01-01T00:00:00+01:00":      "http://x/Obs?date=ge2020-01-01T00:00:00%2B01:00",
		"http://x/Patient?identifier=urn:sys%7C1":            "http://x/Patient?identifier=urn:sys%7C1", // already encoded: kept
		"http://x/Patient?_has:Observation:patient:code=1,2": "http://x/Patient?_has:Observation:patient:code=1,2",
		"http://x/Patient/1":                                 "http://x/Patient/1",
		"http://x/Patient?flag":                              "http://x/Patient?flag",
	} {
		if got := encodeQuery(in); got != want {
			t.Errorf("encodeQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRefFromLocation(t *testing.T) {
	for _, tc := range []struct{ loc, ref, vid string }{
		{"http://h/fhir/Patient/1/_history/2", "Patient/1", "2"},
		{"http://h/fhir/Patient/1", "Patient/1", ""},
		{"Patient/abc/_history/7", "Patient/abc", "7"},
		{"http://elsewhere/r4/Observation/9/_history/1", "Observation/9", "1"},
	} {
		ref, vid := refFromLocation(tc.loc, "http://h/fhir")
		if ref != tc.ref || vid != tc.vid {
			t.Errorf("refFromLocation(%q) = %q, %q; want %q, %q", tc.loc, ref, vid, tc.ref, tc.vid)
		}
	}
	if v := etagVersion(`W/"12"`); v != "12" {
		t.Errorf("etagVersion = %q", v)
	}
}

func TestMinimum(t *testing.T) {
	want := decodeJSON([]byte(`{"resourceType":"Patient","id":"template","meta":{"versionId":"9"},"name":[{"family":"Chalmers","given":["Peter"]}],"active":true,"multipleBirthInteger":2}`))
	got := decodeJSON([]byte(`{"resourceType":"Patient","id":"123","meta":{"versionId":"1"},"name":[{"use":"usual","given":["Jim"]},{"family":"Chalmers","given":["Peter","James"]}],"active":true,"multipleBirthInteger":2.0,"gender":"male"}`))
	if miss := minimum(want, got); miss != "" {
		t.Errorf("minimum: %s", miss)
	}
	got["active"] = false
	if miss := minimum(want, got); miss != `Patient.active: expected "true", got "false"` {
		t.Errorf("minimum: %q", miss)
	}
	delete(got, "name")
	got["active"] = true
	if miss := minimum(want, got); miss != "Patient.name[0]: no matching item in the response" {
		t.Errorf("minimum: %q", miss)
	}
}

func TestNavigationLinks(t *testing.T) {
	for body, want := range map[string]string{
		`{"resourceType":"Bundle","link":[{"relation":"self","url":"http://x/P"}]}`:                                                                   "",
		`{"resourceType":"Bundle","total":3,"entry":[{}],"link":[{"relation":"self","url":"http://x/P"}]}`:                                            "total is 3 with 1 matches on this page, and no next link",
		`{"resourceType":"Bundle","total":3,"entry":[{}],"link":[{"relation":"self","url":"http://x/P"},{"relation":"next","url":"http://x/P?p=2"}]}`: "",
		`{"resourceType":"Bundle","link":[]}`:                               "expected a self link, got none",
		`{"resourceType":"Bundle","link":[{"relation":"self","url":"/P"}]}`: `link[0] needs a relation and an absolute url, got map[relation:self url:/P]`,
		`{"resourceType":"Patient"}`:                                        "expected a Bundle, got Patient",
	} {
		if got := navigationLinks(decodeJSON([]byte(body))); got != want {
			t.Errorf("navigationLinks(%s) = %q, want %q", body, got, want)
		}
	}
}

// newScriptRun is a scriptRun on a parsed script, for unit tests.
func newScriptRun(t *testing.T, opts Options, script string) *scriptRun {
	t.Helper()
	ts, err := ParseTestScript([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	sr := &scriptRun{r: &runner{opts: opts, base: opts.Base, runID: "run1"}, ts: ts, fixtures: map[string]*fixture{}, vars: map[string]Variable{}}
	for _, v := range ts.Variable {
		sr.vars[v.Name] = v
	}
	sr.loadFixtures()
	return sr
}

func TestVariables(t *testing.T) {
	sr := newScriptRun(t, Options{Base: "http://x", Vars: map[string]string{"given": "from-caller", "overridden": "caller wins"}}, `{
		"resourceType":"TestScript","test":[{"action":[{"operation":{"responseId":"created"}}]}],
		"contained":[{"resourceType":"Patient","id":"p","name":[{"family":"F-${runId}"}]}],
		"fixture":[{"id":"p","resource":{"reference":"#p"}},{"id":"gone","resource":{"reference":"Patient/example"}}],
		"variable":[
			{"name":"def","defaultValue":"d-${runId}"},
			{"name":"overridden","defaultValue":"script"},
			{"name":"family","path":"fhir:Patient/fhir:name/fhir:family/@value","sourceId":"p"},
			{"name":"loc","headerField":"Location","sourceId":"created"},
			{"name":"lastId","expression":"Patient.id"},
			{"name":"hinted","hint":"[a family name]"},
			{"name":"fromMissing","expression":"Patient.id","sourceId":"gone"},
			{"name":"nothing","expression":"Patient.birthDate","sourceId":"p"},
			{"name":"loopA","defaultValue":"${loopB}"},
			{"name":"loopB","defaultValue":"${loopA}"}
		]}`)
	check := func(in, want string, st Status) {
		t.Helper()
		got, err := sr.subst(in)
		if st != "" {
			if err == nil || statusOf(err) != st {
				t.Errorf("subst(%q) = %q, %v; want a %s", in, got, err, st)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("subst(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	check("no variables", "no variables", "")
	check("${runId}/${def}", "run1/d-run1", "")
	check("${given} ${overridden}", "from-caller caller wins", "")
	check("${family}", "F-run1", "") // fixture contents are substituted too
	check("${baseUrl}", "http://x", "")
	check("${receiverUrl}", "", Skip)
	check("${hinted}", "", Skip)
	check("${fromMissing}", "", Skip) // fixture not loaded
	check("${loc}", "", Skip)         // the create has not run
	check("${lastId}", "", Fail)      // no response yet
	check("${undeclared}", "", Fail)
	check("${nothing}", "", Fail)
	check("${loopA}", "", Fail)

	_, err := sr.subst("${hinted}")
	if !strings.Contains(err.Error(), "hint: [a family name]") || !strings.Contains(err.Error(), "--var hinted=VALUE") {
		t.Errorf("hint message: %v", err)
	}
	_, err = sr.subst("${fromMissing}")
	if !strings.Contains(err.Error(), "fixture reference Patient/example: not loaded") {
		t.Errorf("missing fixture message: %v", err)
	}

	// After an operation, variables read its response.
	ex := &exchange{status: 201, header: http.Header{"Location": {"http://x/Patient/7/_history/1"}}, json: map[string]any{"resourceType": "Patient", "id": "7"}}
	sr.keep(&Operation{ResponseID: "created"}, ex)
	check("${loc}", "http://x/Patient/7/_history/1", "")
	check("${lastId}", "7", "")
}

// fakeServer answers from a table of "METHOD path" to status and body,
// with 404 for anything else.
func fakeServer(t *testing.T, routes map[string]func(w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := routes[r.Method+" "+r.URL.Path]; ok {
			h(w, r)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func reply(status int, body string, headers ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestRunOutcomes(t *testing.T) {
	var gotAuth, gotQuery, gotBody string
	base := fakeServer(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /metadata": reply(200, `{"resourceType":"CapabilityStatement","rest":[{"mode":"server"}]}`),
		"GET /Patient/1": func(w http.ResponseWriter, r *http.Request) {
			gotAuth = r.Header.Get("Authorization")
			reply(200, `{"resourceType":"Patient","id":"1","name":[{"family":"Chalmers"}]}`, "ETag", `W/"1"`)(w, r)
		},
		"GET /Patient": func(w http.ResponseWriter, r *http.Request) {
			gotQuery = r.URL.RawQuery
			reply(200, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://x/Patient"}]}`)(w, r)
		},
		"PUT /Patient/1": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			gotBody = string(b)
			reply(200, string(b))(w, r)
		},
	})
	script := `{"resourceType":"TestScript","id":"outcomes",
		"contained":[{"resourceType":"Patient","id":"tmpl","name":[{"family":"Chalmers"}]}],
		"fixture":[{"id":"tmpl","autocreate":false,"autodelete":false,"resource":{"reference":"#tmpl"}},
		           {"id":"absent","autocreate":false,"autodelete":false,"resource":{"reference":"Patient/example"}}],
		"variable":[{"name":"who","hint":"[someone]"}],
		"test":[
		{"id":"pass-with-notes","action":[
			{"operation":{"type":{"code":"read"},"resource":"Patient","params":"/1","accept":"xml"}},
			{"assert":{"response":"okay","warningOnly":false}},
			{"assert":{"contentType":"xml","warningOnly":false}},
			{"assert":{"validateProfileId":"p","warningOnly":false}},
			{"assert":{"headerField":"Last-Modified","operator":"notEmpty","warningOnly":true}},
			{"assert":{"path":"fhir:Patient/fhir:name/fhir:family/@value","value":"Chalmers","warningOnly":false}},
			{"assert":{"requestMethod":"get","warningOnly":false}}]},
		{"id":"fail-stops","action":[
			{"operation":{"type":{"code":"read"},"resource":"Patient","params":"/1"}},
			{"assert":{"description":"It is created.","response":"created","warningOnly":false}},
			{"assert":{"resource":"Patient","warningOnly":false}}]},
		{"id":"fixture-missing","action":[
			{"operation":{"type":{"code":"create"},"resource":"Patient","sourceId":"absent"}},
			{"assert":{"response":"created","warningOnly":false}}]},
		{"id":"variable-missing","action":[
			{"operation":{"type":{"code":"search"},"resource":"Patient","params":"?name=${who}"}},
			{"assert":{"response":"okay","warningOnly":false}}]},
		{"id":"multisystem","action":[
			{"operation":{"type":{"code":"read"},"resource":"Patient","params":"/1","destination":2}},
			{"assert":{"response":"okay","warningOnly":false}}]},
		{"id":"requirement","extension":[{"url":"` + RequiresExtension + `","extension":[
			{"url":"expression","valueString":"CapabilityStatement.rest.security.exists()"},
			{"url":"reason","valueString":"server does not advertise security"}]}],
		 "action":[{"operation":{"type":{"code":"read"},"resource":"Patient","params":"/1"}}]},
		{"id":"encode-and-token","action":[
			{"operation":{"type":{"code":"search"},"resource":"Patient","params":"?identifier=urn:x|${runId}","encodeRequestUrl":true}},
			{"assert":{"requestURL":"identifier=urn:x%7Cfixed","operator":"contains","warningOnly":false}},
			{"assert":{"navigationLinks":true,"warningOnly":false}}]},
		{"id":"update-template","action":[
			{"operation":{"type":{"code":"update"},"resource":"Patient","params":"/1","sourceId":"tmpl"}},
			{"assert":{"expression":"Patient.id","value":"1","warningOnly":false}},
			{"assert":{"compareToSourceId":"tmpl","compareToSourceExpression":"Patient.name.family","warningOnly":false}}]}
		]}`
	ts, err := ParseTestScript([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(t.Context(), Options{Base: base, Token: "secret", RunID: "fixed"}, []Script{{File: "inline", TestScript: ts}})
	want := map[string]struct {
		st  Status
		msg string
	}{
		"pass-with-notes":  {Pass, ""},
		"fail-stops":       {Fail, "It is created: response code: expected 201 (created), got 200"},
		"fixture-missing":  {Skip, "sourceId absent: fixture reference Patient/example: not loaded"},
		"variable-missing": {Skip, "variable ${who} has no value (hint: [someone]): give it one with --var who=VALUE"},
		"multisystem":      {Skip, "multisystem: destination 2 is another server; the runner drives one server (destination 1)"},
		"requirement":      {Skip, "server does not advertise security"},
		"encode-and-token": {Pass, ""},
		"update-template":  {Pass, ""},
	}
	for id, w := range want {
		tr := rep.Test("outcomes", id)
		if tr == nil {
			t.Errorf("%s: no result", id)
			continue
		}
		if tr.Status != w.st || tr.Message != w.msg {
			t.Errorf("%s: %s %q, want %s %q", id, tr.Status, tr.Message, w.st, w.msg)
		}
	}
	notes := strings.Join(rep.Test("outcomes", "pass-with-notes").Notes, "\n")
	for _, n := range []string{"skipped: format xml: the runner speaks JSON only", "skipped: no profile validation in the runner (profile p)", "warning: assert: header Last-Modified: expected a value, got nothing"} {
		if !strings.Contains(notes, n) {
			t.Errorf("notes %q lack %q", notes, n)
		}
	}
	if acts := rep.Test("outcomes", "fail-stops").Actions; acts[2].Status != Skip || acts[2].Message != "not run: an earlier step failed" {
		t.Errorf("after a failure: %+v", acts[2])
	}
	if gotAuth != "Bearer secret" {
		t.Errorf("Authorization %q", gotAuth)
	}
	if gotQuery != "identifier=urn:x%7Cfixed" {
		t.Errorf("query %q", gotQuery)
	}
	if !strings.Contains(gotBody, `"id":"1"`) {
		t.Errorf("update body %s: the fixture's id should be the URL's", gotBody)
	}
	if rep.Scripts[0].Duration <= 0 || rep.Duration < rep.Scripts[0].Duration {
		t.Errorf("durations: run %s, script %s", rep.Duration, rep.Scripts[0].Duration)
	}
	if c := rep.Counts(); c != (Counts{Pass: 3, Fail: 1, Skip: 4}) {
		t.Errorf("counts %+v", c)
	}
}

func TestFilter(t *testing.T) {
	base := fakeServer(t, map[string]func(http.ResponseWriter, *http.Request){"GET /metadata": reply(200, `{"resourceType":"CapabilityStatement"}`)})
	scripts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(t.Context(), Options{Base: base, Filter: regexpMust(`^capabilities/(metadata|rest-server)$`)}, scripts)
	if len(rep.Scripts) != 1 || len(rep.Scripts[0].Tests) != 2 {
		t.Fatalf("filtered run: %+v", rep.Scripts)
	}
}

func TestLoadDirWithFixtureFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mine.json", `{"resourceType":"TestScript","id":"mine",
		"fixture":[{"id":"p","autocreate":false,"autodelete":false,"resource":{"reference":"Patient/mine"}}],
		"test":[{"id":"create","action":[
			{"operation":{"type":{"code":"create"},"resource":"Patient","sourceId":"p","encodeRequestUrl":true}},
			{"assert":{"response":"created","warningOnly":false}},
			{"assert":{"minimumId":"p","warningOnly":false}}]}]}`)
	write("Patient/mine.json", `{"resourceType":"Patient","name":[{"family":"Mine-${runId}"}]}`)
	write("notes.json", `{"not":"a script"}`)
	scripts, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) != 1 {
		t.Fatalf("%d scripts", len(scripts))
	}
	var sent string
	base := fakeServer(t, map[string]func(http.ResponseWriter, *http.Request){
		"POST /Patient": func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			sent = string(b)
			reply(201, strings.Replace(string(b), "{", `{"id":"9",`, 1), "Location", "/Patient/9/_history/1")(w, r)
		},
	})
	rep := Run(t.Context(), Options{Base: base, RunID: "r7"}, scripts)
	if tr := rep.Test("mine", "create"); tr == nil || tr.Status != Pass {
		t.Fatalf("result %+v", tr)
	}
	if !strings.Contains(sent, "Mine-r7") {
		t.Errorf("sent %s", sent)
	}
	if _, err := LoadDir(filepath.Join(dir, "Patient")); err == nil {
		t.Error("a directory without scripts loaded")
	}
	write("broken.json", `{"resourceType":"TestScript","test":[]}`)
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("broken script: %v", err)
	}
}

func sampleReport() *Report {
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Report{Base: "http://fhir.example", RunID: "r1", Started: start, Duration: 1500 * time.Millisecond, Scripts: []ScriptResult{
		{ID: "crud", Name: "CRUD", URL: "http://x/TestScript/crud", File: "builtin:crud.json", Started: start,
			Setup: &SectionResult{Status: Pass, Actions: []ActionResult{{Kind: "operation", Label: "create", Status: Pass, Message: "POST http://fhir.example/Patient -> 201"}}},
			Tests: []TestResult{
				{ID: "read", Status: Pass, Notes: []string{"skipped: no profile validation in the runner (profile p)"}, Actions: []ActionResult{{Kind: "operation", Label: "read", Status: Pass, Message: "GET ... -> 200"}, {Kind: "assert", Label: "ok", Status: Pass}}},
				{ID: "etag", Status: Fail, Message: `ETag: header ETag: expected "W/\"1\"", got nothing`, Actions: []ActionResult{{Kind: "assert", Label: "ETag", Status: Fail, Message: `header ETag: expected "W/\"1\"", got nothing`}}},
			}},
		{ID: "smart", Started: start, Tests: []TestResult{{ID: "discovery", Status: Skip, Message: "server does not advertise SMART", Actions: []ActionResult{{Kind: "operation", Label: "read", Status: Skip, Message: "server does not advertise SMART"}}}}},
	}}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"SCRIPT  TEST       RESULT  DETAIL",
		"crud    read       pass    skipped: no profile validation in the runner (profile p)",
		`crud    etag       FAIL    ETag: header ETag: expected "W/\"1\"", got nothing`,
		"smart   discovery  skip    server does not advertise SMART",
		"3 tests: 1 passed, 1 failed, 1 skipped against http://fhir.example in 1.5s (run r1)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestJUnitXML(t *testing.T) {
	b, err := sampleReport().JUnitXML()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 2 {
		t.Fatalf("totals %+v", doc)
	}
	c := doc.Suites[0].Cases
	if len(c) != 2 || c[1].Failure == nil || !strings.Contains(c[1].Failure.Message, "got nothing") || c[0].Failure != nil {
		t.Errorf("crud cases %+v", c)
	}
	if s := doc.Suites[1].Cases[0].Skipped; s == nil || s.Message != "server does not advertise SMART" {
		t.Errorf("skipped case %+v", doc.Suites[1].Cases[0])
	}
}

func TestTestReports(t *testing.T) {
	trs := sampleReport().TestReports()
	if len(trs) != 2 {
		t.Fatalf("%d reports", len(trs))
	}
	crud, smart := trs[0], trs[1]
	if crud["result"] != "fail" || fmtJSON(crud["score"]) != "50.0" || fmtJSON(crud["testScript"]) != `{"display":"CRUD","reference":"http://x/TestScript/crud"}` {
		t.Errorf("crud report %v", crud)
	}
	tests := crud["test"].([]any)
	if got := fmtJSON(tests[1]); got != `{"action":[{"assert":{"message":"ETag: header ETag: expected \"W/\\\"1\\\"\", got nothing","result":"fail"}}],"name":"etag"}` {
		t.Errorf("etag test %s", got)
	}
	if smart["result"] != "pending" || smart["score"] != nil {
		t.Errorf("smart report %v", smart)
	}
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestReceiver(t *testing.T) {
	rc := NewReceiver()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	get := func(q string) map[string]any {
		resp, err := http.Get(srv.URL + "/_received?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return decodeJSON(b)
	}
	if got := get("min=1&wait=10ms"); fmtJSON(got["total"]) != "0" {
		t.Errorf("empty receiver: %v", got)
	}
	done := make(chan map[string]any)
	go func() { done <- get("path=/hook/r1&min=2&wait=5s") }()
	post := func(path, ct, body string) {
		resp, err := http.Post(srv.URL+path, ct, strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}
	post("/hook/other", "application/fhir+json", `{"resourceType":"Bundle","type":"history"}`)
	post("/hook/r1", "application/fhir+json", `{"resourceType":"Bundle","type":"history"}`)
	post("/hook/r1", "text/plain", "ping")
	var got map[string]any
	select {
	case got = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting GET did not return")
	}
	if fmtJSON(got["total"]) != "2" {
		t.Fatalf("received %v", got)
	}
	entries := got["entry"].([]any)
	if r := entries[0].(map[string]any)["resource"].(map[string]any); r["type"] != "history" {
		t.Errorf("first entry %v", r)
	}
	if r := entries[1].(map[string]any)["resource"].(map[string]any); r["resourceType"] != "Binary" || r["contentType"] != "text/plain" {
		t.Errorf("second entry %v", r)
	}
	if n := len(rc.Notifications()); n != 3 {
		t.Errorf("%d notifications", n)
	}
	resp, _ := http.Head(srv.URL + "/hook/r1")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD: %d", resp.StatusCode)
	}
}

func TestStatusOf(t *testing.T) {
	if statusOf(skipf("x")) != Skip || statusOf(failf("x")) != Fail || statusOf(errors.New("x")) != Error {
		t.Error("statusOf")
	}
}

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// TestAdvertisedFeaturesOnAFakeServer runs the SMART and subscription
// scripts, which skip on Telederm today, against a fake server that
// advertises both: the scripts and the receiver work end to end.
func TestAdvertisedFeaturesOnAFakeServer(t *testing.T) {
	rc := NewReceiver()
	receiver := httptest.NewServer(rc)
	defer receiver.Close()
	var base string
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := LoadClientKey("backend", privateJWK(t, key, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	issued := map[string]string{} // access token -> scope
	var assertions int
	// bearer answers a FHIR search as a SMART server would: 401 for tokens
	// it never issued, 403 when the token's scope does not cover the type.
	bearer := func(typ string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			scope, ok := issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
			switch {
			case !ok:
				reply(401, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login"}]}`, "WWW-Authenticate", `Bearer error="invalid_token"`)(w, r)
			case !strings.Contains(scope, "/"+typ+".") && !strings.Contains(scope, "/*."):
				reply(403, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden"}]}`, "WWW-Authenticate", `Bearer error="insufficient_scope"`)(w, r)
			default:
				reply(200, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			}
		}
	}
	base = fakeServer(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /metadata": reply(200, `{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{"mode":"server",
			"security":{"service":[{"coding":[{"code":"SMART-on-FHIR"}]}],"extension":[{"url":"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"}]},
			"resource":[{"type":"Subscription","extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical","valueCanonical":"http://example.org/topic/patient"}]}]}]}`),
		"GET /.well-known/smart-configuration": func(w http.ResponseWriter, r *http.Request) {
			reply(200, `{"token_endpoint":"`+base+`/token","capabilities":["client-confidential-asymmetric"],"token_endpoint_auth_methods_supported":["private_key_jwt"]}`)(w, r)
		},
		"POST /token": func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			assertions++
			_, claims, ok := verify(t, r.Form.Get("client_assertion"), key.Public())
			if !ok || claims["aud"] != base+"/token" || claims["iss"] != "backend" {
				reply(401, `{"error":"invalid_client","error_description":"bad assertion"}`)(w, r)
				return
			}
			token := fmt.Sprintf("t%d", len(issued))
			issued[token] = r.Form.Get("scope")
			reply(200, `{"access_token":"`+token+`","token_type":"bearer","expires_in":300,"scope":"`+r.Form.Get("scope")+`"}`)(w, r)
		},
		"GET /Patient":     bearer("Patient"),
		"GET /Observation": bearer("Observation"),
		"POST /Subscription": func(w http.ResponseWriter, r *http.Request) {
			var sub map[string]any
			json.NewDecoder(r.Body).Decode(&sub)
			endpoint := sub["channel"].(map[string]any)["endpoint"].(string)
			if sub["criteria"] != "http://example.org/topic/patient" {
				http.Error(w, "unknown topic", http.StatusBadRequest)
				return
			}
			sub["id"], sub["status"] = "s1", "active"
			b, _ := json.Marshal(sub)
			reply(201, string(b), "Location", "/Subscription/s1/_history/1")(w, r)
			go func() { // the handshake
				resp, err := http.Post(endpoint, "application/fhir+json", strings.NewReader(`{"resourceType":"Bundle","type":"history","entry":[{"resource":{"resourceType":"Parameters","parameter":[{"name":"type","valueCode":"handshake"}]}}]}`))
				if err == nil {
					resp.Body.Close()
				}
			}()
		},
		"GET /Subscription/s1/$status": func(w http.ResponseWriter, r *http.Request) {
			reply(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Parameters",
				"meta":{"profile":["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4"]},
				"parameter":[{"name":"subscription","valueReference":{"reference":"`+base+`/Subscription/s1"}},{"name":"status","valueCode":"active"},
				{"name":"type","valueCode":"query-status"},{"name":"events-since-subscription-start","valueString":"0"}]}}]}`)(w, r)
		},
		"DELETE /Subscription/s1": reply(204, ""),
	})
	var scripts []Script
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.TestScript.ID == "smart" || s.TestScript.ID == "subscriptions" {
			scripts = append(scripts, s)
		}
	}
	rep := Run(t.Context(), Options{Base: base, ReceiverURL: receiver.URL, ClientKey: ck}, scripts)
	var table bytes.Buffer
	rep.WriteTable(&table)
	if c := rep.Counts(); c != (Counts{Pass: 9}) {
		t.Errorf("counts %+v\n%s", c, table.String())
	}
	if assertions != 3 {
		t.Errorf("the token endpoint saw %d assertions, want 3 (valid, forged, narrow)", assertions)
	}
	if n := rc.Notifications(); len(n) != 1 || !strings.HasPrefix(n[0].Path, "/hook/"+rep.RunID) {
		t.Errorf("notifications %+v", n)
	}

	// Without a receiver the delivery test says why it cannot run.
	rep = Run(t.Context(), Options{Base: base}, scripts[1:])
	if tr := rep.Test("subscriptions", "subscription-create"); tr == nil || tr.Status != Skip || !strings.Contains(tr.Message, "no rest-hook receiver") {
		t.Errorf("without a receiver: %+v", tr)
	}
}
