//go:build !unix

package sqlite

// lockDir does nothing where flock is not available: run one server per
// data directory there.
func lockDir(string) (func() error, error) { return func() error { return nil }, nil }
