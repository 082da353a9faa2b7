package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store"
)

// killDirEnv tells a re-executed test binary to be the writer that
// TestKill9KeepsAcknowledgedCommits kills.
const killDirEnv = "TELEDERM_SQLITE_KILL_DIR"

// TestKill9KeepsAcknowledgedCommits checks the durability SyncNormal
// promises: every commit that returned before the process was killed with
// SIGKILL is there after reopening.
func TestKill9KeepsAcknowledgedCommits(t *testing.T) {
	if dir := os.Getenv(killDirEnv); dir != "" {
		writeUntilKilled(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKill9KeepsAcknowledgedCommits$")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked int64
	lines := bufio.NewScanner(out)
	for acked < 300 && lines.Scan() {
		fmt.Sscanf(lines.Text(), "acked %d", &acked)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < 300 {
		t.Fatalf("child acknowledged only %d commits", acked)
	}

	s := openTest(t, dir, Options{})
	defer s.Close()
	cur, err := s.Current(t.Context(), "Patient", "p")
	if err != nil {
		t.Fatal(err)
	}
	if cur.VersionID < acked {
		t.Fatalf("after kill -9: version %d, but %d were acknowledged", cur.VersionID, acked)
	}
	t.Logf("acknowledged %d, found %d", acked, cur.VersionID)
}

// writeUntilKilled commits versions of one Patient and reports each one
// after Commit returns; it gives up after a minute if nobody kills it.
func writeUntilKilled(dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	for v := int64(1); ctx.Err() == nil; v++ {
		c := store.Change{Type: "Patient", ID: "p", PrevVersion: v - 1, Version: v,
			LastUpdated: time.Now().UTC().Truncate(time.Millisecond), Method: store.MethodUpdate, Body: patient}
		if err := s.Commit(ctx, []store.Change{c}); err != nil {
			fmt.Println("commit:", err)
			os.Exit(2)
		}
		fmt.Printf("acked %d\n", v)
	}
	os.Exit(3)
}
