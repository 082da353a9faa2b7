package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/store/sqlite/rowexec"
	"github.com/telederm/telederm/internal/store/sqlite/walhook"
)

// The index tables, one per kind of value (schema migration 2).
var indexTables = []string{"idx_token", "idx_string", "idx_date", "idx_number", "idx_ref", "idx_uri", "idx_composite"}

// qWidenSpan records a date entry's span when it is the widest of its
// parameter so far (see search_range.go).
const qWidenSpan = `INSERT INTO idx_date_span (type, param, span) VALUES (?, ?, ?)
	ON CONFLICT (type, param) DO UPDATE SET span = excluded.span WHERE excluded.span > span`

// indexStmts are the writer's statements that keep the index tables.
type indexStmts struct {
	del       []*sql.Stmt // one per index table, in indexTables order
	widenSpan *sql.Stmt
	tx        *boundStmts // set by in
}

// boundStmts are the index statements bound to one transaction, each
// bound when first used: a group of creates uses none of the deletes, and
// binding every statement was a tenth of what its leader allocated.
type boundStmts struct {
	ctx       context.Context
	tx        *sql.Tx
	del       []*sql.Stmt
	widenSpan *sql.Stmt
	rows      *rowStmts
	// ins inserts rows, one statement per index table (rowInsertQuery),
	// on the transaction's connection; found when first needed.
	ins []*rowexec.Stmt
}

// insert returns the row statement of index table i.
func (b *boundStmts) insert(i int) (*rowexec.Stmt, error) {
	if b.ins == nil {
		ins, err := b.rows.on(b.ctx, b.tx)
		if err != nil {
			return nil, err
		}
		b.ins = ins
	}
	return b.ins[i], nil
}

// bind returns *slot, binding st to the transaction first if need be.
func (b *boundStmts) bind(slot **sql.Stmt, st *sql.Stmt) *sql.Stmt {
	if *slot == nil {
		*slot = b.tx.StmtContext(b.ctx, st)
	}
	return *slot
}

func (s *indexStmts) all() []**sql.Stmt {
	if s.del == nil {
		s.del = make([]*sql.Stmt, len(indexTables))
	}
	out := make([]**sql.Stmt, 0, len(indexTables)+1)
	for i := range s.del {
		out = append(out, &s.del[i])
	}
	return append(out, &s.widenSpan)
}

func indexQueries() []string {
	out := make([]string, 0, len(indexTables)+1)
	for _, t := range indexTables {
		out = append(out, "DELETE FROM "+t+" WHERE rowid >= ? AND rowid < ?")
	}
	return append(out, qWidenSpan)
}

// in binds the statements to tx; rows are the writer's row statements.
func (s *indexStmts) in(ctx context.Context, tx *sql.Tx, rows *rowStmts) indexStmts {
	out := *s
	out.tx = &boundStmts{ctx: ctx, tx: tx, del: make([]*sql.Stmt, len(s.del)), rows: rows}
	return out
}

// rowStmts are the writer connection's row statements (rowexec), one per
// index table, prepared again should database/sql ever replace the
// connection. Only the commit leader uses them.
type rowStmts struct {
	handle *sql.Stmt // rowexec.HandleQuery, prepared on the writer
	conn   rowexec.Conn
	ins    []*rowexec.Stmt
	frames *walhook.Frames // watches the connection's WAL (checkpoint.go)
}

// open prepares the statements on the writer w.
func (r *rowStmts) open(ctx context.Context, w *sql.DB) error {
	var err error
	if r.handle, err = w.PrepareContext(ctx, rowexec.HandleQuery); err != nil {
		return fmt.Errorf("sqlite: prepare %q: %w", rowexec.HandleQuery, err)
	}
	_, err = r.on(ctx, nil)
	return err
}

// on returns the row statements of tx's connection (nil: the writer's).
func (r *rowStmts) on(ctx context.Context, tx *sql.Tx) ([]*rowexec.Stmt, error) {
	st := r.handle
	if tx != nil {
		st = tx.StmtContext(ctx, r.handle)
	}
	conn, err := rowexec.Handle(st.QueryRowContext(ctx))
	if err != nil {
		return nil, err
	}
	if conn == r.conn {
		return r.ins, nil
	}
	for _, st := range r.ins {
		st.Close()
	}
	r.conn, r.ins = 0, nil
	ins := make([]*rowexec.Stmt, len(indexTables))
	for i, t := range indexTables {
		if ins[i], err = rowexec.Prepare(conn, rowInsertQuery(t), rowSignature[t]); err != nil {
			for _, st := range ins[:i] {
				st.Close()
			}
			return nil, err
		}
	}
	r.conn, r.ins = conn, ins
	if r.frames != nil {
		r.frames.Watch(uintptr(conn))
	}
	return ins, nil
}

// close finalizes the statements; it must come before the writer closes.
func (r *rowStmts) close() error {
	for _, st := range r.ins {
		st.Close()
	}
	r.conn, r.ins = 0, nil
	if r.handle == nil {
		return nil
	}
	err := r.handle.Close()
	r.handle = nil
	return err
}

// indexPlan is a change's index rows, built by the committing goroutine
// before its commit joins the queue, so that the group's leader (one
// goroutine, holding the write transaction) only runs the statements.
// Each row starts with its rowid and rid, which only the leader knows
// (replace fills them in).
type indexPlan struct {
	rows  []rowexec.Rows // per index table, in indexTables order
	spans []paramSpan
}

// paramSpan is the widest date entry of a parameter (search_range.go).
type paramSpan struct {
	param string
	span  int64
}

// planIndex checks a change's index entries (what checkIndex refuses) and
// builds its rows.
func planIndex(c store.Change) (indexPlan, error) {
	if err := checkIndex(c); err != nil {
		return indexPlan{}, err
	}
	var p indexPlan
	// Parameters with several date or number values are marked multi
	// (see search_range.go).
	var counts map[string]int
	for _, e := range c.Index {
		switch e.Kind {
		case search.Date:
			span, found := dateSpan(e), false
			for i := range p.spans {
				if p.spans[i].param == e.Param {
					p.spans[i].span, found = max(p.spans[i].span, span), true
				}
			}
			if !found {
				p.spans = append(p.spans, paramSpan{e.Param, span})
			}
			fallthrough
		case search.Number, search.Quantity:
			if counts == nil {
				counts = map[string]int{}
			}
			counts[e.Param]++
		}
	}
	keep := storedEntries(c.Type, c.Index)
	p.rows = make([]rowexec.Rows, len(indexTables))
	for i, e := range c.Index {
		if !keep.has(i) {
			continue
		}
		if err := appendRow(p.rows, c.Type, e, counts[e.Param] > 1); err != nil {
			return indexPlan{}, fmt.Errorf("sqlite: index %s/%s: %s entry of %s: %w", c.Type, c.ID, e.Kind, e.Param, err)
		}
	}
	return p, nil
}

// tableIndex is each index table's position in indexTables.
var tableIndex = func() map[string]int {
	m := make(map[string]int, len(indexTables))
	for i, t := range indexTables {
		m[t] = i
	}
	return m
}()

// replace drops the previous version's entries and writes the new ones, in
// the commit's transaction, so a search never sees a resource half indexed.
func (s indexStmts) replace(ctx context.Context, rid int64, existed bool, c store.Change, p indexPlan) error {
	if existed {
		lo, hi := rowidRange(rid)
		for i, st := range s.del {
			if _, err := s.tx.bind(&s.tx.del[i], st).ExecContext(ctx, lo, hi); err != nil {
				return fmt.Errorf("clear %s: %w", indexTables[i], err)
			}
		}
	}
	for _, sp := range p.spans {
		if _, err := s.tx.bind(&s.tx.widenSpan, s.widenSpan).ExecContext(ctx, c.Type, sp.param, sp.span); err != nil {
			return fmt.Errorf("date span of %s: %w", sp.param, err)
		}
	}
	base, _ := rowidRange(rid)
	for i, table := range indexTables {
		if p.rows[i].Len() == 0 {
			continue
		}
		st, err := s.tx.insert(i)
		if err == nil {
			err = st.Run(&p.rows[i], base, rid)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// checkIndex reports what replace would refuse in a change's index
// entries, so a commit can be refused before it writes anything.
func checkIndex(c store.Change) error {
	if c.Deleted && len(c.Index) > 0 {
		return fmt.Errorf("sqlite: a deletion of %s/%s has index entries", c.Type, c.ID)
	}
	perTable := make(map[string]int, len(indexTables))
	for _, e := range c.Index {
		table, err := entryTable(e)
		if err != nil {
			return fmt.Errorf("sqlite: index %s/%s: %s entry of %s: %w", c.Type, c.ID, e.Kind, e.Param, err)
		}
		if perTable[table]++; perTable[table] > rowsPerResource {
			return fmt.Errorf("sqlite: index %s/%s: more than %d %s entries", c.Type, c.ID, rowsPerResource, table)
		}
	}
	return nil
}

// entryTable is the index table an entry goes to.
func entryTable(e search.Entry) (string, error) {
	if e.Kind == search.Composite && len(e.Parts) == 0 {
		return "", errors.New("composite without parts")
	}
	table, ok := tableOf(e.Kind)
	if !ok {
		return "", fmt.Errorf("unknown kind %q", e.Kind)
	}
	return table, nil
}

// entrySet marks entries of a change by position.
type entrySet []bool

func (k entrySet) has(i int) bool { return k == nil || k[i] }

// storedEntries marks the entries of a change the index tables keep: not
// _id, which searches read from the resource row, and not the repeated
// ones (nil: all of them). It marks rather than copies: an entry is a few
// hundred bytes, and copying them was a quarter of what an indexed create
// allocated.
func storedEntries(typ string, entries []search.Entry) entrySet {
	var keep entrySet
	drop := func(i int) {
		if keep == nil {
			keep = make(entrySet, len(entries))
			for j := range keep {
				keep[j] = true
			}
		}
		keep[i] = false
	}
	sources := search.Default().SourcesFor(typ)
	for i, e := range entries {
		if e.Param == "_id" && e.Kind == search.Token || repeated(sources, entries, e) {
			drop(i)
		}
	}
	return keep
}

// repeated reports whether e is a string, token or composite entry a
// search finds under another parameter anyway (search.Sources, which
// sources lists by parameter): an alias's entry, or a wider parameter's
// value that a narrower one of the same resource holds too (Patient.name's
// "Smith" when family has it, telecom's number when phone has it). Fewer
// index rows is most of what makes an indexed write cheaper. A resource
// has a handful of such entries, so a scan beats building a set.
func repeated(sources map[string]search.Sources, entries []search.Entry, e search.Entry) bool {
	src, ok := sources[e.Param]
	if !ok || e.Kind != search.String && e.Kind != search.Token && e.Kind != search.Composite {
		return false
	}
	if src.Alias {
		return true
	}
	for _, narrow := range src.Params[1:] {
		for _, o := range entries {
			if o.Param == narrow && sameValue(o, e) {
				return true
			}
		}
	}
	return false
}

// sameValue reports whether entries a and b (of any parameters) hold the
// same value: every field but Param equal, a composite's parts too.
func sameValue(a, b search.Entry) bool {
	if a.Kind != b.Kind || a.System != b.System || a.Code != b.Code || a.Text != b.Text ||
		a.TypeSystem != b.TypeSystem || a.TypeCode != b.TypeCode || a.Exact != b.Exact ||
		a.Lo != b.Lo || a.Hi != b.Hi || a.Num != b.Num || a.NumLo != b.NumLo || a.NumHi != b.NumHi ||
		a.RefType != b.RefType || a.RefID != b.RefID || a.URL != b.URL || a.Version != b.Version ||
		len(a.Parts) != len(b.Parts) {
		return false
	}
	for i := range a.Parts {
		if !sameValue(a.Parts[i], b.Parts[i]) {
			return false
		}
	}
	return true
}

// rowsPerResource is how many rows of one index table a resource may
// have: its rows take rowids rid*rowsPerResource onwards (migration 4).
const rowsPerResource = 65536

// rowsOf is the SQL condition selecting the index rows (of table alias t)
// that belong to the resource whose rid is the SQL expression rid: a rowid
// range, which SQLite answers from the table's own B-tree.
func rowsOf(t, rid string) string {
	return fmt.Sprintf("%s.rowid >= (%s) * %d AND %s.rowid < ((%s) + 1) * %d", t, rid, rowsPerResource, t, rid, rowsPerResource)
}

// rowidRange is the half-open rowid range of a resource's index rows.
func rowidRange(rid int64) (lo, hi int64) {
	return rid * rowsPerResource, (rid + 1) * rowsPerResource
}

// insertColumns are each index table's columns, in the order appendRow
// gives the values.
var insertColumns = map[string][]string{
	"idx_token":     {"rowid", "rid", "type", "param", "system", "code", "text", "type_system", "type_code"},
	"idx_string":    {"rowid", "rid", "type", "param", "norm", "exact"},
	"idx_date":      {"rowid", "rid", "type", "param", "lo", "hi", "multi"},
	"idx_number":    {"rowid", "rid", "type", "param", "num", "lo", "hi", "system", "code", "unit", "multi"},
	"idx_ref":       {"rowid", "rid", "type", "param", "ref_type", "ref_id", "url", "version", "system", "code"},
	"idx_uri":       {"rowid", "rid", "type", "param", "uri"},
	"idx_composite": {"rowid", "rid", "type", "param", "code1", "parts"},
}

// rowSignature is each index table's column types after the rowid and
// rid (rowexec.Prepare): insertColumns' order.
var rowSignature = map[string]string{
	"idx_token":     "ttttttt",
	"idx_string":    "tttt",
	"idx_date":      "ttiii",
	"idx_number":    "ttdddttti",
	"idx_ref":       "tttttttt",
	"idx_uri":       "ttt",
	"idx_composite": "tttt",
}

// appendRow appends one entry's row (its values after the rowid and rid,
// which replace numbers) to its table's rows (rows, in indexTables order).
func appendRow(rows []rowexec.Rows, typ string, e search.Entry, multi bool) error {
	table, ok := tableOf(e.Kind)
	if !ok {
		return fmt.Errorf("unknown kind %q", e.Kind)
	}
	r := &rows[tableIndex[table]]
	r.Text(typ)
	r.Text(e.Param)
	switch e.Kind {
	case search.Token:
		for _, v := range [...]string{e.System, e.Code, e.Text, e.TypeSystem, e.TypeCode} {
			r.Text(v)
		}
	case search.String:
		r.Text(e.Text)
		r.Text(e.Exact)
	case search.Date:
		r.Int(e.Lo)
		r.Int(e.Hi)
		r.Bool(multi)
	case search.Number, search.Quantity:
		r.Real(e.Num)
		r.Real(e.NumLo)
		r.Real(e.NumHi)
		r.Text(e.System)
		r.Text(e.Code)
		r.Text(e.Text)
		r.Bool(multi)
	case search.Reference:
		for _, v := range [...]string{e.RefType, e.RefID, e.URL, e.Version, e.System, e.Code} {
			r.Text(v)
		}
	case search.URI:
		r.Text(e.URL)
	case search.Composite:
		if len(e.Parts) == 0 {
			return fmt.Errorf("composite without parts")
		}
		parts, err := json.Marshal(storedParts(e.Parts))
		if err != nil {
			return err
		}
		r.Text(e.Parts[0].Code)
		r.Text(string(parts))
	}
	r.End()
	return nil
}

// storedPart is a composite part as idx_composite.parts keeps it: the
// value fields search_composite.go reads, under search.Entry's names, empty
// ones left out (it reads an absent field as empty). That is less than half
// the JSON of the whole search.Entry, and composites were the widest rows
// of the index. Rows written before keep every field and read the same.
type storedPart struct {
	System     string  `json:",omitempty"`
	Code       string  `json:",omitempty"`
	Text       string  `json:",omitempty"`
	TypeSystem string  `json:",omitempty"`
	TypeCode   string  `json:",omitempty"`
	Exact      string  `json:",omitempty"`
	Lo         int64   `json:",omitempty"`
	Hi         int64   `json:",omitempty"`
	Num        float64 `json:",omitempty"`
	NumLo      float64 `json:",omitempty"`
	NumHi      float64 `json:",omitempty"`
	RefType    string  `json:",omitempty"`
	RefID      string  `json:",omitempty"`
	URL        string  `json:",omitempty"`
	Version    string  `json:",omitempty"`
}

func storedParts(parts []search.Entry) []storedPart {
	out := make([]storedPart, len(parts))
	for i, p := range parts {
		out[i] = storedPart{System: p.System, Code: p.Code, Text: p.Text, TypeSystem: p.TypeSystem,
			TypeCode: p.TypeCode, Exact: p.Exact, Lo: p.Lo, Hi: p.Hi, Num: p.Num, NumLo: p.NumLo,
			NumHi: p.NumHi, RefType: p.RefType, RefID: p.RefID, URL: p.URL, Version: p.Version}
	}
	return out
}

// Rows are inserted one single-row INSERT each (rowexec). A multi-row
// INSERT (or one from json_each) was measured slower: SQLite gives a
// statement that may fail after writing some rows a statement journal, a
// copy of every page it touches, and a single-row INSERT needs none.

// rowInsertQuery inserts one row of an index table.
func rowInsertQuery(table string) string {
	cols := insertColumns[table]
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
}

// dateSpan is hi - lo of a date entry, saturating at the int64 maximum
// for open or extreme periods.
func dateSpan(e search.Entry) int64 {
	if e.Lo == math.MinInt64 || e.Hi == math.MaxInt64 || e.Hi-e.Lo < 0 {
		return math.MaxInt64
	}
	return e.Hi - e.Lo
}
