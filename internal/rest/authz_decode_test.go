package rest

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

func TestPickMembers(t *testing.T) {
	tests := []struct {
		name, body string
		pick       []string
		wantErr    bool
	}{
		{"empty", `{}`, []string{"a"}, false},
		{"spaces", " {\n \"a\" : 1 ,\t\"b\":[1, {\"c\":\"}\"}] } ", []string{"a", "b"}, false},
		{"skipped values of every kind", `{"s":"x\"}{","n":-1.50e3,"t":true,"z":null,"o":{"k":["]",{"q":"\\"}]},"subject":{"reference":"Patient/p1"}}`, []string{"subject"}, false},
		{"escaped name", `{"sub\u006aect":{"reference":"Patient/p1"}}`, []string{"subject"}, false},
		{"decimal kept as text", `{"value":1.10}`, []string{"value"}, false},
		{"not an object", `[1]`, nil, true},
		{"unterminated", `{"a":"x`, nil, true},
		{"missing colon", `{"a" 1}`, nil, true},
		{"trailing garbage", `{"a":1 "b":2}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickMembers([]byte(tt.body), func(n string) bool { return slices.Contains(tt.pick, n) })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			full, err := decodeForIndex([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{}
			for k, v := range full {
				if slices.Contains(tt.pick, k) {
					want[k] = v
				}
			}
			if !reflect.DeepEqual(got, want) {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(want)
				t.Errorf("picked %s, want %s", a, b)
			}
		})
	}
}
