// Command gen writes fhir/search/registry_gen.go from the R4 search
// parameters in ../shared beside the module. Run it with
// `go generate ./fhir/search/` from the module root.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/telederm/telederm/fhir/search/internal/gen/paramgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	spec := flag.String("spec", filepath.Join(root, "..", "shared", "spec", "r4", "search-parameters.json"), "the R4 SearchParameter bundle")
	out := flag.String("out", filepath.Join(root, "fhir", "search", "registry_gen.go"), "the file to write")
	flag.Parse()

	bundle, err := os.ReadFile(*spec)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is missing: the generator needs the R4 search parameters in ../shared/spec/r4 beside the module (registry_gen.go is committed, so building does not)", *spec)
	}
	if err != nil {
		return err
	}
	src, err := paramgen.Generate(bundle)
	if err != nil {
		return fmt.Errorf("%s: %w", *spec, err)
	}
	return os.WriteFile(*out, src, 0o644)
}

// moduleRoot is the nearest directory upwards holding go.mod; go generate
// runs in the package directory, go run anywhere inside the module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from inside the module")
		}
		dir = parent
	}
}
