package rest

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

func coding(system, code string) map[string]any {
	return map[string]any{"system": system, "code": code}
}

func TestAddDeleteMeta(t *testing.T) {
	const sys = "http://example.org/tags"
	cur := metaLists{
		Profile: []string{"http://p/1"},
		Tag:     []map[string]any{{"system": sys, "code": "a", "display": "Alpha"}},
	}
	cases := []struct {
		name     string
		edit     func(cur, arg metaLists) metaLists
		arg      metaLists
		profiles []string
		tags     []string // system|code
		security []string
	}{
		{"add new values", addMeta,
			metaLists{Profile: []string{"http://p/2"}, Tag: []map[string]any{coding(sys, "b")}, Security: []map[string]any{coding("s", "R")}},
			[]string{"http://p/1", "http://p/2"}, []string{sys + "|a", sys + "|b"}, []string{"s|R"}},
		{"add what is there: codings compare by system and code", addMeta,
			metaLists{Profile: []string{"http://p/1"}, Tag: []map[string]any{{"system": sys, "code": "a", "display": "other"}}},
			[]string{"http://p/1"}, []string{sys + "|a"}, []string{}},
		{"same code, other system is another tag", addMeta,
			metaLists{Tag: []map[string]any{coding("other", "a")}},
			[]string{"http://p/1"}, []string{sys + "|a", "other|a"}, []string{}},
		{"delete present values", deleteMeta,
			metaLists{Profile: []string{"http://p/1"}, Tag: []map[string]any{coding(sys, "a")}},
			[]string{}, []string{}, []string{}},
		{"delete absent values", deleteMeta,
			metaLists{Profile: []string{"http://p/9"}, Tag: []map[string]any{coding("other", "a")}},
			[]string{"http://p/1"}, []string{sys + "|a"}, []string{}},
	}
	keys := func(cs []map[string]any) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c["system"].(string)+"|"+c["code"].(string))
		}
		return out
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.edit(cur, tc.arg)
			if p := append([]string{}, got.Profile...); !slices.Equal(p, tc.profiles) {
				t.Errorf("profiles %v, want %v", p, tc.profiles)
			}
			if k := keys(got.Tag); !slices.Equal(k, tc.tags) {
				t.Errorf("tags %v, want %v", k, tc.tags)
			}
			if k := keys(got.Security); !slices.Equal(k, tc.security) {
				t.Errorf("security %v, want %v", k, tc.security)
			}
			if len(cur.Profile) != 1 || len(cur.Tag) != 1 || cur.Tag[0]["display"] != "Alpha" {
				t.Errorf("the current meta was modified: %v", cur)
			}
		})
	}
}

// returnedMeta decodes the meta of a $meta answer.
func returnedMeta(t *testing.T, r Response) metaLists {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var p metaParameters
	if err := json.Unmarshal(r.Body, &p); err != nil || p.ResourceType != "Parameters" || len(p.Parameter) != 1 || p.Parameter[0].Name != "return" {
		t.Fatalf("not a Parameters with one return: %s", r.Body)
	}
	return p.Parameter[0].ValueMeta
}

func TestMetaOperations(t *testing.T) {
	s := newOpsService(t)
	put(t, s, "Patient", "p1", `{"resourceType":"Patient","id":"p1","meta":{"tag":[{"system":"t","code":"keep","display":"Keep me"}]},"active":true}`)
	put(t, s, "Observation", "o1", `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"meta":{"security":[{"system":"s","code":"R"}]}}`)
	ctx := t.Context()
	params := func(meta string) []byte {
		return []byte(`{"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":` + meta + `}]}`)
	}

	if m := returnedMeta(t, s.Meta(ctx, "Patient", "p1")); len(m.Tag) != 1 || m.Tag[0]["display"] != "Keep me" {
		t.Errorf("$meta: %v", m)
	}

	add := s.MetaAdd(ctx, "Patient", "p1", params(`{"profile":["http://p/x"],"tag":[{"system":"t","code":"new"},{"system":"t","code":"keep"}]}`))
	if m := returnedMeta(t, add); !slices.Equal(m.Profile, []string{"http://p/x"}) || len(m.Tag) != 2 {
		t.Errorf("$meta-add returned %v", m)
	}
	if add.Version != 2 {
		t.Errorf("$meta-add wrote version %d, want 2", add.Version)
	}
	read := s.Read(ctx, "Patient", "p1")
	var p struct {
		Active bool
		Meta   struct {
			VersionID string `json:"versionId"`
			Profile   []string
			Tag       []map[string]any
		}
	}
	if err := json.Unmarshal(read.Body, &p); err != nil {
		t.Fatal(err)
	}
	if !p.Active || p.Meta.VersionID != "2" || len(p.Meta.Tag) != 2 || p.Meta.Tag[0]["display"] != "Keep me" {
		t.Errorf("stored after $meta-add: %s", read.Body)
	}
	// The index follows: the new tag is searchable, as a write would make it.
	if found := s.Search(ctx, "Patient", map[string][]string{"_tag": {"t|new"}}, SearchOptions{}); !containsID(found.Body, "p1") {
		t.Errorf("_tag=t|new does not find p1 after $meta-add: %s", found.Body)
	}

	// Adding what is there writes no version.
	if again := s.MetaAdd(ctx, "Patient", "p1", params(`{"tag":[{"system":"t","code":"new"}]}`)); again.Version != 2 {
		t.Errorf("a no-op $meta-add wrote version %d", again.Version)
	}

	del := s.MetaDelete(ctx, "Patient", "p1", params(`{"profile":["http://p/x"],"tag":[{"system":"t","code":"keep"}]}`))
	if m := returnedMeta(t, del); len(m.Profile) != 0 || len(m.Tag) != 1 || m.Tag[0]["code"] != "new" || del.Version != 3 {
		t.Errorf("$meta-delete returned %v (version %d)", m, del.Version)
	}

	typeMeta := returnedMeta(t, s.Meta(ctx, "Patient", ""))
	if len(typeMeta.Tag) != 1 || typeMeta.Tag[0]["code"] != "new" || len(typeMeta.Security) != 0 {
		t.Errorf("type-level $meta: %v", typeMeta)
	}
	sysMeta := returnedMeta(t, s.Meta(ctx, "", ""))
	if len(sysMeta.Tag) != 1 || len(sysMeta.Security) != 1 || sysMeta.Security[0]["code"] != "R" {
		t.Errorf("system-level $meta: %v", sysMeta)
	}
}

func containsID(bundle []byte, id string) bool {
	var b struct {
		Entry []struct{ Resource struct{ ID string } }
	}
	_ = json.Unmarshal(bundle, &b)
	for _, e := range b.Entry {
		if e.Resource.ID == id {
			return true
		}
	}
	return false
}

func TestMetaErrors(t *testing.T) {
	s := newOpsService(t)
	put(t, s, "Patient", "p1", `{"resourceType":"Patient","id":"p1"}`)
	put(t, s, "Patient", "gone", `{"resourceType":"Patient","id":"gone"}`)
	s.Delete(t.Context(), "Patient", "gone", "")
	ok := `{"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"tag":[{"code":"x"}]}}]}`
	cases := []struct {
		name, typ, id, body string
		status              int
		want                []string
	}{
		{"missing resource", "Patient", "nobody", ok, 404, []string{"error not-found"}},
		{"deleted resource", "Patient", "gone", ok, 410, []string{"error deleted"}},
		{"unknown type", "Patientx", "p1", ok, 404, []string{"error not-supported"}},
		{"no body", "Patient", "p1", "", 400, []string{"error required"}},
		{"not a Parameters", "Patient", "p1", `{"resourceType":"Patient"}`, 400, []string{"error invalid resourceType"}},
		{"no meta parameter", "Patient", "p1", `{"resourceType":"Parameters"}`, 400, []string{"error required Parameters.parameter"}},
		{"another parameter", "Patient", "p1", `{"resourceType":"Parameters","parameter":[{"name":"tag","valueString":"x"}]}`, 400,
			[]string{"error not-supported Parameters.parameter[0].name"}},
		{"meta without valueMeta", "Patient", "p1", `{"resourceType":"Parameters","parameter":[{"name":"meta","valueString":"x"}]}`, 400,
			[]string{"error required Parameters.parameter[0].valueMeta"}},
		{"meta twice", "Patient", "p1", `{"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"tag":[{"code":"x"}]}},{"name":"meta","valueMeta":{"tag":[{"code":"y"}]}}]}`, 400,
			[]string{"error structure Parameters.parameter[1]"}},
		{"malformed coding", "Patient", "p1", `{"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"tag":[{"code":"x","colour":"red"}]}}]}`, 400,
			[]string{"error structure Parameters.parameter[0].valueMeta.tag[0].colour"}},
	}
	for _, tc := range cases {
		for _, op := range []struct {
			name string
			run  func() Response
		}{
			{"add", func() Response { return s.MetaAdd(t.Context(), tc.typ, tc.id, []byte(tc.body)) }},
			{"delete", func() Response { return s.MetaDelete(t.Context(), tc.typ, tc.id, []byte(tc.body)) }},
		} {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				r := op.run()
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				if got := issues(t, r.Body); !slices.Equal(got, tc.want) {
					t.Errorf("issues %q, want %q", got, tc.want)
				}
			})
		}
	}
	for _, tc := range []struct {
		name, typ, id string
		status        int
	}{{"$meta of a missing resource", "Patient", "nobody", 404}, {"$meta of a deleted resource", "Patient", "gone", 410}, {"$meta of an unknown type", "Patientx", "", 404}} {
		t.Run(tc.name, func(t *testing.T) {
			if r := s.Meta(t.Context(), tc.typ, tc.id); r.Status != tc.status {
				t.Errorf("status %d, want %d", r.Status, tc.status)
			}
		})
	}
}
