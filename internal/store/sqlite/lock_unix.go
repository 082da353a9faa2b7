//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFileName is the file a Store holds an exclusive lock on while open.
const lockFileName = "telederm.lock"

// lockDir takes the directory's lock, so that a second server (or `telederm
// seed`) on the same data cannot run beside this one: the read cache
// (cache.go) knows only this process's writes. The lock goes with the
// process, however it ends.
func lockDir(dir string) (release func() error, err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sqlite: %s is in use by another process (a server or seed on the same data directory)", dir)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", dir, err)
	}
	return f.Close, nil // closing the file releases the lock
}
