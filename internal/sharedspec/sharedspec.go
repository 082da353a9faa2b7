// Package sharedspec gives tests the R4 reference material in ../shared
// beside the project (official examples and the like). The project builds
// and passes without it: every loader skips the calling test with a message
// saying what is missing.
package sharedspec

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the module's root directory, found from this file's location so
// tests in any package agree on it.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Path is a file under ../shared/spec.
func Path(parts ...string) string {
	return filepath.Join(append([]string{Root(), "..", "shared", "spec"}, parts...)...)
}

// Example is one official R4 example resource.
type Example struct {
	Name string // Type/id
	Body []byte
}

// Examples reads ../shared/spec/r4/examples.ndjson.gz, or skips t.
func Examples(t testing.TB) []Example {
	t.Helper()
	path := Path("r4", "examples.ndjson.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("official R4 examples not available (%v): this test needs ../shared/spec/r4/examples.ndjson.gz beside the project", err)
	}
	var out []Example
	err := EachLine(path, func(line []byte) error {
		var head struct{ ResourceType, ID string }
		if err := json.Unmarshal(line, &head); err != nil || head.ResourceType == "" {
			return fmt.Errorf("a line that is not a resource: %.100s", line)
		}
		out = append(out, Example{Name: head.ResourceType + "/" + head.ID, Body: line})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// EachLine calls fn with each line that is not blank of a gzipped ndjson
// file (the spec's examples and StructureDefinitions), trimmed, in a slice
// of its own, stopping at the first error.
func EachLine(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(bytes.Clone(line)); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// InvalidExample is an official example that breaks R4's own rules, listed
// in testdata/r4-examples-invalid.json with the element at fault.
type InvalidExample struct {
	Resource, Expression, Reason string
}

// KnownInvalid reads testdata/r4-examples-invalid.json, keyed by Type/id.
func KnownInvalid(t testing.TB) map[string]InvalidExample {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), "testdata", "r4-examples-invalid.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Examples []InvalidExample }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]InvalidExample{}
	for _, e := range doc.Examples {
		out[e.Resource] = e
	}
	return out
}
