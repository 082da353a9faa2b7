package fhirpath

import (
	"strings"
	"testing"
)

func TestComparison(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"1 < 2", `boolean:true`},
		{"2 < 1", `boolean:false`},
		{"2 <= 2", `boolean:true`},
		{"2.5 > 2", `boolean:true`},
		{"2.0 >= 2", `boolean:true`},
		{"-1 < 0", `boolean:true`},
		{"Patient.multipleBirth > 1", `boolean:true`},
		{"'abc' < 'abd'", `boolean:true`},
		{"'b' > 'abc'", `boolean:true`},
		// Dates: by time where both have one, text where precisions agree,
		// empty where they differ but agree as far as both go.
		{"Patient.birthDate < @1971-01-01", `boolean:true`},
		{"Patient.birthDate > @1969", `boolean:true`},
		{"Patient.birthDate < @1969", `boolean:false`},
		{"Patient.birthDate > @1970", ``},
		{"Patient.birthDate >= @1970-03", ``},
		{"Patient.birthDate = Patient.birthDate", `boolean:true`},
		{"Patient.meta.lastUpdated > @2024-01-02T03:04:04Z", `boolean:true`},
		{"Patient.meta.lastUpdated < @2024-01-02T04:00:00+01:00", `boolean:false`},
		{"Patient.meta.lastUpdated <= @2024-01-02T04:04:05+01:00", `boolean:true`},
		{"@T10:00:00 < @T11:00:00", `boolean:true`},
		// Empty on either side gives empty.
		{"Patient.missing < 1", ``},
		{"1 > {}", ``},
		{"{} <= {}", ``},
	})
}

func TestArithmetic(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"1 + 2", `integer:3`},
		{"5 - 7", `integer:-2`},
		{"3 * 4", `integer:12`},
		{"7 / 2", `decimal:3.5`},
		{"1 / 3", `decimal:0.33333333`},
		{"6 / 3", `decimal:2`},
		{"7 div 2", `integer:3`},
		{"-7 div 2", `integer:-3`},
		{"7 mod 3", `integer:1`},
		{"5.5 mod 2", `decimal:1.5`},
		{"0.1 + 0.2", `decimal:0.3`},
		{"1.5 * 2", `decimal:3.0`},
		{"2 + 3 * 4", `integer:14`},
		{"(2 + 3) * 4", `integer:20`},
		{"10 - 2 - 3", `integer:5`},
		{"Patient.multipleBirth * 10", `integer:20`},
		{"-Patient.multipleBirth", `integer:-2`},
		{"- (1 + 2)", `integer:-3`},
		{"+5", `integer:5`},
		// Past int64, big numbers take over.
		{"9223372036854775807 + 1", `integer:9223372036854775808`},
		{"-9223372036854775807 - 10", `integer:-9223372036854775817`},
		{"4294967296 * 4294967296", `integer:18446744073709551616`},
		{"9223372036854775807 > 9223372036854775806", `boolean:true`},
		{"99999999999999999999 > 9223372036854775807", `boolean:true`},
		{"-7 mod 3", `integer:-1`},
		// Division by zero is empty.
		{"1 / 0", ``},
		{"1 div 0", ``},
		{"1 mod 0", ``},
		// Strings.
		{"'a' + 'b'", `string:"ab"`},
		{"'a' & 'b'", `string:"ab"`},
		{"'a' + {}", ``},
		{"'a' & {}", `string:"a"`},
		{"{} & {}", `string:""`},
		{"Patient.id & '-' & Patient.multipleBirth", `string:"p1-2"`},
		// Empty propagates.
		{"Patient.missing + 1", ``},
		{"1 * {}", ``},
		{"-Patient.missing", ``},
	})
}

func TestBooleanOperators(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"true implies true", `boolean:true`},
		{"true implies false", `boolean:false`},
		{"true implies {}", ``},
		{"false implies {}", `boolean:true`},
		{"false implies false", `boolean:true`},
		{"{} implies true", `boolean:true`},
		{"{} implies false", ``},
		{"{} implies {}", ``},
		{"true xor false", `boolean:true`},
		{"true xor true", `boolean:false`},
		{"false xor false", `boolean:false`},
		{"true xor {}", ``},
		{"{} xor false", ``},
		// Precedence: and binds tighter than implies, or tighter than implies.
		{"false and true implies false", `boolean:true`},
		{"true or false implies false", `boolean:false`},
	})
}

func TestMembership(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"'Ann' in Patient.name.given", `boolean:true`},
		{"'Bob' in Patient.name.given", `boolean:false`},
		{"Patient.name.given contains 'Zo'", `boolean:true`},
		{"Patient.name.given contains 'Z'", `boolean:false`},
		{"2 in (1 | 2 | 3)", `boolean:true`},
		{"2.0 in (1 | 2)", `boolean:true`},
		{"{} in (1 | 2)", ``},
		{"1 in {}", `boolean:false`},
		{"{} contains 1", `boolean:false`},
		{"(1 | 2) contains {}", ``},
		{"Patient.telecom.where(system in ('email' | 'fax')).value", `:"z@example.org"`},
	})
}

func TestEquivalence(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"'Abc  def' ~ 'abc def'", `boolean:true`},
		{"'abc' !~ 'ABC'", `boolean:false`},
		{"{} ~ {}", `boolean:true`},
		{"{} ~ 1", `boolean:false`},
		{"(1 | 2) ~ (2 | 1)", `boolean:true`},
		{"1 ~ 1.0", `boolean:true`},
	})
}

func TestStringFunctions(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.identifier.value.matches('^[0-9]{10}$')", `boolean:true`},
		{"Patient.identifier.value.matches('^[0-9]{9}$')", `boolean:false`},
		{"Patient.identifier.value.matches('765')", `boolean:true`},
		{"Patient.identifier.value.matches('^' + '943')", `boolean:true`},
		{"Patient.missing.matches('x')", ``},
		{"Patient.id.startsWith('p')", `boolean:true`},
		{"Patient.id.startsWith('q')", `boolean:false`},
		{"Patient.id.endsWith('1')", `boolean:true`},
		{"Patient.id.contains('1')", `boolean:true`},
		{"Patient.id.contains('x')", `boolean:false`},
		{"Patient.id.startsWith({})", ``},
		{"Patient.missing.startsWith('p')", ``},
		{"'Zoë'.length()", `integer:3`},
		{"''.length()", `integer:0`},
		{"Patient.missing.length()", ``},
		{"'abcdef'.indexOf('cd')", `integer:2`},
		{"'abcdef'.indexOf('x')", `integer:-1`},
		{"'Ab'.upper() & 'Ab'.lower()", `string:"ABab"`},
		{"'abcdef'.substring(3)", `string:"def"`},
		{"'abcdef'.substring(1, 2)", `string:"bc"`},
		{"'abcdef'.substring(4, 10)", `string:"ef"`},
		{"'abcdef'.substring(6)", ``},
		{"'abcdef'.substring(-1)", ``},
		{"'abcdef'.substring({})", ``},
		{"'Zoë!'.substring(2, 1)", `string:"ë"`},
		// Arguments see the enclosing $this, not the function's input.
		{"Patient.telecom.where(value.contains(system.substring(0, 1))).value", `:"z@example.org"`},
	})
}

func TestConversions(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"'42'.toInteger()", `integer:42`},
		{"'+7'.toInteger()", `integer:7`},
		{"'4.2'.toInteger()", ``},
		{"'x'.toInteger()", ``},
		{"true.toInteger()", `integer:1`},
		{"Patient.multipleBirth.toInteger()", `integer:2`},
		{"2.5.toInteger()", ``},
		{"Patient.missing.toInteger()", ``},
		{"'4.25'.toDecimal()", `decimal:4.25`},
		{"3.toDecimal()", `decimal:3`},
		{"12.toString()", `string:"12"`},
		{"true.toString()", `string:"true"`},
		{"Patient.birthDate.toString()", `string:"1970-03-04"`},
		{"Patient.name.first().toString()", ``},
		{"Patient.identifier.value.substring(9, 1).toInteger() + 1", `integer:10`},
	})
}

func TestCollectionFunctions(t *testing.T) {
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.name.given.all(length() > 1)", `boolean:true`},
		{"Patient.name.given.all(length() > 2)", `boolean:false`},
		{"Patient.missing.all(false)", `boolean:true`},
		{"Patient.id.hasValue()", `boolean:true`},
		{"Patient.name.hasValue()", `boolean:false`},
		{"Patient.missing.hasValue()", `boolean:false`},
		{"Patient.name.given.hasValue()", `boolean:false`},
		{"(1 | 2).combine(2 | 3).count()", `integer:4`},
		{"(1 | 2).combine(2 | 3).distinct()", `integer:1 integer:2 integer:3`},
		{"(1 | 2).combine(2).isDistinct()", `boolean:false`},
		{"(1 | 2).isDistinct()", `boolean:true`},
		{"{}.isDistinct()", `boolean:true`},
		{"{}.distinct()", ``},
		{"(1 | 2 | 3).intersect(2 | 4)", `integer:2`},
		{"(1 | 2 | 3).exclude(2 | 4)", `integer:1 integer:3`},
		{"(1 | 2).union(2 | 3)", `integer:1 integer:2 integer:3`},
		{"Patient.id.single()", `:"p1"`},
		{"iif(Patient.active, 'yes', 'no')", `string:"yes"`},
		{"iif(Patient.missing, 'yes', 'no')", `string:"no"`},
		{"iif(false, 'yes')", ``},
		{"Patient.id.iif($this = 'p1', 'me', 'other')", `string:"me"`},
		{"(true | false).allTrue()", `boolean:false`},
		{"(true | false).anyTrue()", `boolean:true`},
		{"{}.allTrue()", `boolean:true`},
		{"{}.anyTrue()", `boolean:false`},
		{"true.allFalse()", `boolean:false`},
		{"false.anyFalse()", `boolean:true`},
		{"Patient.telecom.first().children()", `:"phone" :"0123"`},
		{"Patient.name.first().children().count()", `integer:4`},
		{"Patient.contained.children()", `:"gp"`},
		{"Patient.telecom.descendants().count()", `integer:4`},
		{"Patient.name.descendants()", `:"O'Brien" :"Zoë" :"Ann" :"official" :"Zo" :"nickname"`},
		{"Patient.missing.children()", ``},
	})
	// A primitive with only extensions is a child: its "_name" object.
	runEvalCases(t, `{"resourceType":"ActivityDefinition","timingTiming":{"_event":[{"extension":[{"url":"u"}]}]},
	  "topic":[{"text":"a"}],"_status":{"id":"s1"},"status":"draft","x":["a",null],"_x":[null,{"id":"x2"}]}`, []evalCase{
		{"timing.children().count()", `integer:1`},
		{"timing.descendants().count()", `integer:3`},
		{"children().select(id)", `:"x2"`},
		{"children().count()", `integer:5`},
	})
}

// TestNotChoices: an element that is a sibling's name plus a type is not
// that sibling's choice value.
func TestNotChoices(t *testing.T) {
	runEvalCases(t, `{"resourceType":"DiagnosticReport","conclusionCode":[{"text":"c"}],"effectiveDateTime":"2020"}`, []evalCase{
		{"conclusion", ``},
		{"conclusionCode.text", `:"c"`},
		{"effective", `dateTime:"2020"`},
	})
}

// TestInvariantShapes runs expressions written the way profile invariants
// are, on the example Patient (NHS number 943 476 5919).
func TestInvariantShapes(t *testing.T) {
	mod11 := `(11 - ((value.substring(0,1).toInteger() * 10 + value.substring(1,1).toInteger() * 9 +
	  value.substring(2,1).toInteger() * 8 + value.substring(3,1).toInteger() * 7 +
	  value.substring(4,1).toInteger() * 6 + value.substring(5,1).toInteger() * 5 +
	  value.substring(6,1).toInteger() * 4 + value.substring(7,1).toInteger() * 3 +
	  value.substring(8,1).toInteger() * 2) mod 11)) mod 11`
	runEvalCases(t, patientJSON, []evalCase{
		{"Patient.identifier.select(" + mod11 + ")", `integer:9`},
		{"Patient.identifier.all(value.matches('^[0-9]{10}$') and (" + mod11 + ") = value.substring(9,1).toInteger())", `boolean:true`},
		{"hasValue() or (children().count() > id.count())", `boolean:true`},
		{"Patient.extension.all(extension.exists() != value.exists())", `boolean:true`},
	})
}

func TestNewEvalErrors(t *testing.T) {
	res := decode(t, patientJSON)
	for expr, want := range map[string]string{
		"Patient.name.given < 'x'":       "expected at most one item",
		"Patient.name.given + 'x'":       "expected at most one item",
		"Patient.name.given in ('x')":    "expected at most one item",
		"Patient.name.given.length()":    "expected at most one item",
		"Patient.name.given.single()":    "expected at most one item",
		"Patient.active < 1":             "cannot compare",
		"Patient.active + 1":             "cannot apply",
		"Patient.multipleBirth.length()": "expected a string",
		"'abc'.substring('x')":           "expected an integer argument",
		"(1 | 'a').allTrue()":            "expected booleans",
	} {
		_, err := MustCompile(expr).Eval(res)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Eval(%q) error = %v, want it to mention %q", expr, err, want)
		}
	}
}
