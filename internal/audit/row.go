package audit

import (
	"slices"
	"strings"
	"time"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// newRow normalises a queued event for storage: references local to base
// become Type/id (without repeats), and the failure detail loses the
// values it quotes.
func newRow(it *item, base string) auditstore.Row {
	e := &it.e
	started := e.Time
	if started.IsZero() {
		started = it.recorded
	}
	r := auditstore.Row{
		Recorded: it.recorded.UnixMicro(), Started: started.UnixMicro(),
		Action: e.Action, Type: e.Type, Status: e.Status,
		Client: e.ClientID, Subject: e.Subject, Patient: e.Patient,
		Source: e.Source, RequestID: e.RequestID, Detail: redact(e.Detail),
	}
	if ref, ok := localRef(e.FHIRUser, base); ok {
		r.Who = ref
	} else {
		r.Who = e.FHIRUser
	}
	var seen map[string]bool // for long lists (a search page); short ones are scanned
	if len(e.Entities) > 16 {
		seen = make(map[string]bool, len(e.Entities))
	}
	for _, s := range e.Entities {
		ref, ok := localRef(s, base)
		if !ok || seen[ref] || (seen == nil && slices.Contains(r.Entities, ref)) {
			continue
		}
		if seen != nil {
			seen[ref] = true
		}
		r.Entities = append(r.Entities, ref)
	}
	return r
}

// localRef reduces "Type/id", "Type/id/_history/3" or "<base>/Type/id" to
// "Type/id"; false for anything else (an external URL, a bare id).
func localRef(s, base string) (string, bool) {
	if base != "" && strings.HasPrefix(s, base+"/") {
		s = s[len(base)+1:]
	}
	typ, rest, ok := strings.Cut(s, "/")
	if !ok || typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return "", false
	}
	id, _, _ := strings.Cut(rest, "/")
	if !validID(id) || !validName(typ) {
		return "", false
	}
	return typ + "/" + id, true
}

// validID checks the R4 id rule: 1 to 64 of [A-Za-z0-9\-\.].
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validName checks a resource type name's spelling (letters only).
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return s != ""
}

// microTime is the inverse of time.UnixMicro, in UTC.
func microTime(us int64) time.Time { return time.UnixMicro(us).UTC() }
