package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

// The committed gen/ is what the generator makes from src/ today.
func TestGeneratedUpToDate(t *testing.T) {
	spec := sharedspec.Path("r4", "structure-definitions.ndjson.gz")
	if _, err := os.Stat(spec); err != nil {
		t.Skipf("R4 StructureDefinitions not available (%v): this test needs ../shared/spec/r4/structure-definitions.ndjson.gz beside the project", err)
	}
	defs, err := readBase(spec)
	if err != nil {
		t.Fatal(err)
	}
	files, err := run(defs, filepath.Join("..", "..", "src"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := filepath.Glob(filepath.Join("..", "..", "gen", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range committed {
		if _, ok := files[filepath.Base(name)]; !ok {
			t.Errorf("gen/%s is committed but no longer generated; run go generate ./profiles", filepath.Base(name))
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", "gen", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("gen/%s is out of date (%v); run go generate ./profiles", name, err)
		}
	}
}

// A miniature base: a resource Thing with an Identifier, a repeating
// backbone part, and a choice value; the Identifier data type.
const miniBase = `{"url":"http://hl7.org/fhir/StructureDefinition/Thing","type":"Thing","snapshot":{"element":[
 {"id":"Thing","path":"Thing","min":0,"max":"*"},
 {"id":"Thing.ident","path":"Thing.ident","min":0,"max":"*","type":[{"code":"Identifier"}]},
 {"id":"Thing.part","path":"Thing.part","min":0,"max":"*","type":[{"code":"BackboneElement"}]},
 {"id":"Thing.part.code","path":"Thing.part.code","min":1,"max":"1","type":[{"code":"code"}]},
 {"id":"Thing.value[x]","path":"Thing.value[x]","min":0,"max":"1","type":[{"code":"integer"},{"code":"string"}]},
 {"id":"Thing.status","path":"Thing.status","min":1,"max":"1","type":[{"code":"code"}],"constraint":[{"key":"b-1"}]}]}}`

const miniIdentifier = `{"url":"http://hl7.org/fhir/StructureDefinition/Identifier","type":"Identifier","snapshot":{"element":[
 {"id":"Identifier","path":"Identifier","min":0,"max":"*"},
 {"id":"Identifier.system","path":"Identifier.system","min":0,"max":"1","type":[{"code":"uri"}]},
 {"id":"Identifier.value","path":"Identifier.value","min":0,"max":"1","type":[{"code":"string"}]}]}}`

func miniDefs(t *testing.T) definitions {
	t.Helper()
	defs := definitions{}
	for _, s := range []string{miniBase, miniIdentifier} {
		o, err := decodeObject([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		defs[o.str("url")] = o
	}
	return defs
}

func profileOf(t *testing.T, diff string) *object {
	t.Helper()
	o, err := decodeObject([]byte(`{"resourceType":"StructureDefinition","id":"p","type":"Thing",
		"baseDefinition":"http://hl7.org/fhir/StructureDefinition/Thing","derivation":"constraint",
		"differential":{"element":[` + diff + `]}}`))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// snapshotLines renders each snapshot element as "id min..max" plus its
// sliceName, fixed/pattern keys and constraint keys, for comparison.
func snapshotLines(sd *object) []string {
	var out []string
	for _, e := range elements(sd, "snapshot") {
		line := e.str("id") + " " + e.get("min").(interface{ String() string }).String() + ".." + e.str("max")
		for _, k := range e.keys {
			if strings.HasPrefix(k, "pattern") || strings.HasPrefix(k, "fixed") || k == "sliceName" || k == "slicing" {
				line += " " + k
			}
		}
		cs, _ := e.get("constraint").([]any)
		for _, c := range cs {
			line += " " + c.(*object).str("key")
		}
		out = append(out, line)
	}
	return out
}

func TestGenerateSnapshot(t *testing.T) {
	for _, tt := range []struct {
		name, diff string
		want       []string
	}{
		{"cardinality and constraint added to the base's",
			`{"id":"Thing.status","path":"Thing.status","constraint":[{"key":"p-1"}]},{"id":"Thing.value[x]","path":"Thing.value[x]","min":1,"type":[{"code":"integer"}]}`,
			[]string{"Thing 0..*", "Thing.ident 0..*", "Thing.part 0..*", "Thing.part.code 1..1", "Thing.value[x] 1..1", "Thing.status 1..1 b-1 p-1"}},
		{"a data type's children unfold under the element",
			`{"id":"Thing.ident.system","path":"Thing.ident.system","min":1,"fixedUri":"urn:x"}`,
			[]string{"Thing 0..*", "Thing.ident 0..*", "Thing.ident.system 1..1 fixedUri", "Thing.ident.value 0..1", "Thing.part 0..*", "Thing.part.code 1..1", "Thing.value[x] 0..1", "Thing.status 1..1 b-1"}},
		{"slices follow the element's children, copied from the base, in differential order",
			`{"id":"Thing.part","path":"Thing.part","min":1,"slicing":{"rules":"open"}},
			 {"id":"Thing.part:b","path":"Thing.part","sliceName":"b","max":"1"},
			 {"id":"Thing.part:a","path":"Thing.part","sliceName":"a","min":1},
			 {"id":"Thing.part:a.code","path":"Thing.part.code","patternCode":"x"}`,
			[]string{"Thing 0..*", "Thing.ident 0..*", "Thing.part 1..* slicing", "Thing.part.code 1..1",
				"Thing.part:b 0..1 sliceName", "Thing.part:b.code 1..1", "Thing.part:a 1..* sliceName", "Thing.part:a.code 1..1 patternCode",
				"Thing.value[x] 0..1", "Thing.status 1..1 b-1"}},
		{"a slice of a data type unfolds under the slice",
			`{"id":"Thing.ident","path":"Thing.ident","slicing":{"rules":"open"}},
			 {"id":"Thing.ident:n","path":"Thing.ident","sliceName":"n","min":1,"max":"1"},
			 {"id":"Thing.ident:n.value","path":"Thing.ident.value","min":1}`,
			[]string{"Thing 0..*", "Thing.ident 0..* slicing", "Thing.ident:n 1..1 sliceName", "Thing.ident:n.system 0..1", "Thing.ident:n.value 1..1",
				"Thing.part 0..*", "Thing.part.code 1..1", "Thing.value[x] 0..1", "Thing.status 1..1 b-1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := generate(miniDefs(t), profileOf(t, tt.diff))
			if err != nil {
				t.Fatal(err)
			}
			if lines := snapshotLines(got); !slices.Equal(lines, tt.want) {
				t.Errorf("snapshot\n got %q\nwant %q", lines, tt.want)
			}
			if got.keys[len(got.keys)-2] != "snapshot" || got.keys[len(got.keys)-1] != "differential" {
				t.Errorf("keys %v: the snapshot goes before the differential", got.keys)
			}
		})
	}
}

// Differentials that would loosen the base, or name what is not there,
// are refused with the reason.
func TestGenerateRefuses(t *testing.T) {
	for _, tt := range []struct{ diff, want string }{
		{`{"id":"Thing.status","path":"Thing.status","min":0}`, "below the base"},
		{`{"id":"Thing.value[x]","path":"Thing.value[x]","max":"*"}`, "over the base"},
		{`{"id":"Thing.value[x]","path":"Thing.value[x]","min":2}`, "over max"},
		{`{"id":"Thing.value[x]","path":"Thing.value[x]","type":[{"code":"boolean"}]}`, "not allowed by the base"},
		{`{"id":"Thing.part:a","path":"Thing.part","sliceName":"a"}`, "not sliced"},
		{`{"id":"Thing.nothing","path":"Thing.nothing"}`, "no element"},
		{`{"id":"Thing.part.nothing","path":"Thing.part.nothing"}`, "has no child"},
		{`{"id":"Thing.value[x].x","path":"Thing.value[x].x"}`, "types"},
		{`{"id":"Thing.status","path":"Thing.state"}`, "does not match"},
		{`{"id":"Thing.status","path":"Thing.status","constraint":[{"key":"b-1"}]}`, "already defined"},
	} {
		_, err := generate(miniDefs(t), profileOf(t, tt.diff))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", tt.diff, err, tt.want)
		}
	}
}

// Encoding keeps key order and text as written, indented by two spaces.
func TestEncodeKeepsOrder(t *testing.T) {
	in := "{\n  \"z\": 1.50,\n  \"a\": [\n    \"<b> & c\",\n    true,\n    null\n  ],\n  \"m\": {},\n  \"e\": []\n}\n"
	v, err := decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := encode(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip\n got %s\nwant %s", out, in)
	}
	if _, err := decode([]byte(`{"a":1,"a":2}`)); err == nil {
		t.Error("a duplicate key was accepted")
	}
}
