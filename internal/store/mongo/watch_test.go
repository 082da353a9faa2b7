package mongo

import (
	"testing"
	"time"
)

// TestCommitSignalOfOtherProcesses: on a deployment with change streams,
// a commit through one Store wakes the dispatcher of another on the same
// database at once, instead of at its next poll.
func TestCommitSignalOfOtherProcesses(t *testing.T) {
	a := openTest(t, Options{})
	defer a.Close()
	if !a.server.transactions {
		t.Skipf("%s has no change streams (not a replica set): other processes' commits are found by polling there", a.server.describe())
	}
	b := openTest(t, Options{Database: a.db.Name()})
	defer b.Close()
	woken := a.CommitSignal()
	mustCommit(t, b, change("Patient", "p", 1, "{}"))
	select {
	case <-woken:
	case <-time.After(30 * time.Second):
		t.Fatal("a commit through another Store did not fire this one's commit signal")
	}
}
