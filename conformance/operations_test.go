package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
)

// opPrefix makes ids unique to one run, so the tests also hold against a
// shared server (TELEDERM_BASE_URL).
func opPrefix(name string) string {
	return name + strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
}

// opCodec parses answers to check that they are valid R4.
func opCodec(t *testing.T) *fhir.Codec {
	t.Helper()
	c, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// opPut stores a resource at its id and returns its meta.lastUpdated.
func opPut(t *testing.T, base, typ, id, body string) string {
	t.Helper()
	r := do(t, http.MethodPut, base+"/"+typ+"/"+id, []byte(body))
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		t.Fatalf("PUT %s/%s: %d %s", typ, id, r.status, r.body)
	}
	meta, _ := object(t, r.body)["meta"].(map[string]any)
	lu, _ := meta["lastUpdated"].(string)
	return lu
}

func TestOperationValidate(t *testing.T) {
	base := target(t)
	existing := opPrefix("val")
	opPut(t, base, "Patient", existing, fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, existing))

	type issue struct{ severity, code, expr string }
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     []issue // exactly these issues, in any order; expr "" means none
	}{
		{"every fault of a resource at once", "POST", "/Patient/$validate",
			`{"resourceType":"Patient","foo":1,"gender":"hermaphrodite","birthDate":"1990-13-45","active":"yes"}`, 200,
			[]issue{{"error", "structure", "Patient.foo"}, {"error", "code-invalid", "Patient.gender"},
				{"error", "value", "Patient.birthDate"}, {"error", "value", "Patient.active"}}},
		{"a valid resource", "POST", "/Patient/$validate", `{"resourceType":"Patient","active":true}`, 200,
			[]issue{{"information", "informational", ""}}},
		{"update without an id", "POST", "/Patient/$validate?mode=update", `{"resourceType":"Patient","active":true}`, 200,
			[]issue{{"error", "required", "Patient.id"}}},
		{"update through Parameters", "POST", "/Patient/x1/$validate",
			`{"resourceType":"Parameters","parameter":[{"name":"mode","valueCode":"update"},{"name":"resource","resource":{"resourceType":"Patient","id":"x2"}}]}`, 200,
			[]issue{{"error", "invalid", "Patient.id"}}},
		{"create with an id", "POST", "/Patient/$validate?mode=create", `{"resourceType":"Patient","id":"mine"}`, 200,
			[]issue{{"warning", "value", "Patient.id"}, {"information", "informational", ""}}},
		{"delete of a missing resource", "GET", "/Patient/" + existing + "-missing/$validate?mode=delete", "", 200,
			[]issue{{"error", "not-found", "Patient.id"}}},
		{"delete of an existing resource", "POST", "/Patient/" + existing + "/$validate?mode=delete", "", 200,
			[]issue{{"information", "informational", ""}}},
		{"unknown profile", "POST", "/Patient/$validate?profile=" + url.QueryEscape("http://example.org/StructureDefinition/none"),
			`{"resourceType":"Patient"}`, 200, []issue{{"error", "not-supported", "profile"}}},
		{"type differs from the URL", "POST", "/Observation/$validate", `{"resourceType":"Patient"}`, 400,
			[]issue{{"error", "invalid", "resourceType"}}},
		{"no body", "POST", "/Patient/$validate", "", 400, []issue{{"error", "required", ""}}},
		{"body not JSON", "POST", "/Patient/$validate", `Patient, please`, 400, []issue{{"error", "structure", ""}}},
		{"unknown type", "POST", "/Spaceship/$validate", `{"resourceType":"Spaceship"}`, 404, []issue{{"error", "not-supported", ""}}},
		{"GET needs mode=delete", "GET", "/Patient/$validate", "", 400, []issue{{"error", "required", ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r := do(t, tc.method, base+tc.path, body)
			if r.status != tc.status {
				t.Fatalf("%s %s: %d, want %d: %s", tc.method, tc.path, r.status, tc.status, r.body)
			}
			o := decodeOutcome(t, r.body)
			if _, po := opCodec(t).Parse(r.body); po != nil {
				t.Errorf("the OperationOutcome is not valid R4: %s", po.Error())
			}
			var got []issue
			for _, is := range o.Issue {
				if is.Diagnostics == "" {
					t.Errorf("issue without diagnostics: %+v", is)
				}
				got = append(got, issue{is.Severity, is.Code, strings.Join(is.Expression, ",")})
			}
			less := func(a, b issue) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) }
			want := slices.Clone(tc.want)
			slices.SortFunc(got, less)
			slices.SortFunc(want, less)
			if !slices.Equal(got, want) {
				t.Errorf("issues\n got %v\nwant %v\n%s", got, want, r.body)
			}
		})
	}
	// $validate stores nothing.
	if r := do(t, http.MethodGet, base+"/Patient/mine", nil); r.status != http.StatusNotFound {
		t.Errorf("after $validate, GET Patient/mine: %d", r.status)
	}
}

// compartmentResource is a resource of a Patient compartment type that
// refers to the patient through one of the type's compartment parameters.
func compartmentResource(typ, id, patient string) string {
	subject := fmt.Sprintf(`"subject":{"reference":"Patient/%s"}`, patient)
	patientRef := fmt.Sprintf(`"patient":{"reference":"Patient/%s"}`, patient)
	var rest string
	switch typ {
	case "Observation":
		rest = `"status":"final","code":{"text":"lesion diameter"},"performer":[{"reference":"Practitioner/` + patient + `-gp"}],` + subject
	case "Condition":
		rest = subject
	case "ServiceRequest":
		rest = `"status":"active","intent":"order",` + subject
	case "Media":
		rest = `"status":"completed","content":{"contentType":"image/jpeg"},` + subject
	case "DiagnosticReport":
		rest = `"status":"final","code":{"text":"advice"},` + subject
	case "Encounter":
		rest = `"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},` + subject
	case "MedicationStatement":
		rest = `"status":"active","medicationCodeableConcept":{"text":"emollient"},` + subject
	case "AllergyIntolerance":
		rest = patientRef
	case "Procedure":
		rest = `"status":"completed",` + subject
	case "Immunization":
		rest = `"status":"completed","vaccineCode":{"text":"BCG"},"occurrenceDateTime":"2020-01-01",` + patientRef
	}
	return fmt.Sprintf(`{"resourceType":%q,"id":%q,%s}`, typ, id, rest)
}

var compartmentTypes = []string{"Observation", "Condition", "ServiceRequest", "Media", "DiagnosticReport",
	"Encounter", "MedicationStatement", "AllergyIntolerance", "Procedure", "Immunization"}

// everythingPages follows next links from url and returns every match and
// include (Type/id, in the order seen) and the number of pages.
func everythingPages(t *testing.T, base, url string, pageSize int) (matches, includes []string, pages int) {
	t.Helper()
	for url != "" && pages < 100 {
		r := do(t, http.MethodGet, url, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, r.status, r.body)
		}
		var b struct {
			ResourceType, Type string
			Link               []struct{ Relation, URL string }
			Entry              []struct {
				FullURL string `json:"fullUrl"`
				Search  struct{ Mode string }
			}
		}
		decodeInto(t, r.body, &b)
		if _, o := opCodec(t).Parse(r.body); o != nil {
			t.Errorf("page %d is not valid R4: %s", pages+1, o.Error())
		}
		if b.ResourceType != "Bundle" || b.Type != "searchset" {
			t.Fatalf("not a searchset: %.300s", r.body)
		}
		pages++
		n := 0
		for _, e := range b.Entry {
			ref := strings.TrimPrefix(e.FullURL, base+"/")
			switch e.Search.Mode {
			case "match":
				matches = append(matches, ref)
				n++
			case "include":
				includes = append(includes, ref)
			}
		}
		if pageSize > 0 && n > pageSize {
			t.Errorf("page %d has %d matches, more than _count=%d", pages, n, pageSize)
		}
		url = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				url = l.URL
			}
		}
	}
	return matches, includes, pages
}

func TestOperationEverything(t *testing.T) {
	base := target(t)
	p := opPrefix("ev")
	pat, other := p+"-pat", p+"-other"
	lastUpdated := map[string]string{}
	put := func(typ, id, body string) {
		lastUpdated[typ+"/"+id] = opPut(t, base, typ, id, body)
	}
	for _, who := range []string{pat, other} {
		put("Practitioner", who+"-gp", fmt.Sprintf(`{"resourceType":"Practitioner","id":"%s-gp"}`, who))
		put("Patient", who, fmt.Sprintf(`{"resourceType":"Patient","id":%q,"active":true}`, who))
	}
	// 5 resources of each of 10 types for the patient; 1 of each for the
	// other patient, which must not appear.
	want := []string{"Patient/" + pat}
	for _, typ := range compartmentTypes {
		for i := range 5 {
			id := fmt.Sprintf("%s-%s-%d", pat, strings.ToLower(typ), i)
			put(typ, id, compartmentResource(typ, id, pat))
			want = append(want, typ+"/"+id)
		}
		id := other + "-" + strings.ToLower(typ)
		put(typ, id, compartmentResource(typ, id, other))
	}
	slices.Sort(want)
	everything := base + "/Patient/" + pat + "/$everything"

	t.Run("paged with _count=7", func(t *testing.T) {
		matches, includes, pages := everythingPages(t, base, everything+"?_count=7", 7)
		seen := map[string]int{}
		for _, m := range matches {
			if seen[m]++; seen[m] == 2 {
				t.Errorf("%s returned twice", m)
			}
		}
		got := slices.Sorted(func(yield func(string) bool) {
			for m := range seen {
				if !yield(m) {
					return
				}
			}
		})
		if !slices.Equal(got, want) {
			t.Errorf("%d distinct matches, want the %d resources of the compartment\n got %v\nwant %v", len(got), len(want), got, want)
		}
		if pages != 8 {
			t.Errorf("%d pages, want 8 (51 matches, 7 a page)", pages)
		}
		if !slices.Contains(includes, "Practitioner/"+pat+"-gp") {
			t.Errorf("the Observations' performer is not included: %v", includes)
		}
		for _, inc := range includes {
			if strings.Contains(inc, other) {
				t.Errorf("%s of another patient was included", inc)
			}
		}
	})

	t.Run("_type", func(t *testing.T) {
		for _, tc := range []struct {
			types string
			want  []string
		}{
			{"Observation,Condition", slices.DeleteFunc(slices.Clone(want), func(s string) bool {
				return !strings.HasPrefix(s, "Observation/") && !strings.HasPrefix(s, "Condition/")
			})},
			{"Patient,Observation", slices.DeleteFunc(slices.Clone(want), func(s string) bool {
				return !strings.HasPrefix(s, "Observation/") && !strings.HasPrefix(s, "Patient/")
			})},
		} {
			matches, _, _ := everythingPages(t, base, everything+"?_type="+tc.types, 0)
			slices.Sort(matches)
			if !slices.Equal(matches, tc.want) {
				t.Errorf("_type=%s: %d matches %v, want %d %v", tc.types, len(matches), matches, len(tc.want), tc.want)
			}
		}
	})

	t.Run("_since", func(t *testing.T) {
		// Update three resources after the others, then ask for what
		// changed since the first of those updates.
		time.Sleep(20 * time.Millisecond)
		updated := []string{"Condition", "Media", "Procedure"}
		var since string
		for i, typ := range updated {
			id := fmt.Sprintf("%s-%s-%d", pat, strings.ToLower(typ), i)
			body := strings.Replace(compartmentResource(typ, id, pat), "{", `{"language":"en",`, 1)
			put(typ, id, body)
			if since == "" {
				since = lastUpdated[typ+"/"+id]
			}
		}
		sinceT, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			t.Fatalf("lastUpdated %q: %v", since, err)
		}
		var expect []string
		for _, ref := range want {
			lu, err := time.Parse(time.RFC3339Nano, lastUpdated[ref])
			if err != nil {
				t.Fatalf("lastUpdated of %s %q: %v", ref, lastUpdated[ref], err)
			}
			if !lu.Before(sinceT) {
				expect = append(expect, ref)
			}
		}
		if len(expect) != len(updated) {
			t.Fatalf("%d resources updated at or after %s, want %d: %v", len(expect), since, len(updated), expect)
		}
		matches, _, _ := everythingPages(t, base, everything+"?_since="+url.QueryEscape(since), 0)
		slices.Sort(matches)
		if !slices.Equal(matches, expect) {
			t.Errorf("_since=%s: %v, want %v", since, matches, expect)
		}
	})

	t.Run("every patient", func(t *testing.T) {
		matches, _, _ := everythingPages(t, base, base+"/Patient/$everything?_count=20", 20)
		for _, ref := range append(slices.Clone(want), "Patient/"+other, "Observation/"+other+"-observation") {
			if !slices.Contains(matches, ref) {
				t.Errorf("Patient/$everything lacks %s", ref)
			}
		}
		if slices.Contains(matches, "Practitioner/"+pat+"-gp") {
			t.Error("a Practitioner is a match of Patient/$everything")
		}
	})

	t.Run("POST", func(t *testing.T) {
		r := do(t, http.MethodPost, everything, []byte(`{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Immunization"}]}`))
		if r.status != http.StatusOK {
			t.Fatalf("POST $everything: %d %s", r.status, r.body)
		}
		if n := len(decodeBundle(t, r.body).Entry); n != 5 {
			t.Errorf("POST $everything with _type=Immunization: %d entries, want 5", n)
		}
	})

	t.Run("unknown patient", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/Patient/"+p+"-nobody/$everything", nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("%d, want 404: %s", r.status, r.body)
		}
		if o := decodeOutcome(t, r.body); !o.hasIssue("not-found", "") {
			t.Errorf("outcome %s", r.body)
		}
	})
	t.Run("on another type", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/Observation/$everything", nil)
		if r.status != http.StatusNotFound {
			t.Fatalf("%d, want 404: %s", r.status, r.body)
		}
		if o := decodeOutcome(t, r.body); !o.hasIssue("not-supported", "") {
			t.Errorf("outcome %s", r.body)
		}
	})
}

// metaOf reads the "return" valueMeta of a $meta answer.
func metaOf(t *testing.T, r reply) (profiles, tags []string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%d: %s", r.status, r.body)
	}
	var p struct {
		ResourceType string
		Parameter    []struct {
			Name      string
			ValueMeta struct {
				Profile []string
				Tag     []struct{ System, Code string }
			}
		}
	}
	decodeInto(t, r.body, &p)
	if p.ResourceType != "Parameters" || len(p.Parameter) != 1 || p.Parameter[0].Name != "return" {
		t.Fatalf("not a Parameters with one return: %s", r.body)
	}
	if _, o := opCodec(t).Parse(r.body); o != nil {
		t.Errorf("the answer is not valid R4: %s\n%s", o.Error(), r.body)
	}
	for _, tg := range p.Parameter[0].ValueMeta.Tag {
		tags = append(tags, tg.System+"|"+tg.Code)
	}
	slices.Sort(tags)
	return p.Parameter[0].ValueMeta.Profile, tags
}

func TestOperationMeta(t *testing.T) {
	base := target(t)
	p := opPrefix("meta")
	sys := "http://telederm.example/" + p
	a, b := p+"-a", p+"-b"
	opPut(t, base, "Patient", a, fmt.Sprintf(`{"resourceType":"Patient","id":%q,"meta":{"tag":[{"system":%q,"code":"first"}]}}`, a, sys))
	opPut(t, base, "Patient", b, fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, b))
	inst := base + "/Patient/" + a
	params := func(meta string) []byte {
		return []byte(`{"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":` + meta + `}]}`)
	}

	if _, tags := metaOf(t, do(t, http.MethodGet, inst+"/$meta", nil)); !slices.Equal(tags, []string{sys + "|first"}) {
		t.Errorf("$meta: tags %v", tags)
	}
	add := do(t, http.MethodPost, inst+"/$meta-add", params(fmt.Sprintf(
		`{"profile":["http://telederm.example/fhir/StructureDefinition/referral-patient"],"tag":[{"system":%q,"code":"second"},{"system":%q,"code":"first"}]}`, sys, sys)))
	profiles, tags := metaOf(t, add)
	if !slices.Equal(tags, []string{sys + "|first", sys + "|second"}) || len(profiles) != 1 {
		t.Errorf("$meta-add returned profiles %v tags %v", profiles, tags)
	}
	if add.header.Get("ETag") != `W/"2"` {
		t.Errorf("$meta-add ETag %q, want the new version W/\"2\"", add.header.Get("ETag"))
	}
	// The resource itself carries the tags, and a search finds it by them.
	read := object(t, do(t, http.MethodGet, inst, nil).body)
	if meta, _ := read["meta"].(map[string]any); meta["versionId"] != "2" || len(meta["tag"].([]any)) != 2 {
		t.Errorf("read after $meta-add: %v", read["meta"])
	}
	if f := searchFor(t, base, "Patient?_tag="+url.QueryEscape(sys+"|second")); !slices.Equal(f.match, []string{"Patient/" + a}) {
		t.Errorf("_tag search after $meta-add: %v", f.match)
	}

	del := do(t, http.MethodPost, inst+"/$meta-delete", params(fmt.Sprintf(
		`{"profile":["http://telederm.example/fhir/StructureDefinition/referral-patient"],"tag":[{"system":%q,"code":"first"}]}`, sys)))
	if profiles, tags := metaOf(t, del); len(profiles) != 0 || !slices.Equal(tags, []string{sys + "|second"}) {
		t.Errorf("$meta-delete returned profiles %v tags %v", profiles, tags)
	}

	// Type and system level: the union of what current resources carry.
	if r := do(t, http.MethodPost, base+"/Patient/"+b+"/$meta-add", params(fmt.Sprintf(`{"tag":[{"system":%q,"code":"third"}]}`, sys))); r.status != http.StatusOK {
		t.Fatalf("$meta-add on %s: %d %s", b, r.status, r.body)
	}
	for _, u := range []string{base + "/Patient/$meta", base + "/$meta"} {
		_, tags := metaOf(t, do(t, http.MethodGet, u, nil))
		ours := slices.DeleteFunc(tags, func(s string) bool { return !strings.HasPrefix(s, sys+"|") })
		if !slices.Equal(ours, []string{sys + "|second", sys + "|third"}) {
			t.Errorf("GET %s: tags %v, want second and third", u, ours)
		}
	}

	for _, tc := range []struct {
		name, method, path string
		body               []byte
		status             int
		code, expr         string
	}{
		{"missing resource", "POST", "/Patient/" + p + "-nobody/$meta-add", params(`{"tag":[{"code":"x"}]}`), 404, "not-found", ""},
		{"not a Parameters", "POST", "/Patient/" + a + "/$meta-add", []byte(`{"resourceType":"Patient"}`), 400, "invalid", "resourceType"},
		{"no meta parameter", "POST", "/Patient/" + a + "/$meta-delete", []byte(`{"resourceType":"Parameters","parameter":[{"name":"tag","valueString":"x"}]}`), 400, "not-supported", "Parameters.parameter[0].name"},
		{"malformed coding", "POST", "/Patient/" + a + "/$meta-add", params(`{"tag":[{"code":"x","colour":"red"}]}`), 400, "structure", "Parameters.parameter[0].valueMeta.tag[0].colour"},
		{"GET of $meta-add", "GET", "/Patient/" + a + "/$meta-add", nil, 405, "not-supported", ""},
		{"$meta-add at type level", "POST", "/Patient/$meta-add", params(`{"tag":[{"code":"x"}]}`), 404, "not-supported", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, base+tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("%d, want %d: %s", r.status, tc.status, r.body)
			}
			if o := decodeOutcome(t, r.body); !o.hasIssue(tc.code, tc.expr) {
				t.Errorf("no %s issue at %q: %s", tc.code, tc.expr, r.body)
			}
		})
	}
}

func TestOperationUnknown(t *testing.T) {
	base := target(t)
	for _, path := range []string{"/$foo", "/Patient/$foo", "/Patient/123/$foo", "/$everything", "/Patient/$meta-delete"} {
		t.Run(path, func(t *testing.T) {
			r := do(t, http.MethodGet, base+path, nil)
			if r.status != http.StatusNotFound {
				t.Fatalf("%d, want 404: %s", r.status, r.body)
			}
			o := decodeOutcome(t, r.body)
			op := path[strings.LastIndex(path, "/")+1:]
			if !o.hasIssue("not-supported", "") || !strings.Contains(o.Issue[0].Diagnostics, op) {
				t.Errorf("outcome does not name %s as not supported: %s", op, r.body)
			}
		})
	}
	// An operation path is never taken for a resource id.
	for _, tc := range []struct {
		name, method, path string
		headers            []string
		status             int
	}{
		{"PUT on an operation", "PUT", "/Patient/$validate", nil, 405},
		{"DELETE on an instance operation", "DELETE", "/Patient/123/$meta", nil, 405},
		{"XML body", "POST", "/Patient/$validate", []string{"Content-Type", "application/fhir+xml"}, 415},
		{"unknown type", "GET", "/Spaceship/$meta", nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, base+tc.path, []byte(`{"resourceType":"Patient"}`), tc.headers...)
			if r.status != tc.status {
				t.Fatalf("%d, want %d: %s", r.status, tc.status, r.body)
			}
			if o := decodeOutcome(t, r.body); !o.hasIssue("not-supported", "") {
				t.Errorf("outcome %s", r.body)
			}
		})
	}
}

func TestOperationCapabilities(t *testing.T) {
	base := target(t)
	var cs struct {
		Rest []struct {
			Operation []struct{ Name, Definition string }
			Resource  []struct {
				Type      string
				Operation []struct{ Name, Definition string }
			}
		}
	}
	decodeInto(t, do(t, http.MethodGet, base+"/metadata", nil).body, &cs)
	if len(cs.Rest) != 1 {
		t.Fatalf("%d rest entries", len(cs.Rest))
	}
	const def = "http://hl7.org/fhir/OperationDefinition/"
	ops := func(list []struct{ Name, Definition string }) map[string]string {
		m := map[string]string{}
		for _, o := range list {
			m[o.Name] = o.Definition
		}
		return m
	}
	if got := ops(cs.Rest[0].Operation); got["meta"] != def+"Resource-meta" {
		t.Errorf("system operations %v, want meta", got)
	}
	typeOps := map[string]string{
		"validate": def + "Resource-validate", "meta": def + "Resource-meta",
		"meta-add": def + "Resource-meta-add", "meta-delete": def + "Resource-meta-delete",
	}
	checked := 0
	for _, r := range cs.Rest[0].Resource {
		got := ops(r.Operation)
		for name, d := range typeOps {
			if got[name] != d {
				t.Errorf("%s: operation %s has definition %q, want %q", r.Type, name, got[name], d)
			}
		}
		switch everything := got["everything"]; {
		case r.Type == "Patient" && everything != def+"Patient-everything":
			t.Errorf("Patient: everything has definition %q", everything)
		case r.Type != "Patient" && everything != "":
			t.Errorf("%s lists $everything", r.Type)
		}
		checked++
	}
	if checked < 145 {
		t.Errorf("only %d resource types listed", checked)
	}
}
