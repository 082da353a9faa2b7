package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ack is a write the server acknowledged with 2xx.
type ack struct {
	url  string // the version URL (Location)
	body []byte // the resource the server returned
}

// TestSurvivesSIGKILL kills the server process in the middle of a write
// load, restarts it on the same data directory, and checks that every write
// that got a 2xx is there, byte for byte, and that the store opened without
// any repair step.
func TestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	dir := t.TempDir()
	p := startProcess(t, dir)
	client := &http.Client{Timeout: 10 * time.Second}

	var (
		mu   sync.Mutex
		acks []ack
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var req *http.Request
				if i%2 == 0 { // creates and updates, to exercise both paths
					body := fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Kill","given":["w%d","%d"]}]}`, w, i)
					req, _ = http.NewRequest(http.MethodPost, p.base+"/Patient", strings.NewReader(body))
				} else {
					body := fmt.Sprintf(`{"resourceType":"Observation","id":"w%d","status":"final","code":{"text":"n"},"valueInteger":%d}`, w, i)
					req, _ = http.NewRequest(http.MethodPut, fmt.Sprintf("%s/Observation/w%d", p.base, w), strings.NewReader(body))
				}
				req.Header.Set("Content-Type", "application/fhir+json")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode >= 300 {
					continue // not acknowledged: no promise to check
				}
				mu.Lock()
				acks = append(acks, ack{url: resp.Header.Get("Location"), body: b})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stop)
	wg.Wait()
	if len(acks) < 100 {
		t.Fatalf("only %d writes acknowledged before the kill; the load did not run", len(acks))
	}

	q := startProcess(t, dir) // opens the same files: no repair step exists
	missing := 0
	for _, a := range acks {
		// Locations name the old process's port; ask the new one.
		u, err := url.Parse(a.url)
		if err != nil || u.Path == "" {
			t.Fatalf("acknowledged write without a Location: %q", a.url)
		}
		path := u.Path
		resp, err := client.Get(q.base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !sameJSON(a.body, b) {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged write lost: %s: %d %s", path, resp.StatusCode, b)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", missing, len(acks))
	}
	t.Logf("%d acknowledged writes all present after SIGKILL and restart", len(acks))
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// TestGracefulShutdown sends SIGTERM and checks the process finishes
// cleanly, closing the store.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	p := startProcess(t, t.TempDir())
	resp, err := http.Post(p.base+"/Patient", "application/fhir+json", strings.NewReader(`{"resourceType":"Patient"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("exit: %v\n%s", p.err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if log := p.stderr.String(); !strings.Contains(log, "stopped cleanly") {
		t.Errorf("log lacks a clean stop:\n%s", log)
	}
}
