package audit

import (
	"context"
	"crypto/aes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
)

// Every kind of event renders as an R4 AuditEvent that the project's codec
// parses and validates (type, recorded, agent with requestor and
// source.observer are required), with the codes the trail promises.
func TestRenderedEventsAreValidR4(t *testing.T) {
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	type agentWant struct{ who, ident, altID, network string }
	for _, tc := range []struct {
		name                     string
		e                        Event
		typ, subtype, action, oc string
		agents                   []agentWant // requestor first
		entities                 []string    // what.reference, or "type:X" for a type alone, "role:Patient" suffix for the patient
	}{
		{
			name: "read by a practitioner through an app, patient in context",
			e: Event{Action: "read", Type: "Patient", Status: 200, ClientID: "gp-app", Subject: "u-17", FHIRUser: "Practitioner/dr1",
				Patient: "p1", Source: "10.1.2.3", RequestID: "req-1", Entities: []string{"Patient/p1"}},
			typ: "rest", subtype: "read", action: "R", oc: "0",
			agents:   []agentWant{{who: "Practitioner/dr1", altID: "u-17", network: "10.1.2.3/2"}, {ident: "gp-app"}},
			entities: []string{"Patient/p1 role:Patient", "id:req-1"},
		},
		{
			name: "search by a backend service, entities and a versioned reference",
			e: Event{Action: "search-type", Type: "Observation", Status: 200, ClientID: "lab", Subject: "lab", Source: "2001:db8::1",
				Entities: []string{"Observation/o1", testBase + "/Observation/o2/_history/3", "Observation/o1"}},
			typ: "rest", subtype: "search-type", action: "E", oc: "0",
			agents:   []agentWant{{ident: "lab", altID: "lab", network: "2001:db8::1/2"}},
			entities: []string{"Observation/o1", "Observation/o2"},
		},
		{
			name: "compartment search is a type search",
			e:    Event{Action: "search-compartment", Type: "Observation", Status: 200, Source: "host.example"},
			typ:  "rest", subtype: "search-type", action: "E", oc: "0",
			agents:   []agentWant{{who: "display:anonymous", network: "host.example/1"}},
			entities: []string{"type:Observation"},
		},
		{
			name: "create refused",
			e:    Event{Action: "create", Type: "Observation", Status: 422, FHIRUser: "Patient/p9", Detail: `value "Smith" is not valid`},
			typ:  "rest", subtype: "create", action: "C", oc: "4",
			agents:   []agentWant{{who: "Patient/p9"}},
			entities: []string{"type:Observation"},
		},
		{name: "update", e: Event{Action: "update", Status: 200}, typ: "rest", subtype: "update", action: "U", oc: "0",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "patch", e: Event{Action: "patch", Status: 200}, typ: "rest", subtype: "patch", action: "U", oc: "0",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "delete failing on the server", e: Event{Action: "delete", Status: 503}, typ: "rest", subtype: "delete", action: "D", oc: "8",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "vread", e: Event{Action: "vread", Status: 200}, typ: "rest", subtype: "vread", action: "R", oc: "0",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "history", e: Event{Action: "history-system", Status: 200}, typ: "rest", subtype: "history-system", action: "R", oc: "0",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "capabilities", e: Event{Action: "capabilities", Status: 200}, typ: "rest", subtype: "capabilities", action: "R", oc: "0",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "transaction", e: Event{Action: "transaction", Status: 200}, typ: "rest", subtype: "transaction", action: "E", oc: "0",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "batch", e: Event{Action: "batch", Status: 200}, typ: "rest", subtype: "batch", action: "E", oc: "0",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "operation", e: Event{Action: "operation", Status: 200}, typ: "rest", subtype: "operation", action: "E", oc: "0",
			agents: []agentWant{{who: "display:anonymous"}}},
		{name: "a request no route matched", e: Event{Action: "unknown", Status: 404}, typ: "rest", action: "E", oc: "4",
			agents: []agentWant{{who: "display:anonymous"}}},
		{
			name: "token refused",
			e:    Event{Action: "auth-token", Status: 401, ClientID: "gp-app", Source: "10.1.2.3", Detail: "invalid_client"},
			typ:  "110114", subtype: "auth-token", action: "E", oc: "4",
			agents: []agentWant{{ident: "gp-app", network: "10.1.2.3/2"}},
		},
		{
			name: "login of a user with no fhirUser",
			e:    Event{Action: "auth-login", Status: 200, Subject: "u-17"},
			typ:  "110114", subtype: "auth-login", action: "E", oc: "0",
			agents: []agentWant{{altID: "u-17"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := openTrail(t, Options{})
			tc.e.Time = time.Now().Add(-time.Millisecond)
			tr.Record(context.Background(), tc.e)
			flush(t, tr)
			id := idOf(t, tr, "")
			resp := tr.ReadAuditEvent(context.Background(), id)
			if resp.Status != http.StatusOK {
				t.Fatalf("read: %d %s", resp.Status, resp.Body)
			}
			if len(resp.Touched) != 0 {
				t.Errorf("the read touched %v", resp.Touched)
			}
			if _, o := codec.Parse(resp.Body); o != nil {
				t.Fatalf("the codec refuses the event: %v\n%s", o, resp.Body)
			}
			var ev eventJSON
			if err := json.Unmarshal(resp.Body, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.ResourceType != "AuditEvent" || ev.ID != id {
				t.Errorf("resourceType %q id %q, want AuditEvent %q", ev.ResourceType, ev.ID, id)
			}
			wantTypeSystem := systemEventType
			if tc.typ == typeAuth {
				wantTypeSystem = systemDICOM
			}
			if ev.Type.Code != tc.typ || ev.Type.System != wantTypeSystem {
				t.Errorf("type %+v, want %s|%s", ev.Type, wantTypeSystem, tc.typ)
			}
			switch {
			case tc.subtype == "" && len(ev.Subtype) != 0:
				t.Errorf("subtype %+v, want none", ev.Subtype)
			case tc.subtype != "" && (len(ev.Subtype) != 1 || ev.Subtype[0].Code != tc.subtype):
				t.Errorf("subtype %+v, want %s", ev.Subtype, tc.subtype)
			}
			if ev.Action != tc.action || ev.Outcome != tc.oc {
				t.Errorf("action %q outcome %q, want %q %q", ev.Action, ev.Outcome, tc.action, tc.oc)
			}
			if tc.e.Detail != "" && (ev.OutcomeDesc == "" || strings.Contains(ev.OutcomeDesc, "Smith")) {
				t.Errorf("outcomeDesc %q: want the detail without quoted values", ev.OutcomeDesc)
			}
			if ev.Source.Site != testBase || ev.Source.Observer.Display != "Telederm" {
				t.Errorf("source %+v", ev.Source)
			}
			if len(ev.Agent) != len(tc.agents) {
				t.Fatalf("%d agents, want %d: %s", len(ev.Agent), len(tc.agents), resp.Body)
			}
			for i, want := range tc.agents {
				a := ev.Agent[i]
				if a.Requestor != (i == 0) {
					t.Errorf("agent %d requestor %v", i, a.Requestor)
				}
				got := agentWant{altID: a.AltID}
				if a.Who != nil {
					got.who = a.Who.Reference
					if a.Who.Display != "" {
						got.who = "display:" + a.Who.Display
					}
					if a.Who.Identifier != nil {
						got.ident = a.Who.Identifier.Value
					}
				}
				if a.Network != nil {
					got.network = a.Network.Address + "/" + a.Network.Type
				}
				if got != want {
					t.Errorf("agent %d: %+v, want %+v", i, got, want)
				}
			}
			var ents []string
			for _, e := range ev.Entity {
				s := ""
				switch {
				case e.What != nil && e.What.Identifier != nil:
					s = "id:" + e.What.Identifier.Value
				case e.What != nil:
					s = e.What.Reference
				default:
					s = "type:" + e.Type.Code
				}
				if e.Role != nil && e.Role.Code == "1" {
					s += " role:Patient"
				}
				ents = append(ents, s)
			}
			if strings.Join(ents, ", ") != strings.Join(tc.entities, ", ") {
				t.Errorf("entities %q, want %q", ents, tc.entities)
			}
		})
	}
}

func TestReadAuditEvent(t *testing.T) {
	tr := openTrail(t, Options{})
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)
	tr.now = fixedClock(at)
	tr.Record(context.Background(), Event{Action: "read", Status: 200})
	flush(t, tr)
	id := idOf(t, tr, "")
	resp := tr.ReadAuditEvent(context.Background(), id)
	if resp.Status != http.StatusOK || resp.Version != 1 || !resp.LastUpdated.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("read: status %d version %d lastUpdated %v: %s", resp.Status, resp.Version, resp.LastUpdated, resp.Body)
	}
	if !strings.Contains(string(resp.Body), `"recorded":"2026-03-04T05:06:07.891011Z"`) {
		t.Errorf("recorded is not the instant to the microsecond: %s", resp.Body)
	}
	for _, tc := range []struct {
		id     string
		status int
	}{
		{otherID(t, tr, id), http.StatusNotFound}, // issued by this database, not written
		{strings.ToUpper(id), http.StatusNotFound},
		{"0123456789abcdef0123456789abcdef", http.StatusNotFound},
		{"1", http.StatusNotFound},
		{"bad id!", http.StatusBadRequest},
	} {
		resp := tr.ReadAuditEvent(context.Background(), tc.id)
		if resp.Status != tc.status || resp.Outcome == nil {
			t.Errorf("read %q: %d %s, want %d with an OperationOutcome", tc.id, resp.Status, resp.Body, tc.status)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"internal server error", "internal server error"},
		{`"Smith" is not a valid date`, `"…" is not a valid date`},
		{`parameter "birthdate": "Smith" is not a valid date`, `parameter "birthdate": "…" is not a valid date`},
		{`parameter "na me": x`, `parameter "…": x`},
		{`value "a \"quoted\" b" and "c"`, `value "…" and "…"`},
		{`unterminated "secret`, `unterminated "…"`},
		{strings.Repeat("é", 400), strings.Repeat("é", maxDetail/2) + "…"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIDs(t *testing.T) {
	key := make([]byte, idKeySize)
	key[0] = 1
	x, err := newIDs(key)
	if err != nil {
		t.Fatal(err)
	}
	other := make([]byte, idKeySize)
	y, _ := newIDs(other)
	seen := map[string]bool{}
	oid := func(last byte) string { return "\x69\x1f\x00\x01abcde\x00\x00" + string([]byte{last}) }
	for _, k := range []string{seqKey(1), seqKey(2), seqKey(3), seqKey(1000), seqKey(1 << 40), oid(1), oid(2), oid(0)} {
		id := x.id(k)
		if len(id) != 32 || !validID(id) || seen[id] {
			t.Errorf("id(%x) = %q: want 32 fresh hex digits", k, id)
		}
		seen[id] = true
		if got, ok := x.key(id); !ok || got != k {
			t.Errorf("key(id(%x)) = %x %v", k, got, ok)
		}
		if _, ok := y.key(id); ok {
			t.Errorf("another database's key accepts id(%x)", k)
		}
	}
	// A SQLite trail's ids are those it issued before stores had keys of
	// two sizes: its sequence number after "teleaudt", one AES block.
	b, _ := aes.NewCipher(key)
	var block [16]byte
	copy(block[:], "teleaudt")
	binary.BigEndian.PutUint64(block[8:], 1000)
	b.Encrypt(block[:], block[:])
	if got, want := x.id(seqKey(1000)), hex.EncodeToString(block[:]); got != want {
		t.Errorf("the id of event 1000 is %s, was %s", got, want)
	}
	if _, ok := x.key(x.id(seqKey(0))); ok {
		t.Errorf("sequence number 0 is accepted")
	}
}
