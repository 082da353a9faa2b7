package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

// TestGeneratedUpToDate regenerates choice_gen.go in memory and compares.
func TestGeneratedUpToDate(t *testing.T) {
	path := sharedspec.Path("r4", "structure-definitions.ndjson.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("R4 StructureDefinitions not available (%v): this test needs ../shared/spec/r4 beside the project", err)
	}
	names, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"value", "deceased", "effective", "onset", "multipleBirth"} {
		if !bytes.Contains([]byte("\n"+joined(names)+"\n"), []byte("\n"+n+"\n")) {
			t.Errorf("%s is not among the %d choice names", n, len(names))
		}
	}
	want, err := render(names)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../choice_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("choice_gen.go is stale: run `go generate ./fhir/fhirpath/`")
	}
}

func joined(names []string) string {
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(n)
	}
	return b.String()
}
