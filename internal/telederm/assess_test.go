package telederm

import (
	"encoding/json"
	"reflect"
	"testing"
)

// floatNumbers must give what a JSON round trip gives, for trees as the
// workflow holds them (json.Number) and as it builds them (Go values).
func TestFloatNumbers(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
	}{
		{"empty", map[string]any{}},
		{"numbers", map[string]any{"a": json.Number("1.50"), "b": json.Number("-3e2"), "c": 7.25}},
		{"nested", map[string]any{"x": []any{map[string]any{"v": json.Number("12")}, "s", true, nil}}},
		{"go values", map[string]any{"n": 3, "l": []string{"a", "b"}, "m": map[string]int{"k": 2}}},
		{"deep", map[string]any{"a": map[string]any{"b": []any{[]any{json.Number("0.1")}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if got := floatNumbers(tt.in); !reflect.DeepEqual(got, want) {
				t.Errorf("floatNumbers(%v) = %#v, want %#v", tt.in, got, want)
			}
		})
	}
}

// floatNumbers copies: the caller's tree is not changed.
func TestFloatNumbersCopies(t *testing.T) {
	in := map[string]any{"a": []any{json.Number("1")}}
	floatNumbers(in)["a"].([]any)[0] = "changed"
	if in["a"].([]any)[0] != json.Number("1") {
		t.Errorf("the input changed: %v", in)
	}
}
