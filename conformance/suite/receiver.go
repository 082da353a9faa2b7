package suite

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Receiver is the runner's rest-hook endpoint. A server under test POSTs
// notifications to ${receiverUrl}/<anything>; a script then reads what has
// arrived with an ordinary operation, GET ${receiverUrl}/_received, which
// answers a collection Bundle (entry.request is the path it came to, entry.resource
// the body, or a Binary when the body is not a FHIR resource). Query
// parameters: min (wait for at least this many, default 1), wait (at most
// this long, default 10s, at most 60s) and path (count only notifications
// whose path starts with it). So subscription tests stay TestScript data.
type Receiver struct {
	mu      sync.Mutex
	got     []Notification
	arrived chan struct{} // closed and replaced whenever one arrives
}

// Notification is one request the receiver got.
type Notification struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Received     time.Time
}

// NewReceiver returns an empty receiver.
func NewReceiver() *Receiver {
	return &Receiver{arrived: make(chan struct{})}
}

// Notifications is everything received so far.
func (rc *Receiver) Notifications() []Notification {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Notification(nil), rc.got...)
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/_received") {
		rc.serveReceived(w, r)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		http.Error(w, "the conformance receiver takes POST and PUT notifications", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, Notification{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Received: time.Now()})
	close(rc.arrived)
	rc.arrived = make(chan struct{})
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (rc *Receiver) serveReceived(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	least := 1
	if n, err := strconv.Atoi(q.Get("min")); err == nil && n >= 0 {
		least = n
	}
	wait := 10 * time.Second
	if d, err := time.ParseDuration(q.Get("wait")); err == nil && d >= 0 {
		wait = min(d, 60*time.Second)
	}
	prefix := q.Get("path")
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	var matched []Notification
	for {
		rc.mu.Lock()
		matched = matched[:0]
		for _, n := range rc.got {
			if strings.HasPrefix(n.Path, prefix) {
				matched = append(matched, n)
			}
		}
		arrived := rc.arrived
		rc.mu.Unlock()
		if len(matched) >= least {
			break
		}
		select {
		case <-arrived:
			continue
		case <-deadline.C:
		case <-r.Context().Done():
		}
		break
	}
	entries := make([]any, 0, len(matched))
	for _, n := range matched {
		e := map[string]any{"request": map[string]any{"method": n.Method, "url": n.Path}}
		if m := decodeJSON(n.Body); m != nil && m["resourceType"] != nil {
			e["resource"] = m
		} else if len(n.Body) > 0 {
			e["resource"] = map[string]any{
				"resourceType": "Binary", "contentType": n.Header.Get("Content-Type"),
				"data": base64.StdEncoding.EncodeToString(n.Body),
			}
		}
		entries = append(entries, e)
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "collection", "total": len(matched), "entry": entries})
	w.Header().Set("Content-Type", fhirJSON)
	w.Write(b)
}
