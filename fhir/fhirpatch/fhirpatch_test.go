package fhirpatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The Parameters are built from small helpers so each case shows only its
// operations.

func params(ops ...string) string {
	return `{"resourceType":"Parameters","parameter":[` + strings.Join(ops, ",") + `]}`
}

// op builds one operation from its type, path and further parts.
func op(typ, path string, parts ...string) string {
	all := append([]string{part("type", "valueCode", strconv.Quote(typ)), part("path", "valueString", quote(path))}, parts...)
	return `{"name":"operation","part":[` + strings.Join(all, ",") + `]}`
}

func part(name, key, raw string) string {
	return `{"name":"` + name + `","` + key + `":` + raw + `}`
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func named(n string) string            { return part("name", "valueString", quote(n)) }
func val(key, raw string) string       { return part("value", key, raw) }
func index(which string, i int) string { return part(which, "valueInteger", strconv.Itoa(i)) }

// parts builds a value (or a nested part) from parts.
func parts(n string, ps ...string) string {
	return `{"name":"` + n + `","part":[` + strings.Join(ps, ",") + `]}`
}

// testModel knows the few R4 elements the cases use.
var testModel = Options{Element: func(path string) ElementInfo {
	repeats := map[string]bool{
		"Patient.identifier": true, "Patient.name": true, "Patient.name.given": true, "Patient.telecom": true,
		"Patient.contact": true, "Patient.contact.telecom": true, "Patient.extension": true,
		"Patient.contained": true, "Patient.generalPractitioner": true, "Practitioner.name": true,
		"Observation.component": true,
	}
	choice := map[string]bool{"Patient.deceased": true, "Patient.extension.value": true, "Observation.value": true}
	return ElementInfo{Repeats: repeats[path], Choice: choice[path]}
}}

const patient = `{"resourceType":"Patient","id":"p",
	"identifier":[{"system":"a","value":"1"},{"system":"b","value":"2"},{"system":"c","value":"3"}],
	"name":[{"use":"official","family":"Chalmers","given":["Peter","James"],"_given":[null,{"id":"g2"}]},
		{"use":"usual","given":["Jim"]}],
	"gender":"male","deceasedBoolean":false}`

func TestApply(t *testing.T) {
	cases := []struct {
		name string
		in   string // the resource; patient when empty
		ops  []string
		want string
	}{
		{
			name: "add a birthDate (spec example)",
			in:   `{"resourceType":"Patient","id":"p"}`,
			ops:  []string{op("add", "Patient", named("birthDate"), val("valueDate", `"1930-01-01"`))},
			want: `{"resourceType":"Patient","id":"p","birthDate":"1930-01-01"}`,
		},
		{
			name: "add a complex identifier through parts",
			in:   `{"resourceType":"Patient","id":"p"}`,
			ops: []string{op("add", "Patient", named("identifier"), parts("value",
				part("system", "valueUri", `"http://example.org/mrn"`), part("value", "valueString", `"12345"`)))},
			want: `{"resourceType":"Patient","id":"p","identifier":[{"system":"http://example.org/mrn","value":"12345"}]}`,
		},
		{
			name: "add an anonymous type (spec example), nested parts and a repeated name",
			in:   `{"resourceType":"Patient","id":"p"}`,
			ops: []string{op("add", "Patient", named("contact"), parts("value",
				part("name", "valueHumanName", `{"text":"a name"}`),
				part("telecom", "valueContactPoint", `{"system":"phone","value":"1"}`),
				parts("telecom", part("system", "valueCode", `"email"`), part("value", "valueString", `"a@b"`))))},
			want: `{"resourceType":"Patient","id":"p","contact":[{"name":{"text":"a name"},
				"telecom":[{"system":"phone","value":"1"},{"system":"email","value":"a@b"}]}]}`,
		},
		{
			name: "add appends to an existing list",
			ops:  []string{op("add", "Patient", named("identifier"), val("valueIdentifier", `{"system":"d","value":"4"}`))},
			want: strings.Replace(patient, `{"system":"c","value":"3"}]`, `{"system":"c","value":"3"},{"system":"d","value":"4"}]`, 1),
		},
		{
			name: "add a choice element takes the value's type",
			in:   `{"resourceType":"Patient","id":"p"}`,
			ops:  []string{op("add", "Patient", named("deceased"), val("valueDateTime", `"2020-01-01"`))},
			want: `{"resourceType":"Patient","id":"p","deceasedDateTime":"2020-01-01"}`,
		},
		{
			name: "add a primitive with its extension, and a decimal keeps its text",
			in:   `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"}}`,
			ops: []string{
				op("add", "Observation", named("issued"), `{"name":"value","valueInstant":"2020-01-01T00:00:00Z","_valueInstant":{"id":"i1"}}`),
				op("add", "Observation", named("value"), val("valueQuantity", `{"value":1.50,"unit":"mm"}`)),
			},
			want: `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},
				"issued":"2020-01-01T00:00:00Z","_issued":{"id":"i1"},"valueQuantity":{"value":1.50,"unit":"mm"}}`,
		},
		{
			name: "add an extension built from parts",
			in:   `{"resourceType":"Patient","id":"p"}`,
			ops: []string{op("add", "Patient", named("extension"), parts("value",
				part("url", "valueUri", `"http://x/eye"`), part("value", "valueString", `"blue"`)))},
			want: `{"resourceType":"Patient","id":"p","extension":[{"url":"http://x/eye","valueString":"blue"}]}`,
		},
		{
			name: "insert at index 0",
			ops:  []string{op("insert", "Patient.identifier", index("index", 0), val("valueIdentifier", `{"value":"0"}`))},
			want: strings.Replace(patient, `"identifier":[`, `"identifier":[{"value":"0"},`, 1),
		},
		{
			name: "insert in the middle",
			ops:  []string{op("insert", "Patient.identifier", index("index", 1), val("valueIdentifier", `{"value":"x"}`))},
			want: strings.Replace(patient, `{"system":"a","value":"1"},`, `{"system":"a","value":"1"},{"value":"x"},`, 1),
		},
		{
			name: "insert at the end",
			ops:  []string{op("insert", "Patient.identifier", index("index", 3), val("valueIdentifier", `{"value":"x"}`))},
			want: strings.Replace(patient, `{"system":"c","value":"3"}]`, `{"system":"c","value":"3"},{"value":"x"}]`, 1),
		},
		{
			name: "insert into an absent list",
			in:   `{"resourceType":"Patient","id":"p"}`,
			ops:  []string{op("insert", "Patient.telecom", index("index", 0), val("valueContactPoint", `{"system":"phone"}`))},
			want: `{"resourceType":"Patient","id":"p","telecom":[{"system":"phone"}]}`,
		},
		{
			name: "insert a primitive keeps the extensions aligned",
			ops:  []string{op("insert", "Patient.name[0].given", index("index", 0), val("valueString", `"Pete"`))},
			want: strings.Replace(patient, `"given":["Peter","James"],"_given":[null,{"id":"g2"}]`,
				`"given":["Pete","Peter","James"],"_given":[null,null,{"id":"g2"}]`, 1),
		},
		{
			name: "delete a single element",
			ops:  []string{op("delete", "Patient.gender")},
			want: strings.Replace(patient, `"gender":"male",`, ``, 1),
		},
		{
			name: "delete a list item",
			ops:  []string{op("delete", "Patient.identifier[1]")},
			want: strings.Replace(patient, `{"system":"b","value":"2"},`, ``, 1),
		},
		{
			name: "delete a primitive list item takes its extension along",
			ops:  []string{op("delete", "Patient.name[0].given[1]")},
			want: strings.Replace(patient, `"given":["Peter","James"],"_given":[null,{"id":"g2"}]`, `"given":["Peter"]`, 1),
		},
		{
			name: "delete the last item drops the list and an emptied parent",
			in:   `{"resourceType":"Patient","id":"p","name":[{"given":["A"]}],"maritalStatus":{"text":"M"}}`,
			ops:  []string{op("delete", "Patient.name.given"), op("delete", "Patient.maritalStatus.text")},
			want: `{"resourceType":"Patient","id":"p"}`,
		},
		{
			name: "delete with no match is a no-op",
			ops: []string{op("delete", "Patient.birthDate"), op("delete", "Patient.identifier.where(system='zzz')"),
				op("delete", `Patient.identifier.where(value = ')(\'')`)},
			want: patient,
		},
		{
			name: "replace a primitive",
			ops:  []string{op("replace", "Patient.gender", val("valueCode", `"female"`))},
			want: strings.Replace(patient, `"male"`, `"female"`, 1),
		},
		{
			name: "replace a complex list item",
			ops:  []string{op("replace", "Patient.identifier[2]", val("valueIdentifier", `{"system":"z","value":"9"}`))},
			want: strings.Replace(patient, `{"system":"c","value":"3"}`, `{"system":"z","value":"9"}`, 1),
		},
		{
			name: "replace a primitive drops its extension",
			ops:  []string{op("replace", "Patient.name[0].given[1]", val("valueString", `"Jim"`))},
			want: strings.Replace(patient, `"given":["Peter","James"],"_given":[null,{"id":"g2"}]`, `"given":["Peter","Jim"]`, 1),
		},
		{
			name: "replace a choice element with another type",
			ops:  []string{op("replace", "Patient.deceased", val("valueDateTime", `"2021-02-03"`))},
			want: strings.Replace(patient, `"deceasedBoolean":false`, `"deceasedDateTime":"2021-02-03"`, 1),
		},
		{
			name: "move within a list",
			ops:  []string{op("move", "Patient.identifier", index("source", 0), index("destination", 2))},
			want: strings.Replace(patient, `{"system":"a","value":"1"},{"system":"b","value":"2"},{"system":"c","value":"3"}`,
				`{"system":"b","value":"2"},{"system":"c","value":"3"},{"system":"a","value":"1"}`, 1),
		},
		{
			name: "move a primitive with its extension",
			ops:  []string{op("move", "Patient.name[0].given", index("source", 1), index("destination", 0))},
			want: strings.Replace(patient, `"given":["Peter","James"],"_given":[null,{"id":"g2"}]`,
				`"given":["James","Peter"],"_given":[{"id":"g2"},null]`, 1),
		},
		{
			name: "paths through where, first, last, ofType and as",
			ops: []string{
				op("replace", "Patient.identifier.where(system='b').value", val("valueString", `"two"`)),
				op("replace", "Patient.name.where(use = 'usual').given.first()", val("valueString", `"Jimmy"`)),
				op("add", "Patient.name.last()", named("family"), val("valueString", `"Chalmers"`)),
				op("replace", "Patient.deceased.ofType(boolean)", val("valueBoolean", `true`)),
				op("delete", "(Patient.deceased as boolean)"),
			},
			want: strings.NewReplacer(`"value":"2"`, `"value":"two"`, `{"use":"usual","given":["Jim"]}`,
				`{"use":"usual","given":["Jimmy"],"family":"Chalmers"}`, `,"deceasedBoolean":false`, ``).Replace(patient),
		},
		{
			name: "extension(url), resolve() of a contained resource and %resource in where",
			in: `{"resourceType":"Patient","id":"p","extension":[{"url":"http://x/a","valueString":"1"},{"url":"http://x/b","valueString":"2"}],
				"contained":[{"resourceType":"Practitioner","id":"gp","name":[{"family":"Who"}]}],
				"generalPractitioner":[{"reference":"#gp"}]}`,
			ops: []string{
				op("replace", "Patient.extension('http://x/b').value", val("valueString", `"two"`)),
				op("add", "Patient.generalPractitioner.resolve()", named("name"), val("valueHumanName", `{"family":"Else"}`)),
				op("delete", "Patient.extension.where(url = 'http://x/a' and %resource.id = 'p')"),
			},
			want: `{"resourceType":"Patient","id":"p","extension":[{"url":"http://x/b","valueString":"two"}],
				"contained":[{"resourceType":"Practitioner","id":"gp","name":[{"family":"Who"},{"family":"Else"}]}],
				"generalPractitioner":[{"reference":"#gp"}]}`,
		},
		{
			name: "more path forms: tail, $this, %resource, `delimited`, a group, as FHIR.T",
			ops: []string{
				op("replace", "Patient.identifier.tail().first().value", val("valueString", `"two"`)),
				op("replace", "(Patient.identifier.where(system = 'c')).value", val("valueString", `"three"`)),
				op("replace", "%resource.gender", val("valueCode", `"other"`)),
				op("delete", "$this.`name`[1].given"),
				op("replace", "Patient.deceased as FHIR.boolean", val("valueBoolean", `true`)),
			},
			want: strings.NewReplacer(`"value":"2"`, `"value":"two"`, `"value":"3"`, `"value":"three"`, `"male"`, `"other"`,
				`{"use":"usual","given":["Jim"]}`, `{"use":"usual"}`, `"deceasedBoolean":false`, `"deceasedBoolean":true`).Replace(patient),
		},
		{
			name: "a resource value and a primitive with only an extension",
			in:   `{"resourceType":"Patient","id":"p"}`,
			ops: []string{
				op("add", "Patient", named("contained"), `{"name":"value","resource":{"resourceType":"Organization","id":"o"}}`),
				op("add", "Patient", named("birthDate"), `{"name":"value","_valueDate":{"extension":[{"url":"http://x/unknown","valueCode":"asked"}]}}`),
			},
			want: `{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Organization","id":"o"}],
				"_birthDate":{"extension":[{"url":"http://x/unknown","valueCode":"asked"}]}}`,
		},
		{
			name: "operations apply in order",
			in:   `{"resourceType":"Patient","id":"p"}`,
			ops: []string{
				op("add", "Patient", named("birthDate"), val("valueDate", `"2000-01-01"`)),
				op("replace", "Patient.birthDate", val("valueDate", `"2001-01-01"`)),
			},
			want: `{"resourceType":"Patient","id":"p","birthDate":"2001-01-01"}`,
		},
		{
			name: "no operations change nothing",
			ops:  nil,
			want: patient,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in == "" {
				in = patient
			}
			got, err := ApplyWith([]byte(in), []byte(params(tc.ops...)), testModel)
			if err != nil {
				t.Fatalf("ApplyWith: %v", err)
			}
			if !reflect.DeepEqual(decode(t, got), decode(t, []byte(tc.want))) {
				t.Errorf("got  %s\nwant %s", got, compact(t, tc.want))
			}
		})
	}
}

func TestApplyWithoutModel(t *testing.T) {
	// Without the model add cannot know identifier repeats.
	got, err := Apply([]byte(`{"resourceType":"Patient","id":"p"}`), []byte(params(
		op("add", "Patient", named("identifier"), val("valueIdentifier", `{"value":"1"}`)))))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"resourceType":"Patient","id":"p","identifier":{"value":"1"}}`; !reflect.DeepEqual(decode(t, got), decode(t, []byte(want))) {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestEncoding(t *testing.T) {
	got, err := Apply([]byte(`{"resourceType":"Basic","id":"b","code":{"text":"x"}}`), []byte(params(
		op("add", "Basic", named("text"), val("valueNarrative", `{"status":"generated","div":"<div>a & b</div>"}`)),
		op("add", "Basic.code", named("coding"), val("valueCoding", `{"code":"1.50"}`)))))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`"div":"<div>a & b</div>"`)) {
		t.Errorf("HTML was escaped: %s", got)
	}
	got, err = Apply([]byte(`{"resourceType":"Observation","valueQuantity":{"value":1.50}}`), []byte(params(
		op("add", "Observation.value", named("unit"), val("valueString", `"mm"`)))))
	if err != nil || !bytes.Contains(got, []byte(`"value":1.50`)) {
		t.Errorf("decimal lost its text: %s %v", got, err)
	}
}

func TestApplyErrors(t *testing.T) {
	cases := []struct {
		name, body string
		want       Error  // Op, Part and Malformed must match
		expr       string // Expression()
		reason     string // a substring of Reason
	}{
		{"not JSON", `{`, Error{Op: -1, Malformed: true}, "Parameters", "not a JSON object"},
		{"not Parameters", `{"resourceType":"Patient"}`, Error{Op: -1, Malformed: true}, "Parameters", "not Patient"},
		{"parameter not a list", `{"resourceType":"Parameters","parameter":{}}`, Error{Op: -1, Malformed: true},
			"Parameters.parameter", "not a list"},
		{"operation without parts", params(op("delete", "Patient.gender"), `{"name":"operation"}`),
			Error{Op: 1, Malformed: true}, "Parameters.parameter[1]", "no parts"},
		{"parameter not an operation", params(`{"name":"patch","part":[]}`), Error{Op: 0, Malformed: true},
			"Parameters.parameter[0]", `named "patch"`},
		{"missing type", params(`{"name":"operation","part":[` + part("path", "valueString", `"Patient"`) + `]}`),
			Error{Op: 0, Malformed: true}, "Parameters.parameter[0]", "no type"},
		{"unknown type", params(op("upsert", "Patient")), Error{Op: 0, Part: "type", Malformed: true},
			"Parameters.parameter[0].part[0]", "add, insert"},
		{"part given twice", params(op("delete", "Patient.gender", part("path", "valueString", `"Patient.id"`))),
			Error{Op: 0, Part: "path", Malformed: true}, "Parameters.parameter[0].part[2]", "twice"},
		{"part the type does not take", params(op("delete", "Patient.gender", index("index", 0))),
			Error{Op: 0, Part: "index", Malformed: true}, "Parameters.parameter[0].part[2]", "does not take"},
		{"add without a value", params(op("add", "Patient", named("gender"))), Error{Op: 0, Malformed: true},
			"Parameters.parameter[0]", "needs a value"},
		{"value without a value", params(op("replace", "Patient.gender", `{"name":"value"}`)),
			Error{Op: 0, Part: "value", Malformed: true}, "Parameters.parameter[0].part[2]", "no value[x]"},
		{"nested value part without a name", params(op("add", "Patient", named("contact"), parts("value", `{"valueString":"x"}`))),
			Error{Op: 0, Part: "value", Malformed: true}, "Parameters.parameter[0].part[3].part[0]", "needs a name"},
		{"negative index", params(op("insert", "Patient.identifier", index("index", -1), val("valueIdentifier", `{}`))),
			Error{Op: 0, Part: "index", Malformed: true}, "Parameters.parameter[0].part[2]", "non-negative"},
		{"unsupported path function", params(op("delete", "Patient.name.select(given)")),
			Error{Op: 0, Part: "path", Malformed: true}, "Parameters.parameter[0].part[1]", "select()"},
		{"union path", params(op("delete", "Patient.gender | Patient.birthDate")),
			Error{Op: 0, Part: "path", Malformed: true}, "Parameters.parameter[0].part[1]", "unexpected"},
		{"path nested too deeply", params(op("delete", strings.Repeat("(", 40)+"Patient.gender"+strings.Repeat(")", 40))),
			Error{Op: 0, Part: "path", Malformed: true}, "Parameters.parameter[0].part[1]", "nested"},
		{"insert path not ending in a name", params(op("insert", "Patient.identifier.first()", index("index", 0), val("valueIdentifier", `{}`))),
			Error{Op: 0, Part: "path", Malformed: true}, "Parameters.parameter[0].part[1]", "ending in the list"},
		{"malformed later operation wins over a failing earlier one",
			params(op("replace", "Patient.birthDate", val("valueDate", `"2000"`)), op("delete", "")),
			Error{Op: 1, Part: "path", Malformed: true}, "Parameters.parameter[1].part[1]", "FHIRPath"},

		{"path matching several elements", params(op("replace", "Patient.identifier.value", val("valueString", `"x"`))),
			Error{Op: 0, Part: "path"}, "Parameters.parameter[0].part[1]", "selects 3 elements"},
		{"delete matching several elements", params(op("delete", "Patient.name.given")),
			Error{Op: 0, Part: "path"}, "Parameters.parameter[0].part[1]", "selects 3 elements"},
		{"replace matching nothing", params(op("delete", "Patient.gender"), op("replace", "Patient.birthDate", val("valueDate", `"2000"`))),
			Error{Op: 1, Part: "path"}, "Parameters.parameter[1].part[1]", "selects nothing"},
		{"add to a non-object", params(op("add", "Patient.gender", named("x"), val("valueString", `"y"`))),
			Error{Op: 0, Part: "path"}, "Parameters.parameter[0].part[1]", "primitive"},
		{"add what exists and does not repeat", params(op("add", "Patient", named("gender"), val("valueCode", `"other"`))),
			Error{Op: 0, Part: "name"}, "Parameters.parameter[0].part[2]", "use replace"},
		{"add a choice element already there", params(op("add", "Patient", named("deceased"), val("valueDateTime", `"2020"`))),
			Error{Op: 0, Part: "name"}, "Parameters.parameter[0].part[2]", "deceasedBoolean"},
		{"insert index out of range", params(op("insert", "Patient.identifier", index("index", 4), val("valueIdentifier", `{}`))),
			Error{Op: 0, Part: "index"}, "Parameters.parameter[0].part[2]", "out of range"},
		{"insert into a non-repeating element", params(op("insert", "Patient.gender", index("index", 0), val("valueCode", `"x"`))),
			Error{Op: 0, Part: "path"}, "Parameters.parameter[0].part[1]", "is not a list"},
		{"move source out of range", params(op("move", "Patient.identifier", index("source", 3), index("destination", 0))),
			Error{Op: 0, Part: "source"}, "Parameters.parameter[0].part[2]", "out of range"},
		{"move destination out of range", params(op("move", "Patient.identifier", index("source", 0), index("destination", 3))),
			Error{Op: 0, Part: "destination"}, "Parameters.parameter[0].part[3]", "out of range"},
		{"delete the resource", params(op("delete", "Patient")), Error{Op: 0, Part: "path"},
			"Parameters.parameter[0].part[1]", "itself"},
		{"resolve() leaving the resource", params(op("delete", "Patient.managingOrganization.resolve().name")),
			Error{Op: 0, Part: "path"}, "Parameters.parameter[0].part[1]", "contained"},
		{"where criteria with several items", params(op("delete", "Patient.name.where(given)")),
			Error{Op: 0, Part: "path"}, "Parameters.parameter[0].part[1]", "at most one"},
	}
	in := strings.Replace(patient, `"gender"`, `"managingOrganization":{"reference":"Organization/1"},"gender"`, 1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ApplyWith([]byte(in), []byte(tc.body), testModel)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %s, %v; want an *Error", got, err)
			}
			if pe.Op != tc.want.Op || pe.Part != tc.want.Part || pe.Malformed != tc.want.Malformed {
				t.Errorf("got Op %d Part %q Malformed %v, want %d %q %v (%v)", pe.Op, pe.Part, pe.Malformed,
					tc.want.Op, tc.want.Part, tc.want.Malformed, err)
			}
			if pe.Expression() != tc.expr {
				t.Errorf("Expression() = %q, want %q", pe.Expression(), tc.expr)
			}
			if !strings.Contains(pe.Reason, tc.reason) || !strings.Contains(pe.Error(), pe.Reason) {
				t.Errorf("Reason %q does not mention %q", pe.Reason, tc.reason)
			}
		})
	}
}

func TestResourceNotJSON(t *testing.T) {
	_, err := Apply([]byte(`[`), []byte(params()))
	var pe *Error
	if err == nil || errors.As(err, &pe) {
		t.Errorf("got %v; want a plain error for a bad resource", err)
	}
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
