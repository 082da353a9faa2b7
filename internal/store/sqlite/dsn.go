package sqlite

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/telederm/telederm/internal/store/sqlite/walbuf"
)

// dsn builds the data source name for the writer or for a reader. Both
// drivers this package was measured with (mattn/go-sqlite3 and
// modernc.org/sqlite) read the same underscore parameters and apply them to
// every new connection, so a pooled connection opened later is set up alike.
func dsn(path string, o Options, writer bool) (string, error) {
	// Both drivers cut the name at the first '?'; a plain path (not a
	// file: URI) keeps every other character literal.
	if strings.ContainsRune(path, '?') {
		return "", fmt.Errorf("sqlite: database path %q must not contain '?'", path)
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(o.BusyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	if !o.PlainWAL {
		// Readers use it too: it changes nothing for them, and one VFS
		// for every connection keeps the file's locks in one place.
		q.Set("vfs", walbuf.Name)
	}
	if writer {
		// WAL lets readers run beside the writer; it is persistent in the
		// file, so readers need not set it.
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", o.Synchronous.pragma())
		// Take the write lock at BEGIN, so a transaction never fails half
		// way with SQLITE_BUSY when it upgrades from read to write.
		q.Set("_txlock", "immediate")
		// A commit touches a dozen B-trees (the resource, its version and
		// the index tables): a large page cache keeps their hot pages in
		// memory instead of re-reading them from the OS for every commit.
		q.Set("_cache_size", "-65536") // KiB
	} else {
		// A reader that tries to write is a bug here; make it fail loudly.
		q.Set("_query_only", "1")
	}
	return path + "?" + q.Encode(), nil
}
