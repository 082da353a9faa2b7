package search

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
)

// fakeRegistry is a small hand-built registry for the parser's tests.
type fakeRegistry struct {
	byType map[string]map[string]*Param
	byURL  map[string]*Param
}

func (r *fakeRegistry) Lookup(t, code string) (*Param, bool) {
	if p, ok := r.byType[t][code]; ok {
		return p, true
	}
	if t == "DomainResource" {
		return nil, false
	}
	p, ok := r.byType["Resource"][code]
	return p, ok
}

func (r *fakeRegistry) ByURL(u string) (*Param, bool) {
	p, ok := r.byURL[u]
	return p, ok
}

func (r *fakeRegistry) add(t string, p *Param) {
	if p.Expression == "" && p.Type != Special && !strings.HasPrefix(p.Code, "_text") {
		p.Expression = t + "." + p.Code
	}
	if p.URL == "" {
		p.URL = "http://hl7.org/fhir/SearchParameter/" + t + "-" + p.Code
	}
	if r.byType[t] == nil {
		r.byType[t] = map[string]*Param{}
	}
	r.byType[t][p.Code] = p
	r.byURL[p.URL] = p
}

func testRegistry() *fakeRegistry {
	r := &fakeRegistry{byType: map[string]map[string]*Param{}, byURL: map[string]*Param{}}
	for _, p := range []*Param{
		{Code: "_id", Type: Token}, {Code: "_lastUpdated", Type: Date}, {Code: "_tag", Type: Token},
		{Code: "_profile", Type: URI}, {Code: "_security", Type: Token}, {Code: "_source", Type: URI},
		{Code: "_text", Type: String}, // no expression: not indexed
	} {
		r.add("Resource", p)
	}
	r.add("Patient", &Param{Code: "name", Type: String})
	r.add("Patient", &Param{Code: "family", Type: String})
	r.add("Patient", &Param{Code: "birthdate", Type: Date})
	r.add("Patient", &Param{Code: "gender", Type: Token})
	r.add("Patient", &Param{Code: "identifier", Type: Token})
	r.add("Patient", &Param{Code: "organization", Type: Reference, Targets: []string{"Organization"}})
	r.add("Patient", &Param{Code: "general-practitioner", Type: Reference, Targets: []string{"Organization", "Practitioner", "PractitionerRole"}})
	r.add("Patient", &Param{Code: "link", Type: Reference, Targets: []string{"Patient", "RelatedPerson"}})
	r.add("Organization", &Param{Code: "name", Type: String})
	r.add("Organization", &Param{Code: "partof", Type: Reference, Targets: []string{"Organization"}})
	r.add("Organization", &Param{Code: "identifier", Type: Token})
	r.add("Practitioner", &Param{Code: "name", Type: String})
	r.add("PractitionerRole", &Param{Code: "organization", Type: Reference, Targets: []string{"Organization"}})
	r.add("Group", &Param{Code: "name", Type: String})
	r.add("Group", &Param{Code: "code", Type: Token})
	r.add("Location", &Param{Code: "name", Type: String})
	r.add("Location", &Param{Code: "near", Type: Special})
	r.add("Device", &Param{Code: "code", Type: String}) // a deliberate type clash with Group.code
	r.add("Observation", &Param{Code: "code", Type: Token})
	r.add("Observation", &Param{Code: "date", Type: Date})
	r.add("Observation", &Param{Code: "subject", Type: Reference, Targets: []string{"Patient", "Group", "Device", "Location"}})
	r.add("Observation", &Param{Code: "patient", Type: Reference, Targets: []string{"Patient"}})
	r.add("Observation", &Param{Code: "focus", Type: Reference}) // any type
	r.add("Observation", &Param{Code: "value-quantity", Type: Quantity})
	r.add("Observation", &Param{Code: "value-string", Type: String})
	r.add("Observation", &Param{Code: "code-value-quantity", Type: Composite, Components: []Component{
		{Definition: "http://hl7.org/fhir/SearchParameter/Observation-code", Expression: "code"},
		{Definition: "http://hl7.org/fhir/SearchParameter/Observation-value-quantity", Expression: "value"},
	}})
	r.add("Observation", &Param{Code: "broken-composite", Type: Composite, Components: []Component{
		{Definition: "http://example.org/missing", Expression: "code"},
	}})
	r.add("DiagnosticReport", &Param{Code: "result", Type: Reference, Targets: []string{"Observation"}})
	r.add("DiagnosticReport", &Param{Code: "code", Type: Token})
	r.add("RiskAssessment", &Param{Code: "probability", Type: Number})
	r.add("ValueSet", &Param{Code: "url", Type: URI})
	r.add("QuestionnaireResponse", &Param{Code: "questionnaire", Type: Reference, Targets: []string{"Questionnaire"}})
	return r
}

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testOpts() ParseOptions {
	return ParseOptions{DefaultCount: 20, MaxCount: 100, BaseURL: "https://telederm.example/fhir", Now: func() time.Time { return testNow }}
}

// mustParse parses a query string that must be valid (warnings allowed).
func mustParse(t *testing.T, typ, query string) *Query {
	t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	q, out := Parse(testRegistry(), typ, vals, testOpts())
	if out.HasErrors() || q == nil {
		t.Fatalf("Parse(%s?%s): %v", typ, query, out)
	}
	return q
}

// only returns the single predicate of a single-clause query.
func only(t *testing.T, q *Query) Predicate {
	t.Helper()
	if len(q.Where) != 1 || len(q.Where[0].Any) != 1 {
		t.Fatalf("want one clause of one predicate, got %+v", q.Where)
	}
	return q.Where[0].Any[0]
}

func TestParseAndOr(t *testing.T) {
	q := mustParse(t, "Patient", "name=a,b&name=c")
	if len(q.Where) != 2 || len(q.Where[0].Any) != 2 || len(q.Where[1].Any) != 1 {
		t.Fatalf("where = %+v", q.Where)
	}
	if q.Where[0].Any[0].Value.Exact != "a" || q.Where[0].Any[1].Value.Exact != "b" || q.Where[1].Any[0].Value.Exact != "c" {
		t.Errorf("values = %+v", q.Where)
	}
}

func TestParseEscaping(t *testing.T) {
	tests := []struct {
		typ, query string
		check      func(Value) bool
	}{
		{"Patient", `name=a\,b`, func(v Value) bool { return v.Exact == "a,b" && v.Text == "a b" }},
		{"Patient", `gender=a\|b`, func(v Value) bool { return v.Code == "a|b" && !v.HasSystem }},
		{"Patient", `gender=s\|x|c\$d`, func(v Value) bool { return v.System == "s|x" && v.Code == "c$d" && v.HasSystem }},
		{"Patient", `gender=x\\`, func(v Value) bool { return v.Code == `x\` }},
		{"Patient", `gender=x\y`, func(v Value) bool { return v.Code == `x\y` }}, // not an escape: kept
		{"ValueSet", `url=http://x/a\,b`, func(v Value) bool { return v.URI == "http://x/a,b" }},
	}
	for _, tt := range tests {
		q := mustParse(t, tt.typ, tt.query)
		if v := only(t, q).Value; !tt.check(v) {
			t.Errorf("%s: value %+v", tt.query, v)
		}
	}
	// An escaped backslash does not escape the comma after it.
	q := mustParse(t, "Patient", `gender=a\\,b`)
	if n := len(q.Where[0].Any); n != 2 || q.Where[0].Any[0].Value.Code != `a\` {
		t.Errorf(`a\\,b: %+v`, q.Where[0].Any)
	}
}

func TestParseToken(t *testing.T) {
	tests := []struct {
		in                string
		system, code      string
		hasSystem, wantOK bool
	}{
		{"male", "", "male", false, true},
		{"http://hl7.org/fhir/administrative-gender|male", "http://hl7.org/fhir/administrative-gender", "male", true, true},
		{"|male", "", "male", true, true},
		{"http://x|", "http://x", "", true, true},
		{"|", "", "", false, false},
		{"a|b|c", "", "", false, false},
	}
	for _, tt := range tests {
		vals := url.Values{"gender": {tt.in}}
		q, out := Parse(testRegistry(), "Patient", vals, testOpts())
		if !tt.wantOK {
			if !out.HasErrors() {
				t.Errorf("%q accepted", tt.in)
			} else {
				checkIssue(t, out, "gender", fhir.CodeValue)
			}
			continue
		}
		if out.HasErrors() {
			t.Errorf("%q: %v", tt.in, out)
			continue
		}
		v := only(t, q).Value
		if v.System != tt.system || v.Code != tt.code || v.HasSystem != tt.hasSystem || v.Kind != Token {
			t.Errorf("%q: %+v", tt.in, v)
		}
	}
}

func TestParseTokenModifiers(t *testing.T) {
	p := only(t, mustParse(t, "Observation", "code:text=Blood%20Préssure"))
	if p.Modifier != ":text" || p.Value.Text != "blood pressure" {
		t.Errorf(":text: %+v", p)
	}
	p = only(t, mustParse(t, "Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345"))
	if p.Modifier != ":of-type" || p.Value.TypeSystem != "http://terminology.hl7.org/CodeSystem/v2-0203" || p.Value.TypeCode != "MR" || p.Value.Code != "12345" {
		t.Errorf(":of-type: %+v", p)
	}
	p = only(t, mustParse(t, "Patient", "gender:not=male"))
	if p.Modifier != ":not" || p.Value.Code != "male" {
		t.Errorf(":not: %+v", p)
	}
}

func TestParseDate(t *testing.T) {
	day := func(s string) (int64, int64) {
		lo, hi, err := fhir.ParseDateRange(s)
		if err != nil {
			t.Fatal(err)
		}
		return lo.UnixMicro(), hi.UnixMicro()
	}
	tests := []struct {
		in     string
		prefix Prefix
		date   string
	}{
		{"2013-01-14", Eq, "2013-01-14"},
		{"eq2013", Eq, "2013"},
		{"ge2013-01", Ge, "2013-01"},
		{"lt2013-01-14T10:00Z", Lt, "2013-01-14T10:00Z"},
		{"sa2013-01-14T10:00:00+01:00", Sa, "2013-01-14T10:00:00+01:00"},
		{"eb2013-01-14T10:00:00 01:00", Eb, "2013-01-14T10:00:00+01:00"}, // "+" decoded as a space
		{"ne2013-01-14T10:00:00.123Z", Ne, "2013-01-14T10:00:00.123Z"},
	}
	for _, tt := range tests {
		v := only(t, mustParse(t, "Patient", "birthdate="+url.QueryEscape(tt.in))).Value
		lo, hi := day(tt.date)
		if v.Prefix != tt.prefix || v.Lo != lo || v.Hi != hi || v.Kind != Date {
			t.Errorf("%s: %+v, want %s [%d, %d)", tt.in, v, tt.prefix, lo, hi)
		}
	}
	// ap: widened by a tenth of the gap to now (2026-01-01).
	v := only(t, mustParse(t, "Patient", "birthdate=ap2016-01-01")).Value
	lo, hi := day("2016-01-01")
	gap := testNow.UnixMicro() - hi
	if v.ApLo != lo-gap/10 || v.ApHi != hi+gap/10 {
		t.Errorf("ap window [%d, %d), want [%d, %d)", v.ApLo, v.ApHi, lo-gap/10, hi+gap/10)
	}
	for _, bad := range []string{"2013-13", "2013-02-30", "13-01-2013", "gt", "xx2013", "2013-01-14T25:00Z", "today"} {
		vals := url.Values{"birthdate": {bad}}
		if _, out := Parse(testRegistry(), "Patient", vals, testOpts()); !out.HasErrors() {
			t.Errorf("%q accepted", bad)
		} else {
			checkIssue(t, out, "birthdate", fhir.CodeValue)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in              string
		prefix          Prefix
		num, lo, hi     float64
		apLo, apHi      float64
		checkApproxOnly bool
	}{
		{in: "100", prefix: Eq, num: 100, lo: 99.5, hi: 100.5},
		{in: "gt0.5", prefix: Gt, num: 0.5, lo: 0.45, hi: 0.55},
		{in: "le-3", prefix: Le, num: -3, lo: -3.5, hi: -2.5},
		{in: "1e2", prefix: Eq, num: 100, lo: 50, hi: 150},
		{in: "ap100", prefix: Ap, num: 100, lo: 99.5, hi: 100.5, apLo: 90, apHi: 110},
		{in: "ap1e2", prefix: Ap, num: 100, lo: 50, hi: 150, apLo: 50, apHi: 150}, // precision wider than 10%
	}
	for _, tt := range tests {
		v := only(t, mustParse(t, "RiskAssessment", "probability="+url.QueryEscape(tt.in))).Value
		if v.Prefix != tt.prefix || v.Num != tt.num || !near(v.NumLo, tt.lo) || !near(v.NumHi, tt.hi) || v.Kind != Number {
			t.Errorf("%s: %+v", tt.in, v)
		}
		if tt.prefix == Ap && (!near(v.ApNumLo, tt.apLo) || !near(v.ApNumHi, tt.apHi)) {
			t.Errorf("%s: ap window [%v, %v)", tt.in, v.ApNumLo, v.ApNumHi)
		}
	}
	for _, bad := range []string{"abc", "gt", "0x10", "+5", ".5", "5.", "1e400", "NaN", "Inf", "5,"} {
		vals := url.Values{"probability": {bad}}
		if _, out := Parse(testRegistry(), "RiskAssessment", vals, testOpts()); !out.HasErrors() {
			t.Errorf("%q accepted", bad)
		} else {
			checkIssue(t, out, "probability", fhir.CodeValue)
		}
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in           string
		prefix       Prefix
		num          float64
		system, code string
	}{
		{"5.4|http://unitsofmeasure.org|mg", Eq, 5.4, "http://unitsofmeasure.org", "mg"},
		{"gt5.4||mg", Gt, 5.4, "", "mg"},
		{"5.4", Eq, 5.4, "", ""},
		{"ap5.4|http://unitsofmeasure.org|mm[Hg]", Ap, 5.4, "http://unitsofmeasure.org", "mm[Hg]"},
		{`5|http://x|a\|b`, Eq, 5, "http://x", "a|b"},
	}
	for _, tt := range tests {
		v := only(t, mustParse(t, "Observation", "value-quantity="+url.QueryEscape(tt.in))).Value
		if v.Prefix != tt.prefix || v.Num != tt.num || v.System != tt.system || v.Code != tt.code || v.Kind != Quantity {
			t.Errorf("%s: %+v", tt.in, v)
		}
	}
	for _, bad := range []string{"5.4|mg", "mg", "5.4|a|b|c", "|http://x|mg", "5.4|http://unitsofmeasure.org|"} {
		vals := url.Values{"value-quantity": {bad}}
		if _, out := Parse(testRegistry(), "Observation", vals, testOpts()); !out.HasErrors() {
			t.Errorf("%q accepted", bad)
		} else {
			checkIssue(t, out, "value-quantity", fhir.CodeValue)
		}
	}
}

func TestParseReference(t *testing.T) {
	tests := []struct {
		typ, query string
		want       RefValue
		raw        string
	}{
		{"Observation", "subject=Patient/123", RefValue{Type: "Patient", ID: "123"}, "Patient/123"},
		{"Observation", "subject=123", RefValue{ID: "123"}, "123"}, // several targets: any type
		{"Observation", "patient=123", RefValue{Type: "Patient", ID: "123"}, "Patient/123"},
		{"Observation", "subject:Patient=123", RefValue{Type: "Patient", ID: "123"}, "Patient/123"},
		{"Observation", "subject:Patient=Patient/123", RefValue{Type: "Patient", ID: "123"}, "Patient/123"},
		{"Observation", "subject=Patient/123/_history/2", RefValue{Type: "Patient", ID: "123"}, "Patient/123"},
		{"Observation", "subject=http://other.example/fhir/Patient/1", RefValue{URL: "http://other.example/fhir/Patient/1"}, "http://other.example/fhir/Patient/1"},
		{"Observation", "subject=https://telederm.example/fhir/Patient/1", RefValue{Type: "Patient", ID: "1"}, "Patient/1"},
		{"Observation", "subject=http://telederm.example/fhir/Patient/1", RefValue{Type: "Patient", ID: "1"}, "Patient/1"},
		{"Observation", "subject=urn:uuid:2f2c3a5e-1d7b-4a4e-9c43-3b1f1a2b3c4d", RefValue{URL: "urn:uuid:2f2c3a5e-1d7b-4a4e-9c43-3b1f1a2b3c4d"}, "urn:uuid:2f2c3a5e-1d7b-4a4e-9c43-3b1f1a2b3c4d"},
		{"QuestionnaireResponse", "questionnaire=http://x.org/Questionnaire/derm|2.0", RefValue{URL: "http://x.org/Questionnaire/derm", Version: "2.0"}, "http://x.org/Questionnaire/derm|2.0"},
		{"Observation", "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919", RefValue{System: "https://fhir.nhs.uk/Id/nhs-number", Code: "9434765919", HasSystem: true}, "https://fhir.nhs.uk/Id/nhs-number|9434765919"},
		{"Observation", "subject:identifier=9434765919", RefValue{Code: "9434765919"}, "9434765919"},
	}
	for _, tt := range tests {
		p := only(t, mustParse(t, tt.typ, tt.query))
		if p.Value.Ref == nil || *p.Value.Ref != tt.want || p.Value.Raw != tt.raw || p.Value.Kind != Reference {
			t.Errorf("%s: %+v (raw %q)", tt.query, p.Value.Ref, p.Value.Raw)
		}
	}
	bad := []struct{ typ, key, val string }{
		{"Observation", "subject:Patient", "Group/1"},              // conflicts with the modifier
		{"Observation", "subject", "Organization/1"},               // not a target
		{"Observation", "subject", "Foo/1"},                        // not a type
		{"Observation", "subject", "Patient/a_b"},                  // not an id
		{"Observation", "subject", "a/b/c"},                        // not a reference
		{"Observation", "subject", "Patient/1|2"},                  // a version needs a URL
		{"Observation", "subject:identifier", "|"},                 // empty token
		{"QuestionnaireResponse", "questionnaire", "http://x|1|2"}, // too many |
	}
	for _, tt := range bad {
		vals := url.Values{tt.key: {tt.val}}
		if _, out := Parse(testRegistry(), tt.typ, vals, testOpts()); !out.HasErrors() {
			t.Errorf("%s=%s accepted", tt.key, tt.val)
		} else {
			checkIssue(t, out, tt.key, fhir.CodeValue)
		}
	}
}

func TestParseURIAndString(t *testing.T) {
	p := only(t, mustParse(t, "ValueSet", "url:below=http://acme.org/fhir/"))
	if p.Modifier != ":below" || p.Value.URI != "http://acme.org/fhir/" || p.Value.Kind != URI {
		t.Errorf("uri: %+v", p)
	}
	p = only(t, mustParse(t, "Patient", "name:exact=Zoë"))
	if p.Modifier != ":exact" || p.Value.Exact != "Zoë" || p.Value.Text != "zoe" {
		t.Errorf("string: %+v", p)
	}
	p = only(t, mustParse(t, "Patient", "name:contains=brien"))
	if p.Modifier != ":contains" {
		t.Errorf("contains: %+v", p)
	}
}

func TestParseMissing(t *testing.T) {
	for _, key := range []string{"name", "birthdate", "gender", "organization", "_profile"} {
		for _, val := range []string{"true", "false"} {
			p := only(t, mustParse(t, "Patient", key+":missing="+val))
			if p.Missing == nil || *p.Missing != (val == "true") || p.Modifier != ":missing" {
				t.Errorf("%s:missing=%s: %+v", key, val, p)
			}
		}
	}
	for _, key := range []string{"value-quantity", "code-value-quantity", "subject"} {
		only(t, mustParse(t, "Observation", key+":missing=true"))
	}
	vals := url.Values{"birthdate:missing": {"maybe"}}
	_, out := Parse(testRegistry(), "Patient", vals, testOpts())
	checkIssue(t, out, "birthdate:missing", fhir.CodeValue)
}

func TestParseModifierErrors(t *testing.T) {
	tests := []struct {
		typ, key, val, code string
	}{
		{"Patient", "gender:exact", "male", fhir.CodeInvalid},
		{"Patient", "gender:contains", "male", fhir.CodeInvalid},
		{"Patient", "name:text", "x", fhir.CodeInvalid},
		{"Patient", "name:not", "x", fhir.CodeInvalid},
		{"Patient", "name:foo", "x", fhir.CodeInvalid},
		{"Patient", "birthdate:exact", "2013", fhir.CodeInvalid},
		{"Patient", "gender:in", "http://x/vs", fhir.CodeNotSupported},
		{"Patient", "gender:below", "http://x|a", fhir.CodeNotSupported},
		{"Patient", "organization:above", "Organization/1", fhir.CodeNotSupported},
		{"Patient", "organization:Practitioner", "1", fhir.CodeInvalid}, // not a target
		{"Patient", "organization:Foo", "1", fhir.CodeInvalid},          // not a type
		{"ValueSet", "url:contains", "x", fhir.CodeInvalid},
		{"Observation", "value-quantity:text", "5", fhir.CodeInvalid},
		{"Observation", "code-value-quantity:exact", "a$5", fhir.CodeInvalid},
		{"Patient", "name:", "x", fhir.CodeInvalid},
		{"Patient", "_list:x", "1", fhir.CodeInvalid},
		{"Patient", "identifier:of-type", "a|b", fhir.CodeValue},
	}
	for _, tt := range tests {
		vals := url.Values{tt.key: {tt.val}}
		q, out := Parse(testRegistry(), tt.typ, vals, testOpts())
		if q != nil || !out.HasErrors() {
			t.Errorf("%s=%s accepted", tt.key, tt.val)
			continue
		}
		checkIssue(t, out, tt.key, tt.code)
	}
}

// checkIssue asserts an error issue with the code whose expression names
// the parameter.
func checkIssue(t *testing.T, out *fhir.Outcome, key, code string) {
	t.Helper()
	if out == nil {
		t.Errorf("%s: no outcome", key)
		return
	}
	for _, is := range out.Issue {
		if is.Severity == fhir.SeverityError && slices.Contains(is.Expression, key) {
			if is.Code != code {
				t.Errorf("%s: issue code %q, want %q (%s)", key, is.Code, code, is.Diagnostics)
			}
			if !strings.Contains(is.Diagnostics, key) {
				t.Errorf("%s: diagnostics %q do not name the parameter", key, is.Diagnostics)
			}
			return
		}
	}
	t.Errorf("%s: no error issue naming it in %+v", key, out.Issue)
}

func TestParseChain(t *testing.T) {
	tests := []struct {
		typ, key string
		types    []string // Chain.Type at each link
		final    string   // final param code
		finalMod string
	}{
		{"Observation", "subject:Patient.name", []string{"Patient"}, "name", ""},
		{"Observation", "patient.name", []string{"Patient"}, "name", ""},
		{"Observation", "subject.name", []string{""}, "name", ""},                        // Patient, Group, Location
		{"Observation", "subject.organization", []string{"Patient"}, "organization", ""}, // only Patient has it
		{"Observation", "subject.organization.name:exact", []string{"Patient", "Organization"}, "name", ":exact"},
		{"Observation", "subject:Patient.organization.partof.name", []string{"Patient", "Organization", "Organization"}, "name", ""},
		{"Patient", "general-practitioner.name", []string{""}, "name", ""},
		{"Patient", "general-practitioner.organization.name", []string{"PractitionerRole", "Organization"}, "name", ""},
		{"Patient", "general-practitioner:Practitioner.name:missing", []string{"Practitioner"}, "name", ":missing"},
		{"Observation", "focus:Patient.name", []string{"Patient"}, "name", ""},
		{"Observation", "subject._id", []string{""}, "_id", ""}, // common to every target
	}
	for _, tt := range tests {
		val := "x"
		if tt.finalMod == ":missing" {
			val = "true"
		}
		p := only(t, mustParse(t, tt.typ, url.QueryEscape(tt.key)+"="+val))
		for i, want := range tt.types {
			if p.Chain == nil || p.Param == nil || p.Param.Type != Reference {
				t.Fatalf("%s: link %d is not a chain: %+v", tt.key, i, p)
			}
			if p.Chain.Type != want {
				t.Errorf("%s: link %d type %q, want %q", tt.key, i, p.Chain.Type, want)
			}
			p = p.Chain.Next
		}
		if p.Chain != nil || p.Param == nil || p.Param.Code != tt.final || p.Modifier != tt.finalMod {
			t.Errorf("%s: final %+v", tt.key, p)
		}
	}
	errs := []struct{ typ, key, code string }{
		{"Observation", "subject.code", fhir.CodeInvalid},              // token on Group, string on Device
		{"Observation", "code.name", fhir.CodeInvalid},                 // not a reference
		{"Observation", "subject:Organization.name", fhir.CodeInvalid}, // not a target
		{"Observation", "subject:missing.name", fhir.CodeInvalid},      // only a type may precede a chain
		{"Observation", "focus.name", fhir.CodeInvalid},                // any type: needs a modifier
		{"Observation", "subject.", fhir.CodeInvalid},
		{"Observation", "subject._has:Observation:patient:code", fhir.CodeInvalid},
		{"Organization", "partof.partof.partof.partof.partof.name", fhir.CodeTooLong},
	}
	for _, tt := range errs {
		vals := url.Values{tt.key: {"x"}}
		_, out := Parse(testRegistry(), tt.typ, vals, testOpts())
		checkIssue(t, out, tt.key, tt.code)
	}
	// An unknown parameter in a chain is an unknown parameter.
	vals := url.Values{"subject.foo": {"x"}}
	q, out := Parse(testRegistry(), "Observation", vals, testOpts())
	if q == nil || !slices.Equal(q.Ignored, []string{"subject.foo"}) || out.HasErrors() {
		t.Errorf("subject.foo: %+v %v", q, out)
	}
}

func TestParseHas(t *testing.T) {
	p := only(t, mustParse(t, "Patient", "_has:Observation:patient:code=1234-5"))
	if p.Has == nil || p.Has.Type != "Observation" || p.Has.RefParam.Code != "patient" || p.Has.Next.Param.Code != "code" || p.Has.Next.Value.Code != "1234-5" {
		t.Fatalf("_has: %+v", p)
	}
	p = only(t, mustParse(t, "Patient", "_has:Observation:patient:_has:DiagnosticReport:result:code=x"))
	if p.Has == nil || p.Has.Next.Has == nil || p.Has.Next.Has.Type != "DiagnosticReport" || p.Has.Next.Has.RefParam.Code != "result" || p.Has.Next.Has.Next.Param.Code != "code" {
		t.Fatalf("nested _has: %+v", p)
	}
	p = only(t, mustParse(t, "Patient", "_has:Observation:subject:code:text=blood"))
	if p.Has.Next.Modifier != ":text" {
		t.Errorf("_has with modifier: %+v", p.Has.Next)
	}
	p = only(t, mustParse(t, "Patient", "_has:Observation:patient:subject:Patient.name=x"))
	if p.Has.Next.Chain == nil || p.Has.Next.Chain.Type != "Patient" {
		t.Errorf("_has with chain: %+v", p.Has.Next)
	}
	errs := []struct{ typ, key, code string }{
		{"Patient", "_has:Observation:code:code", fhir.CodeInvalid},    // not a reference
		{"Patient", "_has:Organization:partof:name", fhir.CodeInvalid}, // does not refer to Patient
		{"Patient", "_has:Observation", fhir.CodeInvalid},
		{"Patient", "_has:Observation:patient:", fhir.CodeInvalid},
		{"Patient", "_has:Foo:patient:code", fhir.CodeInvalid},
		{"", "_has:Observation:patient:code", fhir.CodeInvalid},
	}
	for _, tt := range errs {
		vals := url.Values{tt.key: {"x"}}
		_, out := Parse(testRegistry(), tt.typ, vals, testOpts())
		checkIssue(t, out, tt.key, tt.code)
	}
}

func TestParseCommonAndList(t *testing.T) {
	q := mustParse(t, "Patient", "_id=1,2&_lastUpdated=gt2024-01-01&_tag=http://x|y&_profile=http://p&_security=http://s|R&_source=http://src&_list=42")
	codes := map[string]Type{}
	for _, c := range q.Where {
		codes[c.Any[0].Param.Code] = c.Any[0].Param.Type
	}
	want := map[string]Type{"_id": Token, "_lastUpdated": Date, "_tag": Token, "_profile": URI, "_security": Token, "_source": URI, "_list": Special}
	for k, v := range want {
		if codes[k] != v {
			t.Errorf("%s: type %q, want %q", k, codes[k], v)
		}
	}
	p := only(t, mustParse(t, "Patient", "_list=$current-allergies"))
	if p.Param.Code != "_list" || p.Value.Code != "$current-allergies" {
		t.Errorf("_list: %+v", p)
	}
	_, out := Parse(testRegistry(), "Patient", url.Values{"_list": {"not a list"}}, testOpts())
	checkIssue(t, out, "_list", fhir.CodeValue)
}

func TestParseComposite(t *testing.T) {
	p := only(t, mustParse(t, "Observation", "code-value-quantity="+url.QueryEscape("http://loinc.org|8480-6$gt100||mm[Hg]")))
	v := p.Value
	if v.Kind != Composite || len(v.Parts) != 2 {
		t.Fatalf("%+v", v)
	}
	if v.Parts[0].Kind != Token || v.Parts[0].System != "http://loinc.org" || v.Parts[0].Code != "8480-6" || !v.Parts[0].HasSystem {
		t.Errorf("part 1: %+v", v.Parts[0])
	}
	if v.Parts[1].Kind != Quantity || v.Parts[1].Prefix != Gt || v.Parts[1].Num != 100 || v.Parts[1].Code != "mm[Hg]" {
		t.Errorf("part 2: %+v", v.Parts[1])
	}
	for _, bad := range []string{"a", "a$5$6", "a$x", "$5"} {
		_, out := Parse(testRegistry(), "Observation", url.Values{"code-value-quantity": {bad}}, testOpts())
		checkIssue(t, out, "code-value-quantity", fhir.CodeValue)
	}
	_, out := Parse(testRegistry(), "Observation", url.Values{"broken-composite": {"a"}}, testOpts())
	checkIssue(t, out, "broken-composite", fhir.CodeValue)
}

func TestParseSystemSearch(t *testing.T) {
	q := mustParse(t, "", "_id=1&_type=Patient,Organization,Patient")
	if !slices.Equal(q.Types, []string{"Patient", "Organization"}) || q.Type != "" {
		t.Errorf("types %v", q.Types)
	}
	// name is shared by every _type, so it may be used.
	q = mustParse(t, "", "_type=Patient,Organization&name=x")
	if p := only(t, q); p.Param.Code != "name" {
		t.Errorf("%+v", p)
	}
	// ... but not when one of them lacks it, nor without _type.
	for _, qs := range []string{"_type=Patient,Observation&name=x", "name=x"} {
		vals, _ := url.ParseQuery(qs)
		q, out := Parse(testRegistry(), "", vals, testOpts())
		if q == nil || !slices.Contains(q.Ignored, "name") {
			t.Errorf("%s: %+v %v", qs, q, out)
		}
		opts := testOpts()
		opts.Strict = true
		_, out = Parse(testRegistry(), "", vals, opts)
		checkIssue(t, out, "name", fhir.CodeNotSupported)
	}
	_, out := Parse(testRegistry(), "", url.Values{"_type": {"Patient,Foo"}}, testOpts())
	checkIssue(t, out, "_type", fhir.CodeValue)
	// _type on a type search is not a parameter of that search.
	q, _ = Parse(testRegistry(), "Patient", url.Values{"_type": {"Patient"}}, testOpts())
	if q == nil || !slices.Contains(q.Ignored, "_type") {
		t.Errorf("_type on Patient: %+v", q)
	}
}

func TestParseInclude(t *testing.T) {
	q := mustParse(t, "Observation", "_include=Observation:subject&_include=Observation:subject:Patient&_include:iterate=Patient:organization&_revinclude=DiagnosticReport:result&_include=*&_revinclude:iterate=Observation:*")
	want := []Include{
		{SourceType: "Observation", Param: &Param{Code: "subject"}},
		{SourceType: "Observation", Param: &Param{Code: "subject"}, TargetType: "Patient"},
		{Wildcard: true},
		{SourceType: "Patient", Param: &Param{Code: "organization"}, Iterate: true},
	}
	if len(q.Include) != len(want) {
		t.Fatalf("include %+v", q.Include)
	}
	for i, w := range want {
		got := q.Include[i]
		if got.SourceType != w.SourceType || got.TargetType != w.TargetType || got.Wildcard != w.Wildcard || got.Iterate != w.Iterate ||
			(w.Param == nil) != (got.Param == nil) || (w.Param != nil && got.Param.Code != w.Param.Code) {
			t.Errorf("include %d: %+v, want %+v", i, got, w)
		}
	}
	if len(q.RevInclude) != 2 || q.RevInclude[0].Param.Code != "result" || !q.RevInclude[1].Wildcard || !q.RevInclude[1].Iterate || q.RevInclude[1].SourceType != "Observation" {
		t.Errorf("revinclude %+v", q.RevInclude)
	}
	bad := []struct{ key, val, code string }{
		{"_include", "Observation:code", fhir.CodeValue},
		{"_include", "Observation:foo", fhir.CodeValue},
		{"_include", "Observation:subject:Organization", fhir.CodeValue},
		{"_include", "Observation", fhir.CodeValue},
		{"_include", "Foo:subject", fhir.CodeValue},
		{"_include", "Observation:subject:Patient:x", fhir.CodeValue},
		{"_include:deep", "Observation:subject", fhir.CodeInvalid},
	}
	for _, tt := range bad {
		_, out := Parse(testRegistry(), "Observation", url.Values{tt.key: {tt.val}}, testOpts())
		checkIssue(t, out, tt.key, tt.code)
	}
}

func TestParseResultParams(t *testing.T) {
	q := mustParse(t, "Observation", "_sort=-date,code&_count=500&_total=accurate&_elements=id,%20status,code&_cursor=abc&_format=json&_pretty=true")
	if len(q.Sort) != 2 || q.Sort[0].Param.Code != "date" || !q.Sort[0].Descending || q.Sort[1].Param.Code != "code" || q.Sort[1].Descending {
		t.Errorf("sort %+v", q.Sort)
	}
	if q.Count != 100 {
		t.Errorf("count %d, want the cap 100", q.Count)
	}
	if q.Total != "accurate" || !slices.Equal(q.Elements, []string{"id", "status", "code"}) || q.Cursor != "abc" {
		t.Errorf("%+v", q)
	}
	if len(q.Ignored) != 0 || len(q.Where) != 0 {
		t.Errorf("_format/_pretty not ignored silently: %+v", q)
	}
	if q := mustParse(t, "Observation", ""); q.Count != 20 {
		t.Errorf("default count %d", q.Count)
	}
	if q := mustParse(t, "Observation", "_count=0"); q.Count != 0 {
		t.Errorf("_count=0 gave %d", q.Count)
	}
	if q := mustParse(t, "Observation", "_summary=count&_count=10"); q.Count != 0 || q.Summary != "count" {
		t.Errorf("_summary=count: %+v", q)
	}
	q, out := Parse(testRegistry(), "Observation", url.Values{}, ParseOptions{})
	if out != nil || q.Count != DefaultPageSize {
		t.Errorf("zero options: count %d, %v", q.Count, out)
	}
	bad := []struct{ key, val, code string }{
		{"_count", "-1", fhir.CodeValue},
		{"_count", "ten", fhir.CodeValue},
		{"_sort", "foo", fhir.CodeValue},
		{"_sort", "-", fhir.CodeValue},
		{"_sort", "code-value-quantity", fhir.CodeNotSupported},
		{"_total", "all", fhir.CodeValue},
		{"_summary", "yes", fhir.CodeValue},
		{"_elements", "a.b", fhir.CodeValue},
		{"_contained", "true", fhir.CodeNotSupported},
		{"_contained", "maybe", fhir.CodeValue},
		{"_containedType", "contained", fhir.CodeNotSupported},
		{"_count:x", "1", fhir.CodeInvalid},
	}
	for _, tt := range bad {
		_, out := Parse(testRegistry(), "Observation", url.Values{tt.key: {tt.val}}, testOpts())
		checkIssue(t, out, tt.key, tt.code)
	}
	_, out = Parse(testRegistry(), "Observation", url.Values{"_count": {"1", "2"}}, testOpts())
	checkIssue(t, out, "_count", fhir.CodeInvalid)
	mustParse(t, "Observation", "_contained=false&_containedType=container")
}

func TestParseUnknown(t *testing.T) {
	vals := url.Values{"foo": {"1"}, "near": {"1|2|3|km"}, "_text": {"x"}, "_query": {"q"}, "name": {""}}
	q, out := Parse(testRegistry(), "Location", vals, testOpts())
	if q == nil || out.HasErrors() {
		t.Fatalf("lenient: %v", out)
	}
	if want := []string{"_query", "_text", "foo", "name", "near"}; !slices.Equal(q.Ignored, want) {
		t.Errorf("ignored %v, want %v", q.Ignored, want)
	}
	if len(out.Issue) != 4 { // warnings for all but the empty name
		t.Errorf("issues %+v", out.Issue)
	}
	for _, is := range out.Issue {
		if is.Severity != fhir.SeverityWarning || len(is.Expression) != 1 {
			t.Errorf("issue %+v", is)
		}
	}
	opts := testOpts()
	opts.Strict = true
	q, out = Parse(testRegistry(), "Location", vals, opts)
	if q != nil {
		t.Errorf("strict: query returned")
	}
	for _, k := range []string{"foo", "near", "_text", "_query"} {
		checkIssue(t, out, k, fhir.CodeNotSupported)
	}
}

func TestParseCollectsEveryProblem(t *testing.T) {
	vals := url.Values{
		"birthdate":    {"2013-13-01"},
		"gender:exact": {"male"},
		"_count":       {"-1"},
		"name":         {"ok"},
		"organization": {"Patient/1,Organization/2"},
	}
	q, out := Parse(testRegistry(), "Patient", vals, testOpts())
	if q != nil || len(out.Issue) != 4 {
		t.Fatalf("want 4 issues, got %+v", out)
	}
	checkIssue(t, out, "birthdate", fhir.CodeValue)
	checkIssue(t, out, "gender:exact", fhir.CodeInvalid)
	checkIssue(t, out, "_count", fhir.CodeValue)
	checkIssue(t, out, "organization", fhir.CodeValue)
	_, out = Parse(testRegistry(), "Patient", url.Values{"name": {"a,,b"}}, testOpts())
	checkIssue(t, out, "name", fhir.CodeValue)
}

func TestCanonical(t *testing.T) {
	tests := []struct{ typ, in, want string }{
		{"Patient", "name=b,a&name=c&_count=10", "_count=10&name=b,a&name=c"},
		{"Patient", `name:exact=a\,b&gender=http://x|m&birthdate=ge2013-01&_id:missing=true`,
			`_count=20&_id:missing=true&birthdate=ge2013-01&gender=http://x|m&name:exact=a\,b`},
		{"Observation", "subject:Patient=1&patient=2&subject.name=x&patient.organization.name=y&subject.organization.name=z",
			"_count=20&patient=Patient/2&patient.organization.name=y&subject=Patient/1&subject.name=x&subject:Patient.organization.name=z"},
		{"Patient", "_has:Observation:patient:code=c&foo=1&_format=json", "_count=20&_has:Observation:patient:code=c"},
		{"Observation", "_include:iterate=Patient:organization&_include=*&_revinclude=DiagnosticReport:result&_sort=-date,code&_total=none&_summary=data&_elements=id,code&_cursor=xyz",
			"_count=20&_cursor=xyz&_elements=id,code&_include=*&_include:iterate=Patient:organization&_revinclude=DiagnosticReport:result&_sort=-date,code&_summary=data&_total=none"},
		{"", "_type=Patient,Organization&_id=1", "_count=20&_id=1&_type=Patient,Organization"},
		{"Observation", "date=2013-01-14T10:00:00 01:00", "_count=20&date=2013-01-14T10:00:00+01:00"},
	}
	for _, tt := range tests {
		q := mustParse(t, tt.typ, tt.in)
		got := q.Canonical()
		if s, _ := url.QueryUnescape(got.Encode()); s != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, s, tt.want)
		}
		// Parsing the rendering gives the same rendering.
		q2, out := Parse(testRegistry(), tt.typ, got, testOpts())
		if out != nil {
			t.Errorf("%s: reparse: %v", tt.in, out)
			continue
		}
		if a, b := got.Encode(), q2.Canonical().Encode(); a != b {
			t.Errorf("%s: not stable:\n%s\n%s", tt.in, a, b)
		}
	}
}

func TestCanonicalHandBuilt(t *testing.T) {
	date := &Param{Code: "date", Type: Date}
	lo, hi, _ := fhir.ParseDateRange("2024-03")
	yes := true
	q := &Query{Count: 5, Where: []Clause{
		{Any: []Predicate{{Param: date, Value: Value{Prefix: Ge, Lo: lo.UnixMicro(), Hi: hi.UnixMicro()}}}},
		{Any: []Predicate{{Param: &Param{Code: "code", Type: Token}, Value: Value{System: "s", Code: "a,b", HasSystem: true}}}},
		{Any: []Predicate{{Param: &Param{Code: "subject", Type: Reference}, Value: Value{Ref: &RefValue{Type: "Patient", ID: "1"}}}}},
		{Any: []Predicate{{Param: &Param{Code: "value", Type: Quantity}, Value: Value{Prefix: Lt, Num: 5.5, System: "u", Code: "mg"}}}},
		{Any: []Predicate{{Param: &Param{Code: "name", Type: String}, Missing: &yes, Modifier: ":missing"}}},
	}}
	want := `_count=5&code=s|a\,b&date=ge2024-03&name:missing=true&subject=Patient/1&value=lt5.5|u|mg`
	if s, _ := url.QueryUnescape(q.Canonical().Encode()); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

func TestSplitEscaped(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a,b", []string{"a", "b"}},
		{`a\,b`, []string{`a\,b`}},
		{`a\\,b`, []string{`a\\`, "b"}},
		{`a,`, []string{"a", ""}},
		{`\`, []string{`\`}},
		{"", []string{""}},
	}
	for _, tt := range tests {
		if got := splitEscaped(tt.in, ','); !slices.Equal(got, tt.want) {
			t.Errorf("splitEscaped(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{`a,b|c$d\e`, "plain", `\\`} {
		if got := unescapeValue(escapeValue(s)); got != s {
			t.Errorf("escape round trip %q -> %q", s, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"name=a,b&name=c", `gender=s\|x|c\$d`, "birthdate=ap2016&_count=5", "subject:Patient.organization.name=x",
		"_has:Observation:patient:_has:DiagnosticReport:result:code=x", "code-value-quantity=a|b$gt5||mg",
		"_include:iterate=Patient:organization&_sort=-date", "subject=https://telederm.example/fhir/Patient/1",
		"value-quantity=ap5.4|http://unitsofmeasure.org|mg", "_type=Patient&_id=1", `name=\`, "_list=$x",
		"subject.name:missing=true", "probability=1e99999999999999999999", "date=eb2013-01-14T10:00:00.1234567891Z",
	} {
		f.Add("Observation", s)
		f.Add("Patient", s)
		f.Add("", s)
	}
	reg := testRegistry()
	entries := []Entry{
		{Param: "name", Kind: String, Text: "zoe", Exact: "Zoë"},
		{Param: "code", Kind: Token, System: "s", Code: "c", Text: "blood"},
		{Param: "date", Kind: Date, Lo: 0, Hi: 1e6},
		{Param: "value-quantity", Kind: Quantity, Num: 5, NumLo: 4.5, NumHi: 5.5, Code: "mg"},
		{Param: "subject", Kind: Reference, RefType: "Patient", RefID: "1"},
		{Param: "code-value-quantity", Kind: Composite, Parts: []Entry{{Kind: Token, Code: "c"}, {Kind: Quantity, Num: 5}}},
	}
	f.Fuzz(func(t *testing.T, typ, query string) {
		vals, _ := url.ParseQuery(query)
		for _, strict := range []bool{false, true} {
			opts := testOpts()
			opts.Strict = strict
			q, out := Parse(reg, typ, vals, opts)
			if (q == nil) != out.HasErrors() {
				t.Fatalf("query %v with outcome %v", q, out)
			}
			if q == nil {
				continue
			}
			for _, c := range q.Where {
				c.MatchEntries(entries)
			}
			canon := q.Canonical()
			q2, out2 := Parse(reg, typ, canon, opts)
			if out2 != nil {
				t.Fatalf("canonical %s of %q does not parse: %v", canon.Encode(), query, out2)
			}
			if a, b := canon.Encode(), q2.Canonical().Encode(); a != b {
				t.Fatalf("canonical not stable for %q:\n%s\n%s", query, a, b)
			}
		}
	})
}
