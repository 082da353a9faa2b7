package fhirpath

import (
	"strings"
	"testing"
)

type evalCase struct {
	expr string
	want string // show() of the result
}

func runEvalCases(t *testing.T, resource string, cases []evalCase) {
	t.Helper()
	res := decode(t, resource)
	for _, c := range cases {
		e, err := Compile(c.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.expr, err)
			continue
		}
		got, err := e.Eval(res)
		if err != nil {
			t.Errorf("Eval(%q): %v", c.expr, err)
			continue
		}
		if s := show(got); s != c.want {
			t.Errorf("Eval(%q)\n got: %s\nwant: %s", c.expr, s, c.want)
		}
	}
}

func TestPaths(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.birthDate", `:"1970-03-04"`},
		{"birthDate", `:"1970-03-04"`},
		{"Patient.id", `:"p1"`},
		{"Resource.id", `:"p1"`},
		{"DomainResource.id", `:"p1"`},
		{"Observation.id", ``},
		{"Patient.name.given", `:"Zoë" :"Ann" :"Zo"`},
		{"Patient.name.family", `:"O'Brien"`},
		{"Patient.meta.profile", `:"http://x/p1" :"http://x/p2"`},
		{"Patient.missing.deeper", ``},
		{"Patient.active", `:true`},
		{"Patient.contained", `Practitioner:{"id":"gp","resourceType":"Practitioner"}`},
		{"Patient.contained.id", `:"gp"`},
		// "_birthDate" holds extensions, not values.
		{"Patient._birthDate.extension.url", `:"http://x/time"`},
		{"(Patient.birthDate)", `:"1970-03-04"`},
		{"$this.id", `:"p1"`},
		{"%resource.id", `:"p1"`},
		{"%rootResource.id", `:"p1"`},
		{"%context.id", `:"p1"`},
		{"`birthDate`", `:"1970-03-04"`},
	})
}

func TestChoiceElements(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.deceased", `dateTime:"2020-01-01"`},
		{"Patient.multipleBirth", `integer:2`},
		{"Patient.extension.value", `string:"A" code:"B"`},
		{"Patient.deceased.exists() and Patient.deceased != false", `boolean:true`},
	})
	runEvalCases(t, `{"resourceType":"ElementDefinition","binding":{"valueSet":"http://vs"}}`, []evalCase{
		// valueSet is an element of its own, not a choice of "value".
		{"binding.value", ``},
		{"binding.valueSet", `:"http://vs"`},
	})
}

func TestUnion(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.birthDate | Person.birthDate", `:"1970-03-04"`},
		{"Person.birthDate | Patient.birthDate", `:"1970-03-04"`},
		{"Patient.active | Patient.id", `:true :"p1"`},
		// Duplicates are removed.
		{"Patient.id | Patient.id", `:"p1"`},
		{"Patient.name.given | Patient.name.given.first()", `:"Zoë" :"Ann" :"Zo"`},
		{"name | alias", `:{"family":"O'Brien","given":["Zoë","Ann"],"use":"official"} :{"given":["Zo"],"use":"nickname"}`},
		{"{}", ``},
		{"{} | Patient.id", `:"p1"`},
	})
}

func TestWhereAndEquality(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.telecom.where(system='email').value", `:"z@example.org"`},
		{"Patient.telecom.where(system = 'phone').value", `:"0123"`},
		{"Patient.telecom.where(system!='phone').value", `:"z@example.org"`},
		{"Patient.telecom.where(system='fax')", ``},
		{"Patient.name.where(use='official').given", `:"Zoë" :"Ann"`},
		{"Patient.name.where(given.exists()).use", `:"official" :"nickname"`},
		{"Patient.name.where(family.exists()).use", `:"official"`},
		{"Patient.name.where(family = 'O\\'Brien').use", `:"official"`},
		{"Patient.id = 'p1'", `boolean:true`},
		{"Patient.id != 'p1'", `boolean:false`},
		{"Patient.id = Patient.id", `boolean:true`},
		{"Patient.missing = 'x'", ``},
		{"Patient.missing != 'x'", ``},
		{"Patient.multipleBirth = 2", `boolean:true`},
		{"Patient.multipleBirth = 2.0", `boolean:true`},
		{"Patient.active = true", `boolean:true`},
		{"Patient.active = 'true'", `boolean:false`},
		// Collections compare item by item.
		{"Patient.name.given = Patient.name.given", `boolean:true`},
		{"Patient.name.given = 'Zoë'", `boolean:false`},
		{"Patient.telecom.select(system)", `:"phone" :"email"`},
	})
}

func TestLogic(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"true and true", `boolean:true`},
		{"true and false", `boolean:false`},
		{"false and {}", `boolean:false`},
		{"true and {}", ``},
		{"{} and {}", ``},
		{"false or true", `boolean:true`},
		{"false or false", `boolean:false`},
		{"{} or true", `boolean:true`},
		{"{} or false", ``},
		{"Patient.active and Patient.id", `boolean:true`},
		{"Patient.active.not()", `boolean:false`},
		{"Patient.missing.not()", ``},
		{"Patient.missing.empty()", `boolean:true`},
		{"Patient.name.exists(use='nickname')", `boolean:true`},
		{"Patient.name.exists(use='maiden')", `boolean:false`},
		{"Patient.name.count()", `integer:2`},
	})
}

func TestIndexers(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.name[0].use", `:"official"`},
		{"Patient.name[1].use", `:"nickname"`},
		{"Patient.name[2].use", ``},
		{"Patient.name.given[1]", `:"Ann"`},
		{"Patient.name.given.first()", `:"Zoë"`},
		{"Patient.name.given.last()", `:"Zo"`},
		{"Patient.name.given.tail()", `:"Ann" :"Zo"`},
		{"Patient.missing.first()", ``},
	})
	runEvalCases(t, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Composition","id":"c"}},{"resource":{"resourceType":"Patient","id":"p"}}]}`, []evalCase{
		{"Bundle.entry[0].resource", `Composition:{"id":"c","resourceType":"Composition"}`},
		{"Bundle.entry.resource.id", `:"c" :"p"`},
		{"Bundle.entry.resource.ofType(Patient).id", `:"p"`},
	})
}

func TestExtensions(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.extension('http://x/ext/a')", `Extension:{"url":"http://x/ext/a","valueString":"A"}`},
		{"Patient.extension('http://x/ext/a').value", `string:"A"`},
		{"Patient.extension('http://x/none')", ``},
		{"Patient.hasExtension('http://x/ext/b')", `boolean:true`},
		{"Patient.hasExtension('http://x/none')", `boolean:false`},
		{"Patient.where(hasExtension('http://x/ext/b')).id", `:"p1"`},
	})
}

func TestResolve(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.generalPractitioner.where(resolve() is Practitioner).reference", `:"Practitioner/gp1" :"#gp"`},
		{"Patient.generalPractitioner.where(resolve() is Organization).reference", `:"https://other.example/fhir/Organization/o1/_history/3"`},
		{"Patient.generalPractitioner.where(resolve() is Patient)", ``},
		// An identifier-only reference is typed by Reference.type.
		{"Patient.generalPractitioner.where(resolve() is Practitioner).identifier.value", `:"G123"`},
		{"Patient.generalPractitioner.where(resolve() is Resource).count()", `integer:4`},
		{"Patient.generalPractitioner.resolve()", `Practitioner:{"id":"gp1","resourceType":"Practitioner"} Organization:{"id":"o1","resourceType":"Organization"} Practitioner:{"id":"gp","resourceType":"Practitioner"} Practitioner:{"resourceType":"Practitioner"}`},
		{"Patient.generalPractitioner.resolve().id", `:"gp1" :"o1" :"gp"`},
		{"Patient.generalPractitioner[0].resolve() is Practitioner", `boolean:true`},
		{"Patient.generalPractitioner[1].resolve() is Practitioner", `boolean:false`},
		{"Patient.generalPractitioner[3].resolve() is Practitioner", ``},
		// Unfused forms agree with the fused "resolve() is T".
		{"Patient.generalPractitioner.where(resolve().is(Practitioner)).count()", `integer:3`},
		{"Patient.generalPractitioner.where((resolve()) is Practitioner).count()", `integer:3`},
		// "x/p1" does not look like Type/id.
		{"Patient.meta.profile.resolve()", ``},
	})
	runEvalCases(t, `{"resourceType":"X","url":"http://hl7.org/fhir/StructureDefinition/Patient|4.0.1"}`, []evalCase{
		{"url.resolve() is StructureDefinition", `boolean:true`},
	})
}

func TestTypes(t *testing.T) {
	obs := `{"resourceType":"Observation",
	  "valueQuantity":{"value":5.40,"unit":"mmol/l","system":"http://unitsofmeasure.org","code":"mmol/L"},
	  "effectivePeriod":{"start":"2020-01-01"},
	  "component":[
	    {"code":{"text":"a"},"valueQuantity":{"value":1}},
	    {"code":{"text":"b"},"valueCodeableConcept":{"text":"x"}},
	    {"code":{"text":"c"},"valueRange":{"low":{"value":1}}}
	  ],
	  "note":[{"text":"n"}],
	  "issued":"2020-01-01T10:00:00Z",
	  "subject":{"reference":"Patient/1"}}`
	runEvalCases(t, obs, []evalCase{
		{"Observation.value as Quantity", `Quantity:{"code":"mmol/L","system":"http://unitsofmeasure.org","unit":"mmol/l","value":5.40}`},
		{"(Observation.value as Quantity).value", `:5.40`},
		{"Observation.value.as(Quantity).unit", `:"mmol/l"`},
		{"Observation.value as CodeableConcept", ``},
		{"Observation.value.ofType(Quantity).code", `:"mmol/L"`},
		{"Observation.value is Quantity", `boolean:true`},
		{"Observation.value is Range", `boolean:false`},
		{"Observation.value is FHIR.Quantity", `boolean:true`},
		{"Observation.effective as Period", `Period:{"start":"2020-01-01"}`},
		{"Observation.effective as dateTime", ``},
		{"Observation.component.value as Quantity", `Quantity:{"value":1}`},
		{"Observation.component.value.as(Quantity) | Observation.component.value.as(Range)", `Quantity:{"value":1} Range:{"low":{"value":1}}`},
		{"Observation.component.value.ofType(CodeableConcept).text", `:"x"`},
		// Untyped values are judged by their shape.
		{"Observation.subject as Reference", `Reference:{"reference":"Patient/1"}`},
		{"Observation.subject as Quantity", ``},
		{"Observation.subject is Reference", `boolean:true`},
		{"Observation.issued as dateTime", `dateTime:"2020-01-01T10:00:00Z"`},
		{"Observation.issued as instant", `instant:"2020-01-01T10:00:00Z"`},
		{"Observation.issued as DateTime", `dateTime:"2020-01-01T10:00:00Z"`},
		{"Observation.issued as date", ``},
		{"Observation.issued as string", `string:"2020-01-01T10:00:00Z"`},
		{"Observation.issued as boolean", ``},
		{"Observation.note as Annotation", `Annotation:{"text":"n"}`},
		// An object of a type the shape table does not know is kept.
		{"Observation.note as Dosage", `Dosage:{"text":"n"}`},
		{"Observation is Observation", `boolean:true`},
		{"Observation is DomainResource", `boolean:true`},
		{"Observation is Patient", `boolean:false`},
	})
	cond := `{"resourceType":"Condition","onsetAge":{"value":52,"unit":"years"},"abatementString":"later"}`
	runEvalCases(t, cond, []evalCase{
		{"Condition.onset.as(Age) | Condition.onset.as(Range)", `Age:{"unit":"years","value":52}`},
		{"Condition.onset as Quantity", `Age:{"unit":"years","value":52}`},
		{"Condition.abatement.as(string)", `string:"later"`},
		{"Condition.abatement.as(String)", `string:"later"`},
		{"Condition.abatement.as(dateTime) | Condition.abatement.as(Period)", ``},
	})
}

func TestEvalFrom(t *testing.T) {
	obs := decode(t, `{"resourceType":"Observation","id":"o",
	  "component":[{"code":{"text":"a"},"valueQuantity":{"value":1}}]}`)
	comps, err := MustCompile("Observation.component").Eval(obs)
	if err != nil || len(comps) != 1 {
		t.Fatalf("component: %v %v", comps, err)
	}
	for expr, want := range map[string]string{
		"code":                                 `:{"text":"a"}`,
		"value.as(Quantity) | value.as(Range)": `Quantity:{"value":1}`,
		"%resource.id":                         `:"o"`,
		"%context.code.text":                   `:"a"`,
		"$this.code.text | %resource.id":       `:"a" :"o"`,
		"Observation.id":                       ``, // the focus is not a resource
	} {
		got, err := MustCompile(expr).EvalFrom(obs, comps[0])
		if err != nil {
			t.Errorf("EvalFrom(%q): %v", expr, err)
			continue
		}
		if s := show(got); s != want {
			t.Errorf("EvalFrom(%q) = %s, want %s", expr, s, want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	res := decode(t, patientJSON)
	for _, expr := range []string{
		"Patient.name.given and true", // more than one item as a condition
		"Patient.name.where(given)",
		"Patient.name is HumanName",
	} {
		_, err := MustCompile(expr).Eval(res)
		if err == nil || !strings.Contains(err.Error(), "expected at most one item") {
			t.Errorf("Eval(%q) error = %v, want a singleton error", expr, err)
		}
	}
	if got, err := MustCompile("Patient.id").Eval(nil); err != nil || got != nil {
		t.Errorf("Eval(nil) = %v, %v", got, err)
	}
}

// TestConcurrentEval shares one Expr across goroutines (run with -race).
func TestConcurrentEval(t *testing.T) {
	res := decode(t, patientJSON)
	e := MustCompile("Patient.telecom.where(system='email').value | Patient.generalPractitioner.where(resolve() is Practitioner)")
	done := make(chan string)
	for range 8 {
		go func() {
			got, err := e.Eval(res)
			if err != nil {
				done <- err.Error()
				return
			}
			done <- show(got)
		}()
	}
	first := <-done
	for range 7 {
		if got := <-done; got != first {
			t.Errorf("concurrent results differ: %s vs %s", got, first)
		}
	}
}
