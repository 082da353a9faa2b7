// Package profiles holds what Telederm publishes about the
// teledermatology data model (README.md): the profiles and extensions as
// StructureDefinitions with snapshots, their CodeSystems and ValueSets, and
// the SearchParameters of the referral worklist, embedded in the binary.
package profiles

//go:generate go run ./internal/gensnapshot -spec ../../shared/spec/r4/structure-definitions.ndjson.gz -src src -out gen

import (
	"embed"
	"io/fs"
	"path"
	"slices"

	"github.com/telederm/telederm/fhir/profile"
)

// gen holds the generated StructureDefinitions (differential and
// snapshot); src the authored resources, of which the terminology and the
// SearchParameters are published as they are.
//
//go:embed gen/*.json
var gen embed.FS

//go:embed src/CodeSystem-*.json src/ValueSet-*.json src/SearchParameter-*.json
var src embed.FS

// Resources returns every resource the server publishes, as JSON:
// StructureDefinitions (with snapshots), CodeSystems, ValueSets and
// SearchParameters, in a stable order.
func Resources() [][]byte {
	return slices.Concat(readAll(gen, "gen/*.json"),
		readAll(src, "src/CodeSystem-*.json"), readAll(src, "src/ValueSet-*.json"),
		SearchParameters())
}

// Validator returns a validator of the published profiles, with their
// extensions, ValueSets and CodeSystems.
func Validator() (*profile.Set, error) {
	return profile.Load(slices.Concat(readAll(gen, "gen/*.json"),
		readAll(src, "src/CodeSystem-*.json"), readAll(src, "src/ValueSet-*.json"))...)
}

// SearchParameters returns the SearchParameters of the workflow (on Task:
// worklist-rank, due), for the search registry.
func SearchParameters() [][]byte {
	return readAll(src, "src/SearchParameter-*.json")
}

// readAll reads the files matching pattern, sorted by name. The patterns
// are fixed and the files embedded, so a failure is a build defect.
func readAll(fsys embed.FS, pattern string) [][]byte {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		panic(err)
	}
	slices.Sort(names)
	out := make([][]byte, 0, len(names))
	for _, name := range names {
		b, err := fsys.ReadFile(path.Clean(name))
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}
