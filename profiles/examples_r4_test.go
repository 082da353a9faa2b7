package profiles

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/telederm/telederm/fhir"
)

// Every example, valid or failing, is a valid R4 resource: the failures
// are the profiles' doing, not the base specification's.
func TestExamplesAreR4(t *testing.T) {
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join("examples", "*", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no examples (%v)", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, o := codec.Parse(b); o != nil {
			t.Errorf("%s: %s", name, o.Error())
		}
	}
}
