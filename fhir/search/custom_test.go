package search

import (
	"strings"
	"testing"
)

func TestParamFromJSON(t *testing.T) {
	good := `{"resourceType":"SearchParameter","url":"https://x/SearchParameter/Task-due","code":"due","type":"date","base":["Task"],"expression":"Task.restriction.period.end","comparator":["lt","ge"]}`
	p, err := ParamFromJSON([]byte(good))
	if err != nil || p.Code != "due" || p.Type != Date || p.Base[0] != "Task" || len(p.Comparators) != 2 {
		t.Fatalf("ParamFromJSON = %+v, %v", p, err)
	}
	reg := NewRegistry(append(DefaultParams(), p))
	if got, ok := reg.Lookup("Task", "due"); !ok || got.URL != p.URL {
		t.Errorf("the added parameter is not found on Task: %v %v", got, ok)
	}
	if _, ok := reg.Lookup("Task", "status"); !ok {
		t.Error("the R4 parameters went missing")
	}
	bad := []struct{ name, json, want string }{
		{"not a SearchParameter", `{"resourceType":"Patient"}`, "resourceType"},
		{"no code", `{"resourceType":"SearchParameter","url":"u","type":"date","base":["Task"]}`, "required"},
		{"unknown type", `{"resourceType":"SearchParameter","url":"u","code":"c","type":"datetime","base":["Task"]}`, "unknown type"},
		{"bad expression", `{"resourceType":"SearchParameter","url":"u","code":"c","type":"date","base":["Task"],"expression":"Task.(("}`, "u"},
	}
	for _, tt := range bad {
		if _, err := ParamFromJSON([]byte(tt.json)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}
