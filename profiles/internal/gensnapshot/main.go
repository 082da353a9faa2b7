// Command gensnapshot writes profiles/gen/<id>.json: each differential
// StructureDefinition of profiles/src with a full snapshot, expanded from
// the R4 base definitions in ../shared/spec/r4/structure-definitions.ndjson.gz.
//
// Run by go generate ./profiles (see profiles/profiles.go); the default
// paths are relative to the repository root.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	spec := flag.String("spec", "../shared/spec/r4/structure-definitions.ndjson.gz", "R4 StructureDefinitions (ndjson.gz)")
	src := flag.String("src", "profiles/src", "directory of authored resources")
	out := flag.String("out", "profiles/gen", "directory to write the snapshots to")
	flag.Parse()
	defs, err := readBase(*spec)
	if err != nil {
		log.Fatalf("gensnapshot: %v (the generator needs ../shared/spec/r4 beside the project)", err)
	}
	files, err := run(defs, *src)
	if err != nil {
		log.Fatalf("gensnapshot: %v", err)
	}
	if err := writeDir(*out, files); err != nil {
		log.Fatalf("gensnapshot: %v", err)
	}
}

// run generates the snapshot of every StructureDefinition in src, keyed by
// output file name.
func run(defs definitions, src string) (map[string][]byte, error) {
	names, err := filepath.Glob(filepath.Join(src, "StructureDefinition-*.json"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no StructureDefinition-*.json in %s", src)
	}
	var ours []*object
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		sd, err := decodeObject(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if want := "StructureDefinition-" + sd.str("id") + ".json"; filepath.Base(name) != want {
			return nil, fmt.Errorf("%s: holds id %q; name it %s", name, sd.str("id"), want)
		}
		ours = append(ours, sd)
	}
	known := func(url string) bool {
		if defs[url] != nil {
			return true
		}
		return slices.ContainsFunc(ours, func(sd *object) bool { return sd.str("url") == url })
	}
	files := map[string][]byte{}
	for _, sd := range ours {
		if err := checkProfiles(sd, known); err != nil {
			return nil, err
		}
		full, err := generate(defs, sd)
		if err != nil {
			return nil, err
		}
		b, err := encode(full)
		if err != nil {
			return nil, err
		}
		files[sd.str("id")+".json"] = b
	}
	return files, nil
}

// checkProfiles makes sure every profile and targetProfile a differential
// names is a base definition or one of ours.
func checkProfiles(sd *object, known func(string) bool) error {
	for _, e := range elements(sd, "differential") {
		types, _ := e.get("type").([]any)
		for _, t := range types {
			for _, k := range []string{"profile", "targetProfile"} {
				urls, _ := t.(*object).get(k).([]any)
				for _, u := range urls {
					if !known(u.(string)) {
						return fmt.Errorf("%s: %s: %s %s is not defined", sd.str("id"), e.str("id"), k, u)
					}
				}
			}
		}
	}
	return nil
}

// writeDir writes files into dir and removes the .json files there that
// are no longer generated.
func writeDir(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, name := range old {
		if _, ok := files[filepath.Base(name)]; !ok {
			if err := os.Remove(name); err != nil {
				return err
			}
		}
	}
	for name, b := range files {
		if strings.ContainsRune(name, os.PathSeparator) {
			return fmt.Errorf("bad file name %q", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
