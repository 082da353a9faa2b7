package suite

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// builtinFS holds the suite's own TestScripts: they ship inside the binary
// so `telederm conformance` needs no files beside it.
//
//go:embed testscripts/*.json
var builtinFS embed.FS

// FixtureLoader returns the content of a fixture reference that is not a
// contained resource ("Patient/example", "fixtures/patient.json"), or an
// error saying why it cannot.
type FixtureLoader func(ref string) ([]byte, error)

// Script is one TestScript ready to run.
type Script struct {
	// File is where the script came from, for reports.
	File       string
	TestScript *TestScript
	// Fixtures resolves fixture references that are not "#contained"; nil
	// leaves them not loaded (the steps using them are skipped).
	Fixtures FixtureLoader
}

// Builtin returns the embedded TestScripts in file name order.
func Builtin() ([]Script, error) {
	sub, err := fs.Sub(builtinFS, "testscripts")
	if err != nil {
		return nil, err
	}
	scripts, err := loadFS(sub, "builtin:")
	if err != nil {
		return nil, err
	}
	if len(scripts) == 0 {
		return nil, errors.New("no embedded TestScripts")
	}
	return scripts, nil
}

// LoadDir reads every *.json TestScript directly in dir, in file name
// order. Other JSON files there (and files in sub-directories) are not
// scripts: they can be fixtures, referenced relative to dir.
func LoadDir(dir string) ([]Script, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	scripts, err := loadFS(os.DirFS(dir), dir+string(os.PathSeparator))
	if err != nil {
		return nil, err
	}
	if len(scripts) == 0 {
		return nil, fmt.Errorf("%s holds no TestScript (*.json)", dir)
	}
	return scripts, nil
}

func loadFS(fsys fs.FS, prefix string) ([]Script, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Script
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(string(data[:min(len(data), 4096)]), `"TestScript"`) {
			continue // a fixture, not a script
		}
		ts, err := ParseTestScript(data)
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", prefix, name, err)
		}
		out = append(out, Script{File: prefix + name, TestScript: ts, Fixtures: fsLoader(fsys)})
	}
	return out, nil
}

// fsLoader resolves a fixture reference as a file in fsys: the reference
// itself or with ".json" added, so "Patient/example" finds
// Patient/example.json. fs.FS paths cannot climb out of the directory.
func fsLoader(fsys fs.FS) FixtureLoader {
	return func(ref string) ([]byte, error) {
		name := path.Clean(strings.TrimPrefix(ref, "./"))
		if !fs.ValidPath(name) || strings.Contains(ref, "://") {
			return nil, fmt.Errorf("not a file beside the script")
		}
		for _, n := range []string{name, name + ".json"} {
			if b, err := fs.ReadFile(fsys, n); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("no file %s or %s.json beside the script", name, name)
	}
}
