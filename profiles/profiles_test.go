package profiles

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const tdm = "https://telederm.example/fhir/"

// resourceDoc is the part of a published resource these tests read.
type resourceDoc struct {
	ResourceType, ID, URL, Content, Code, Type, Expression string
	CaseSensitive                                          *bool
	Count                                                  int
	Base                                                   []string
	Concept                                                []struct{ Code, Display, Definition string }
	Compose                                                struct {
		Include []struct{ System string }
	}
	Snapshot struct {
		Element []struct {
			ID      string
			Binding *struct{ Strength, ValueSet string }
			Type    []struct {
				Code                   string
				Profile, TargetProfile []string
			}
		}
	}
}

func published(t *testing.T) map[string]resourceDoc {
	t.Helper()
	out := map[string]resourceDoc{}
	for _, b := range Resources() {
		var d resourceDoc
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		key := d.ResourceType + "/" + d.ID
		if _, dup := out[key]; dup {
			t.Errorf("%s published twice", key)
		}
		if d.URL != tdm+key {
			t.Errorf("%s has url %s, want %s", key, d.URL, tdm+key)
		}
		out[key] = d
	}
	return out
}

// Everything a profile names (bindings, extension profiles, targets) and
// every system a ValueSet includes is published or is an outside system.
func TestPublishedSetIsClosed(t *testing.T) {
	all := published(t)
	has := func(url string) bool {
		rest, ok := strings.CutPrefix(url, tdm)
		_, found := all[rest]
		return !ok || found
	}
	sds := 0
	for key, d := range all {
		switch d.ResourceType {
		case "StructureDefinition":
			sds++
			if len(d.Snapshot.Element) == 0 {
				t.Errorf("%s has no snapshot", key)
			}
			for _, e := range d.Snapshot.Element {
				if e.Binding != nil && !has(e.Binding.ValueSet) {
					t.Errorf("%s %s binds to %s, which is not published", key, e.ID, e.Binding.ValueSet)
				}
				for _, ty := range e.Type {
					for _, u := range slices.Concat(ty.Profile, ty.TargetProfile) {
						if !has(u) {
							t.Errorf("%s %s names %s, which is not published", key, e.ID, u)
						}
					}
				}
			}
		case "ValueSet":
			for _, inc := range d.Compose.Include {
				if !has(inc.System) {
					t.Errorf("%s includes %s, which is not published", key, inc.System)
				}
			}
		}
	}
	if sds != 8 {
		t.Errorf("%d StructureDefinitions published, want the 5 profiles and 3 extensions", sds)
	}
}

// Each CodeSystem is complete and case sensitive, defines and displays
// every code, and has a ValueSet of the same id holding all of it.
func TestCodeSystems(t *testing.T) {
	all := published(t)
	for key, d := range all {
		if d.ResourceType != "CodeSystem" {
			continue
		}
		if d.Content != "complete" || d.CaseSensitive == nil || !*d.CaseSensitive || d.Count != len(d.Concept) {
			t.Errorf("%s: content %q, caseSensitive %v, count %d of %d concepts", key, d.Content, d.CaseSensitive, d.Count, len(d.Concept))
		}
		for _, c := range d.Concept {
			if c.Display == "" || c.Definition == "" {
				t.Errorf("%s#%s lacks a display or definition", key, c.Code)
			}
		}
		vs, ok := all["ValueSet/"+d.ID]
		if !ok || len(vs.Compose.Include) != 1 || vs.Compose.Include[0].System != d.URL {
			t.Errorf("%s has no ValueSet of the same id including all of it", key)
		}
	}
}

// The code tables of README.md (the contract) and the CodeSystems agree:
// every code the README lists exists, and (but for triage-rule, whose
// list the rules file extends) no other.
func TestCodeSystemsMatchReadme(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	all := published(t)
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| (.*) \\|$")
	code := regexp.MustCompile("`([a-z0-9-]+)`")
	rows := row.FindAllStringSubmatch(string(readme), -1)
	if len(rows) != 9 {
		t.Fatalf("found %d code-system rows in README.md, want 9", len(rows))
	}
	for _, r := range rows {
		cs, ok := all["CodeSystem/"+r[1]]
		if !ok {
			t.Errorf("README lists CodeSystem %s, which is not published", r[1])
			continue
		}
		var want, have []string
		for _, m := range code.FindAllStringSubmatch(r[2], -1) {
			want = append(want, m[1])
		}
		for _, c := range cs.Concept {
			have = append(have, c.Code)
		}
		for _, w := range want {
			if !slices.Contains(have, w) {
				t.Errorf("CodeSystem %s lacks %s, which README.md lists", r[1], w)
			}
		}
		if r[1] != "triage-rule" && len(have) != len(want) {
			t.Errorf("CodeSystem %s has %v, README.md lists %v", r[1], have, want)
		}
	}
}

func TestSearchParameters(t *testing.T) {
	var got []string
	for _, b := range SearchParameters() {
		var d resourceDoc
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Code+" "+d.Type+" "+strings.Join(d.Base, ",")+" "+d.Expression)
	}
	want := []string{
		"due date Task Task.restriction.period.end",
		"worklist-rank number Task Task.extension('" + tdm + "StructureDefinition/worklist-rank').value",
	}
	if !slices.Equal(got, want) {
		t.Errorf("SearchParameters:\n got %q\nwant %q", got, want)
	}
}
