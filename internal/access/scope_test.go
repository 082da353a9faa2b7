package access

import (
	"net/url"
	"testing"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		in      string
		want    Scope
		ok      bool
		wantErr bool
	}{
		{in: "patient/Observation.read", want: Scope{Context: "patient", Type: "Observation", Ops: "rs"}, ok: true},
		{in: "user/*.write", want: Scope{Context: "user", Type: "*", Ops: "cud"}, ok: true},
		{in: "system/*.*", want: Scope{Context: "system", Type: "*", Ops: "cruds"}, ok: true},
		{in: "patient/Observation.rs", want: Scope{Context: "patient", Type: "Observation", Ops: "rs"}, ok: true},
		{in: "user/*.cruds", want: Scope{Context: "user", Type: "*", Ops: "cruds"}, ok: true},
		{in: "patient/Observation.rs?category=laboratory", want: Scope{Context: "patient", Type: "Observation", Ops: "rs",
			Criteria: url.Values{"category": {"laboratory"}}}, ok: true},
		{in: "openid", ok: false},
		{in: "launch/patient", ok: false},
		{in: "offline_access", ok: false},
		{in: "patient/Observation.sr", wantErr: true},
		{in: "patient/Observation.rr", wantErr: true},
		{in: "patient/Observation.", wantErr: true},
		{in: "patient/observation.rs", wantErr: true},
		{in: "patient/Observation", wantErr: true},
		{in: "patient/Observation.read?category=x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok, err := ParseScope(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if got.String() != tt.want.String() && tt.ok {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	must := func(s string) Scope {
		sc, ok, err := ParseScope(s)
		if err != nil || !ok {
			t.Fatalf("parse %q: %v %v", s, ok, err)
		}
		return sc
	}
	tests := []struct {
		have, want string
		covers     bool
	}{
		{"system/*.rs", "system/Patient.r", true},
		{"system/*.rs", "system/Patient.read", true},
		{"system/*.rs", "system/Patient.rs?identifier=x", true},
		{"system/*.rs", "system/Patient.c", false},
		{"system/*.rs", "user/Patient.r", false},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.rs", false},
		{"patient/Observation.rs?category=laboratory", "patient/Observation.r?category=laboratory", true},
		{"patient/Observation.cruds", "patient/Condition.r", false},
	}
	for _, tt := range tests {
		if got := must(tt.have).Covers(must(tt.want)); got != tt.covers {
			t.Errorf("%s covers %s = %v, want %v", tt.have, tt.want, got, tt.covers)
		}
	}
}

func TestApplicable(t *testing.T) {
	sc, err := ParseScopes("openid fhirUser patient/*.rs user/Observation.cu system/AuditEvent.rs")
	if err != nil {
		t.Fatal(err)
	}
	g := &Grant{Scopes: sc}
	tests := []struct {
		typ  string
		op   Op
		want int
	}{
		{"Patient", Read, 1},
		{"Observation", Read, 1},
		{"Observation", Create, 1},
		{"Observation", Delete, 0},
		{"AuditEvent", Search, 1},
		{"Patient", Create, 0},
	}
	for _, tt := range tests {
		if got := len(g.Applicable(tt.typ, tt.op)); got != tt.want {
			t.Errorf("Applicable(%s, %c) = %d scopes, want %d", tt.typ, tt.op, got, tt.want)
		}
	}
	star := &Grant{Scopes: Scopes{Resource: []Scope{{Context: "system", Type: "*", Ops: "cruds"}}}}
	if n := len(star.Applicable("AuditEvent", Search)); n != 0 {
		t.Errorf("a * scope reached the audit trail (%d scopes)", n)
	}
	if !sc.Has("openid") || sc.Has("launch") {
		t.Errorf("Has: openid %v launch %v", sc.Has("openid"), sc.Has("launch"))
	}
}
