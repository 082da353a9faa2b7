package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// TestAdminCommandsOnDatabase: with --store mongodb://... (or
// TELEDERM_STORE) the clients, users and keys commands act on the
// database, which every server process on it reads, and leave the data
// directory alone.
func TestAdminCommandsOnDatabase(t *testing.T) {
	uri, err := mongotest.URI()
	if err != nil {
		t.Skipf("no in-process FerretDB for the database: %v", err)
	}
	t.Cleanup(func() { _ = mongotest.Drop(uri) })
	dir := t.TempDir()
	onDB := map[string]string{"TELEDERM_DATA": dir, "TELEDERM_STORE": uri, "TELEDERM_PASSWORD": "correct horse battery"}
	steps := []struct {
		name string
		env  map[string]string
		args []string
		want string // in stdout
	}{
		{"add a client", nil, []string{"clients", "add", "--data", dir, "--store", uri, "--id", "hospital", "--type", "confidential-symmetric",
			"--scope", "system/*.rs", "--launch", "backend"}, "Added client hospital"},
		{"list the clients", onDB, []string{"clients", "list"}, "hospital"},
		{"add a user", onDB, []string{"users", "add", "--username", "drsmith", "--fhir-user", "Practitioner/dr1"}, "Added user drsmith"},
		{"list the users", onDB, []string{"users", "list"}, "Practitioner/dr1"},
		{"rotate the keys", onDB, []string{"keys", "rotate"}, "New signing key"},
		{"list the keys", onDB, []string{"keys", "list"}, "current"},
		{"remove the user", onDB, []string{"users", "remove", "--username", "drsmith"}, "Removed user drsmith"},
	}
	for _, s := range steps {
		code, out, errs := cli(t, s.env, s.args...)
		if code != 0 || !strings.Contains(out, s.want) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want %q", s.name, code, out, errs, s.want)
		}
	}
	if _, out, _ := cli(t, onDB, "users", "list"); strings.Contains(out, "drsmith") {
		t.Errorf("a removed user is still listed: %s", out)
	}
	// The data directory is untouched, and lists nothing.
	if entries, _ := os.ReadDir(filepath.Join(dir, "auth")); len(entries) != 0 {
		t.Errorf("the data directory got files: %v", entries)
	}
	if code, out, errs := cli(t, nil, "clients", "list", "--data", dir); code != 0 || strings.Contains(out, "hospital") {
		t.Errorf("clients of the data directory: exit %d %q %q; want none", code, out, errs)
	}
}
