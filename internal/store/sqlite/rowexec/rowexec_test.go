package rowexec

import (
	"database/sql"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (rowid INTEGER PRIMARY KEY, rid INTEGER NOT NULL, s TEXT NOT NULL, n REAL NOT NULL, b INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

type row struct {
	rowid, rid int64
	s          string
	n          float64
	b          int64
}

func readAll(t *testing.T, db *sql.DB) []row {
	t.Helper()
	rs, err := db.Query(`SELECT rowid, rid, s, n, b FROM t ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.rowid, &r.rid, &r.s, &r.n, &r.b); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

const insertT = `INSERT INTO t (rowid, rid, s, n, b) VALUES (?, ?, ?, ?, ?)`

// begin starts a transaction and finds its connection; the transaction is
// rolled back at the end of the test unless committed.
func begin(t *testing.T, db *sql.DB) (*sql.Tx, Conn) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	c, err := Handle(tx.QueryRowContext(t.Context(), HandleQuery))
	if err != nil {
		t.Fatal(err)
	}
	return tx, c
}

// insert runs Run for want's rows (numbered from base, rid 7) in a
// transaction, committed or rolled back.
func insert(t *testing.T, db *sql.DB, base int64, want []row, commit bool) error {
	t.Helper()
	tx, c := begin(t, db)
	st, err := Prepare(c, insertT, "tdi")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rows Rows
	for _, r := range want {
		rows.Text(r.s)
		rows.Real(r.n)
		rows.Bool(r.b == 1)
		rows.End()
	}
	if err := st.Run(&rows, base, 7); err != nil {
		return err
	}
	if commit {
		return tx.Commit()
	}
	return tx.Rollback()
}

func TestRunInsertsEveryRow(t *testing.T) {
	db := openDB(t)
	want := []row{
		{100, 7, "", 0, 0},
		{101, 7, "Ó Súilleabháin", -1.5, 1},
		{102, 7, strings.Repeat("x", 70000), math.MaxFloat64, 0},
		{103, 7, "a\x00b", math.Inf(-1), 1}, // text is length-delimited, NUL included
	}
	if err := insert(t, db, 100, want, true); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, db)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRunIsInTheTransaction(t *testing.T) {
	db := openDB(t)
	if err := insert(t, db, 1, []row{{s: "a"}, {s: "b"}}, false); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, db); len(got) != 0 {
		t.Fatalf("rolled back, yet %d rows", len(got))
	}
}

func TestRunReportsTheFailingRow(t *testing.T) {
	db := openDB(t)
	if err := insert(t, db, 5, []row{{s: "a"}}, true); err != nil {
		t.Fatal(err)
	}
	// Rows numbered 4, 5, 6: the second collides with the stored rowid 5.
	err := insert(t, db, 4, []row{{s: "x"}, {s: "y"}, {s: "z"}}, true)
	if err == nil || !strings.Contains(err.Error(), "row 2 of 3") || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("err = %v, want row 2 of 3 and the UNIQUE constraint", err)
	}
}

func TestRunChecksTheRowShape(t *testing.T) {
	_, c := begin(t, openDB(t))
	if _, err := Prepare(c, `INSERT INTO t (rowid, rid, s) VALUES (?, ?, ?)`, "x"); err == nil {
		t.Error("signature x: no error")
	}
	if _, err := Prepare(c, `INSERT INTO nowhere VALUES (?)`, ""); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("bad query: err = %v", err)
	}
	st, err := Prepare(c, insertT, "tdi")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rows Rows
	rows.Text("only one value")
	rows.End()
	if err := st.Run(&rows, 1, 1); err == nil {
		t.Error("a row of 1 value for 3: no error")
	}
}
