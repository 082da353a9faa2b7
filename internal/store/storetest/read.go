package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/store"
)

func testRead(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	c := write("Patient", "p1", 1, minute(1))
	commit(t, r, c)
	checkVersion(t, "Current", current(t, r, "Patient", "p1"), c)
	v, err := r.Version(t.Context(), "Patient", "p1", 1)
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	checkVersion(t, "Version", v, c)
}

// testBody checks that bytes come back exactly as given, through every
// read: FHIR decimals keep their digits, nothing is re-encoded.
func testBody(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	cases := []struct{ name, body string }{
		{"decimal precision", `{"resourceType":"Observation","valueQuantity":{"value":1.10}}`},
		{"exponent and spacing", "{\n  \"value\" : 1.000e+2 ,\t\"x\":[ ]\n}"},
		{"unicode", `{"name":[{"text":"Zoë Ñúñez ✓ 皮膚 🩺"}],"x":"\u00e9"}`},
		{"not UTF-8, NUL", "\xff\xfe\x00{\"a\":\x00}\x80"},
		{"1 MiB", `{"data":"` + strings.Repeat("QUJD", 1<<18) + `"}`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := string(rune('a' + i))
			c := write("Binary", id, 1, minute(i))
			c.Body = []byte(tc.body)
			commit(t, r, c)
			c.Body[0] ^= 0xff // the store must have kept its own copy
			c.Body = []byte(tc.body)
			checkVersion(t, "Current", current(t, r, "Binary", id), c)
			v, err := r.Version(t.Context(), "Binary", id, 1)
			if err != nil {
				t.Fatalf("Version: %v", err)
			}
			checkVersion(t, "Version", v, c)
			page, err := r.History(t.Context(), store.HistoryQuery{Type: "Binary", ID: id, Count: 1})
			if err != nil || len(page.Versions) != 1 {
				t.Fatalf("History: %d versions, %v", len(page.Versions), err)
			}
			if !bytes.Equal(page.Versions[0].Body, c.Body) {
				t.Errorf("History body %q, want %q", page.Versions[0].Body, c.Body)
			}
		})
	}
}

func testNotFound(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	commit(t, r, write("Patient", "p1", 1, minute(1)))
	commit(t, r, write("Patient", "p1", 2, minute(2)))
	cases := []struct {
		name    string
		typ, id string
		version int64 // for Version
		vread   bool  // call Version, not Current
	}{
		{name: "no such id", typ: "Patient", id: "nope"},
		{name: "same id other type", typ: "Observation", id: "p1"},
		{name: "id is case sensitive", typ: "Patient", id: "P1"},
		{name: "version after current", typ: "Patient", id: "p1", version: 3, vread: true},
		{name: "version zero", typ: "Patient", id: "p1", version: 0, vread: true},
		{name: "negative version", typ: "Patient", id: "p1", version: -1, vread: true},
		{name: "version of missing resource", typ: "Patient", id: "nope", version: 1, vread: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.vread {
				_, err := r.Version(t.Context(), tc.typ, tc.id, tc.version)
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Version(%s/%s, %d) = %v, want ErrNotFound", tc.typ, tc.id, tc.version, err)
				}
				return
			}
			_, err := r.Current(t.Context(), tc.typ, tc.id)
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Current(%s/%s) = %v, want ErrNotFound", tc.typ, tc.id, err)
			}
		})
	}
}

// testVersions writes versions 1..N and reads each one back.
func testVersions(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	const n = 12
	var changes []store.Change
	for v := int64(1); v <= n; v++ {
		c := write("Patient", "p1", v, minute(int(v)))
		commit(t, r, c)
		changes = append(changes, c)
		checkVersion(t, "Current", current(t, r, "Patient", "p1"), c)
	}
	for _, c := range changes {
		got, err := r.Version(t.Context(), "Patient", "p1", c.Version)
		if err != nil {
			t.Fatalf("Version(%d): %v", c.Version, err)
		}
		checkVersion(t, "Version", got, c)
	}
}

func testMethodAndBlobRef(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	changes := []store.Change{
		write("Binary", "b1", 1, minute(1)),
		write("Binary", "b1", 2, minute(2)),
		write("Binary", "b1", 3, minute(3)),
		tombstone("Binary", "b1", 4, minute(4)),
	}
	changes[0].BlobRef = "blobs/sha256/4f8b"
	changes[1].BlobRef = "blobs/sha256/9a01"
	changes[2].Method, changes[2].BlobRef = store.MethodPatch, "blobs/sha256/9a01"
	for _, c := range changes {
		commit(t, r, c)
	}
	page, err := r.History(t.Context(), store.HistoryQuery{Type: "Binary", ID: "b1", Count: 10})
	if err != nil || len(page.Versions) != len(changes) {
		t.Fatalf("History: %d versions, %v", len(page.Versions), err)
	}
	for i, c := range changes {
		got, err := r.Version(t.Context(), "Binary", "b1", c.Version)
		if err != nil {
			t.Fatalf("Version(%d): %v", c.Version, err)
		}
		checkVersion(t, "Version", got, c)
		checkVersion(t, "History", &page.Versions[len(changes)-1-i], c)
	}
}
