package search

import (
	"encoding/json"
	"testing"
)

// A parameter whose expression gives a default when a resource carries
// no value (iif), as the referral access policy's does.
func TestIndexIifDefault(t *testing.T) {
	p, err := ParamFromJSON([]byte(`{"resourceType":"SearchParameter","url":"u:ra","code":"ra","type":"token","base":["Task"],
	  "expression":"iif(meta.security.where(system = 'x:ra').exists(), meta.security.where(system = 'x:ra'), 'open')"}`))
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndexer(NewRegistry([]Param{p}), "")
	for _, tt := range []struct{ body, want string }{
		{`{"resourceType":"Task","meta":{"security":[{"system":"x:ra","code":"Organization/a"},{"system":"other","code":"N"}]}}`, "x:ra|Organization/a"},
		{`{"resourceType":"Task"}`, "|open"},
	} {
		var doc map[string]any
		_ = json.Unmarshal([]byte(tt.body), &doc)
		es, err := ix.Entries(doc)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, e := range es {
			if e.Param == "ra" {
				got += e.System + "|" + e.Code
			}
		}
		if got != tt.want {
			t.Errorf("%s: indexed %q, want %q", tt.body, got, tt.want)
		}
	}
}
