package fhirpath

import (
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"Patient.name.foo()", "unknown function foo()"},
		{"Patient.name.trace('x')", "unknown function trace()"},
		{"Patient.age >", "unexpected end of expression"},
		{"Patient.a xor", "unexpected end of expression"},
		{"1 + * 2", "unexpected '*'"},
		{"Patient.id.matches('(')", "matches(): error parsing regexp"},
		{"Patient.id.substring()", "substring() takes 1 to 2 arguments"},
		{"Patient.id.iif(true)", "iif() takes 2 to 3 arguments"},
		{"@", "'@' must start a date or time literal"},
		{"Patient.a ~", "unexpected end of expression"},
		{"Patient.name[", "indexer must be a non-negative integer literal"},
		{"Patient.name[first()]", "indexer must be a non-negative integer literal"},
		{"Patient.name[0", `expected "]"`},
		{"Patient.", "expected a name after '.'"},
		{"(Patient.name", `expected ")"`},
		{"Patient.name)", "unexpected ')'"},
		{"Patient.where()", "where() takes 1 argument(s)"},
		{"Patient.first(1)", "first() takes no arguments"},
		{"Patient.extension(url)", "extension() takes a string literal"},
		{"Patient.value as", "expected a type name"},
		{"Patient.value.ofType('Quantity')", "expected a type name"},
		{"%foo", "unknown variable %foo"},
		{"$index", "$index is not supported"},
		{"'open", "unterminated ' literal"},
		{`'bad \q'`, `unknown escape \q`},
		{"Patient.name # x", "unexpected character '#'"},
		{"", "unexpected end of expression"},
	} {
		_, err := Compile(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) error = %v, want it to mention %q", c.expr, err, c.want)
		}
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, expr := range []string{
		"Patient.name // a comment",
		"Patient /* inline */ .name",
		"Observation.value as FHIR.Quantity",
		"Observation.value.as(System.String)",
		`'a\'b\\c\u00e9\n'`,
		"%'resource'.id",
	} {
		if _, err := Compile(expr); err != nil {
			t.Errorf("Compile(%q): %v", expr, err)
		}
	}
	if got := MustCompile(`'a\'b\u00e9'`).String(); got != `'a\'b\u00e9'` {
		t.Errorf("String() = %q", got)
	}
	res, _ := MustCompile(`'a\'b\\c\u00e9\t'`).Eval(map[string]any{})
	if len(res) != 1 || res[0].Value != "a'b\\cé\t" {
		t.Errorf("string literal = %v", res)
	}
}

func TestMustCompilePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustCompile did not panic on an invalid expression")
		}
	}()
	MustCompile("Patient.nope(")
}
