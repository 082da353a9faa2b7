package sqlite

// mattn/go-sqlite3 is SQLite compiled from C through cgo. It was measured
// against the pure Go modernc.org/sqlite with this package's benchmarks and
// was faster on commits and reads by id; see stmts.go for the one query
// shape it handles badly. dsn.go works for both drivers, so switching is
// this import and driverName ("sqlite" for modernc).
import _ "github.com/mattn/go-sqlite3"

const driverName = "sqlite3"
