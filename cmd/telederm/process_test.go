package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets a test start this very binary as a real server process:
// with TELEDERM_TEST_ARGS set, the test binary runs telederm instead of the
// tests. That gives process-level tests (SIGKILL, SIGTERM) without a
// separate go build.
func TestMain(m *testing.M) {
	if args := os.Getenv("TELEDERM_TEST_ARGS"); args != "" {
		main2(strings.Fields(args))
		return
	}
	os.Exit(m.Run())
}

func main2(args []string) {
	os.Args = append([]string{"telederm"}, args...)
	main()
}

// serverProcess is a telederm serve running as a child process.
type serverProcess struct {
	cmd    *exec.Cmd
	base   string
	stderr *strings.Builder
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited is closed
}

var listeningRE = regexp.MustCompile(`listening on (\S+)`)

func startProcess(t *testing.T, dataDir string) *serverProcess {
	t.Helper()
	return startServe(t, "--auth off --addr 127.0.0.1:0 --data "+dataDir)
}

// startServe runs telederm serve with space-separated args.
func startServe(t *testing.T, args string) *serverProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TELEDERM_TEST_ARGS=serve "+args)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, stderr: &strings.Builder{}, exited: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.exited })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.exited:
		t.Fatalf("server exited at start: %v\n%s", p.err, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start\n%s", p.stderr)
	}
	waitReady(t, p.base)
	return p
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", base)
}

// lockedWriter collects the child's log while the test may read it.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
