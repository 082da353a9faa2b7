package main

import (
	"io"
	"testing"
)

func TestServeAuditFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{nil, "", "on"},
		{nil, "off", "off"},
		{[]string{"--audit", "on"}, "off", "on"},
		{[]string{"--audit", "off"}, "", "off"},
	} {
		getenv := func(k string) string {
			if k == "TELEDERM_AUDIT" {
				return tc.env
			}
			return ""
		}
		c, err := parseServeFlags(tc.args, io.Discard, getenv)
		if err != nil || c.audit != tc.want {
			t.Errorf("%v with TELEDERM_AUDIT=%q: audit %q (%v), want %q", tc.args, tc.env, c.audit, err, tc.want)
		}
	}
	if _, err := parseServeFlags([]string{"--audit", "sometimes"}, io.Discard, func(string) string { return "" }); err == nil {
		t.Error("--audit sometimes accepted")
	}
}
