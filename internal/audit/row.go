package audit

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// row is an event as stored: the columns of the event table.
type row struct {
	seq               int64
	recorded, started int64 // µs since the Unix epoch
	action, typ       string
	status            int
	client, subject   string
	who, patient      string
	source, requestID string
	detail            string
	entities          string // JSON array of the Type/ids touched, or ""
}

// newRow normalises a queued event for storage: references local to base
// become Type/id, and the failure detail loses the values it quotes.
func newRow(it *item, base string) row {
	e := &it.e
	started := e.Time
	if started.IsZero() {
		started = it.recorded
	}
	r := row{
		recorded: it.recorded.UnixMicro(), started: started.UnixMicro(),
		action: e.Action, typ: e.Type, status: e.Status,
		client: e.ClientID, subject: e.Subject, patient: e.Patient,
		source: e.Source, requestID: e.RequestID, detail: redact(e.Detail),
	}
	if ref, ok := localRef(e.FHIRUser, base); ok {
		r.who = ref
	} else {
		r.who = e.FHIRUser
	}
	var refs []string
	var seen map[string]bool // for long lists (a search page); short ones are scanned
	if len(e.Entities) > 16 {
		seen = make(map[string]bool, len(e.Entities))
	}
	for _, s := range e.Entities {
		ref, ok := localRef(s, base)
		if !ok || seen[ref] || (seen == nil && slices.Contains(refs, ref)) {
			continue
		}
		if seen != nil {
			seen[ref] = true
		}
		refs = append(refs, ref)
	}
	if len(refs) > 0 {
		b := []byte{'['}
		for i, ref := range refs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"') // a Type/id needs no escaping
			b = append(b, ref...)
			b = append(b, '"')
		}
		r.entities = string(append(b, ']'))
	}
	return r
}

// touched reads the entities column back.
func touched(entities string) ([]string, error) {
	if entities == "" {
		return nil, nil
	}
	var refs []string
	err := json.Unmarshal([]byte(entities), &refs)
	return refs, err
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
