package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchWhileChanging searches while a writer keeps moving resources
// in and out of the result: each one cycles through matching (tag a), not
// matching (tag b) and deleted. Every page must show what one moment of
// the store held: only live versions (never a tombstone) and only versions
// that match, for matches and included resources alike.
func testSearchWhileChanging(t *testing.T, r store.Repository) {
	const n = 20
	pTag := param("_tag", search.Token)
	state := func(typ, id string, version int64) store.Change {
		var c store.Change
		switch version % 3 {
		case 1: // matching
			c = write(typ, id, version, minute(int(version)))
			c.Body = fmt.Appendf(nil, `{"resourceType":%q,"id":%q,"tag":"a"}`, typ, id)
			c.Index = []search.Entry{eToken("_tag", "urn:test", "a")}
		case 2: // not matching
			c = write(typ, id, version, minute(int(version)))
			c.Body = fmt.Appendf(nil, `{"resourceType":%q,"id":%q,"tag":"b"}`, typ, id)
			c.Index = []search.Entry{eToken("_tag", "urn:test", "b")}
		default:
			c = tombstone(typ, id, version, minute(int(version)))
		}
		if typ == "ServiceRequest" && !c.Deleted {
			c.Index = append(c.Index, eRef("subject", "Patient", id))
		}
		return c
	}
	for i := range n {
		id := fmt.Sprintf("p%02d", i)
		commit(t, r, state("Patient", id, 1), state("ServiceRequest", id, 1))
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		version := make([]int64, n)
		for k := 0; !stop.Load(); k++ {
			i := k % n
			version[i]++
			id := fmt.Sprintf("p%02d", i)
			// The Patient and its ServiceRequest move together.
			v := version[i] + 1
			if err := r.Commit(t.Context(), []store.Change{state("Patient", id, v), state("ServiceRequest", id, v)}); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	})
	defer func() { stop.Store(true); wg.Wait() }()

	q := search.Query{Type: "Patient", Count: n, Total: "accurate",
		Where:      and(qSystemCode(pTag, "urn:test", "a")),
		RevInclude: []search.Include{{SourceType: "ServiceRequest", Param: pSubject}}}
	deadline := time.Now().Add(time.Second)
	for searches := 0; time.Now().Before(deadline) || searches < 50; searches++ {
		page, err := r.Search(t.Context(), &q)
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		for _, v := range page.Matches {
			if v.Deleted || !bytes.Contains(v.Body, []byte(`"tag":"a"`)) {
				t.Fatalf("search %d: match %s/%s version %d (deleted %v) %s does not match",
					searches, v.Type, v.ID, v.VersionID, v.Deleted, v.Body)
			}
		}
		for _, v := range page.Included {
			if v.Deleted || v.Body == nil {
				t.Fatalf("search %d: included %s/%s version %d is deleted", searches, v.Type, v.ID, v.VersionID)
			}
		}
		if page.Total != len(page.Matches) {
			t.Fatalf("search %d: Total %d but %d matches on a page that holds them all", searches, page.Total, len(page.Matches))
		}
	}
}
