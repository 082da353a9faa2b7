package rest

import (
	"encoding/json"
	"testing"
)

func TestSameExceptMeta(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			"resourceType": "Media", "id": "m1",
			"meta":    map[string]any{"versionId": "1"},
			"status":  "completed",
			"basedOn": []any{map[string]any{"reference": "ServiceRequest/s"}},
			"height":  json.Number("480"),
			"note":    []any{map[string]any{"text": "x"}, nil, true},
		}
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		want bool
	}{
		{"identical", func(map[string]any) {}, true},
		{"meta changed", func(m map[string]any) {
			m["meta"] = map[string]any{"security": []any{map[string]any{"code": "o"}}}
		}, true},
		{"meta removed", func(m map[string]any) { delete(m, "meta") }, true},
		{"a field changed", func(m map[string]any) { m["status"] = "entered-in-error" }, false},
		{"a field added", func(m map[string]any) { m["width"] = json.Number("640") }, false},
		{"a field removed", func(m map[string]any) { delete(m, "status") }, false},
		{"a nested value changed", func(m map[string]any) {
			m["basedOn"] = []any{map[string]any{"reference": "ServiceRequest/t"}}
		}, false},
		{"a number's text changed", func(m map[string]any) { m["height"] = json.Number("480.0") }, false},
		{"a list grew", func(m map[string]any) {
			m["note"] = append(m["note"].([]any), "y")
		}, false},
		{"a Go int where JSON has a number", func(m map[string]any) { m["height"] = 480 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.edit(b)
			if got := sameExceptMeta(base(), b); got != tt.want {
				t.Errorf("sameExceptMeta = %v, want %v", got, tt.want)
			}
		})
	}
}
