package jsonpatch

import "testing"

// FHIR decimals carry their precision in their text, so numbers must come out
// exactly as they went in, and test must tell 1.10 from 1.1.
func TestDecimalPrecision(t *testing.T) {
	for _, tc := range []struct {
		name, doc, patch, want string
	}{
		{
			name:  "untouched numbers keep their text",
			doc:   `{"a":1.10,"b":1e2,"c":-0,"d":0.000000000000000000001,"e":12345678901234567890123,"f":1.0E+2}`,
			patch: `[{"op":"add","path":"/g","value":true}]`,
			want:  `{"a":1.10,"b":1e2,"c":-0,"d":0.000000000000000000001,"e":12345678901234567890123,"f":1.0E+2,"g":true}`,
		},
		{
			name:  "added numbers keep their text",
			doc:   `{"valueQuantity":{"value":1}}`,
			patch: `[{"op":"replace","path":"/valueQuantity/value","value":98.60}]`,
			want:  `{"valueQuantity":{"value":98.60}}`,
		},
		{
			name:  "moved and copied numbers keep their text",
			doc:   `{"a":[3.1400]}`,
			patch: `[{"op":"copy","from":"/a/0","path":"/b"},{"op":"move","from":"/a/0","path":"/c"}]`,
			want:  `{"a":[],"b":3.1400,"c":3.1400}`,
		},
		{
			name:  "test matches the same text",
			doc:   `{"a":1.10}`,
			patch: `[{"op":"test","path":"/a","value":1.10}]`,
			want:  `{"a":1.10}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Apply([]byte(tc.doc), []byte(tc.patch))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDecimalTestDistinguishesPrecision(t *testing.T) {
	runCases(t, []patchCase{
		{
			name:    "1.10 is not 1.1",
			doc:     `{"a":1.10}`,
			patch:   `[{"op":"test","path":"/a","value":1.1}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: "test failed: value differs"},
		},
		{
			name:    "100 is not 1e2",
			doc:     `{"a":[100]}`,
			patch:   `[{"op":"test","path":"/a","value":[1e2]}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: "test failed"},
		},
		{
			name:    "1 is not 1.0",
			doc:     `{"a":{"b":1}}`,
			patch:   `[{"op":"test","path":"/a","value":{"b":1.0}}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: "test failed"},
		},
	})
}
