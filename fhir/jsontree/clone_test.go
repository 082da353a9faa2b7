package jsontree

import "testing"

// TestCloneIsDeep: a clone is Equal to its source, and changing any
// object or array of the clone leaves the source as it was.
func TestCloneIsDeep(t *testing.T) {
	src, err := Decode([]byte(`{"a":[{"b":1.50,"c":["x","y"]}],"d":{"e":true,"f":null},"g":"s"}`))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := Encode(src)
	c := Clone(src)
	if !Equal(c, src) {
		t.Fatalf("clone %v differs from %v", c, src)
	}
	c["g"] = "t"
	c["a"].([]any)[0].(map[string]any)["b"] = "changed"
	c["a"].([]any)[0].(map[string]any)["c"].([]any)[1] = "z"
	c["d"].(map[string]any)["e"] = false
	if after, _ := Encode(src); string(after) != string(before) {
		t.Errorf("changing the clone changed the source:\n%s\n%s", before, after)
	}
	if Clone(nil) != nil {
		t.Error("Clone(nil) is not nil")
	}
}
