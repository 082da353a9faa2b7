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
	ins       []*sql.Stmt // one per index table: rowInsertQuery
	widenSpan *sql.Stmt
	tx        *boundStmts // set by in
}

// boundStmts are the index statements bound to one transaction, each
// bound when first used: a group of creates uses a few of the fifteen,
// and binding all of them was a tenth of what its leader allocated.
type boundStmts struct {
	ctx       context.Context
	tx        *sql.Tx
	del, ins  []*sql.Stmt
	widenSpan *sql.Stmt
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
		s.ins = make([]*sql.Stmt, len(indexTables))
	}
	out := make([]**sql.Stmt, 0, 2*len(indexTables)+1)
	for i := range s.del {
		out = append(out, &s.del[i])
	}
	for i := range s.ins {
		out = append(out, &s.ins[i])
	}
	return append(out, &s.widenSpan)
}

func indexQueries() []string {
	out := make([]string, 0, 2*len(indexTables)+1)
	for _, t := range indexTables {
		out = append(out, "DELETE FROM "+t+" WHERE rowid >= ? AND rowid < ?")
	}
	for _, t := range indexTables {
		out = append(out, rowInsertQuery(t))
	}
	return append(out, qWidenSpan)
}

func (s *indexStmts) in(ctx context.Context, tx *sql.Tx) indexStmts {
	out := *s
	out.tx = &boundStmts{ctx: ctx, tx: tx, del: make([]*sql.Stmt, len(s.del)), ins: make([]*sql.Stmt, len(s.ins))}
	return out
}

// indexPlan is a change's index rows, built by the committing goroutine
// before its commit joins the queue, so that the group's leader (one
// goroutine, holding the write transaction) only runs the statements.
// Each row starts with its rowid and rid, which only the leader knows
// (replace fills them in).
type indexPlan struct {
	rows  [][]any // per index table, in indexTables order: rows one after another
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
	// Each table's rows go into one slice of the right size.
	keep := storedEntries(c.Type, c.Index)
	sizes := make([]int, len(indexTables))
	for i, e := range c.Index {
		if keep.has(i) {
			t, _ := tableOf(e.Kind)
			sizes[tableIndex[t]] += len(insertColumns[t])
		}
	}
	p.rows = make([][]any, len(indexTables))
	for i, n := range sizes {
		if n > 0 {
			p.rows[i] = make([]any, 0, n)
		}
	}
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
		vals := p.rows[i]
		width := len(insertColumns[table])
		for j, n := 0, int64(0); j < len(vals); j, n = j+width, n+1 {
			vals[j], vals[j+1] = base+n, rid
		}
		if err := s.insertRows(ctx, i, vals); err != nil {
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
// _id, which searches read from the resource row, and not withoutRepeats
// (nil: all of them). It marks rather than copies: an entry is a few
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
	for i, e := range entries {
		if e.Param == "_id" && e.Kind == search.Token || repeated(typ, entries, e) {
			drop(i)
		}
	}
	return keep
}

// repeated reports whether e is a string entry a search finds under
// another parameter anyway (search.Sources): an alias's entry, or a wider
// parameter's value that a narrower one of the same resource holds too
// (Patient.name's "Smith" when family has it). Fewer index rows is most of
// what makes an indexed write cheaper. A resource has a handful of string
// entries, so a scan beats building a set.
func repeated(typ string, entries []search.Entry, e search.Entry) bool {
	if e.Kind != search.String {
		return false
	}
	src := search.Default().StringSources(typ, e.Param)
	if src.Alias {
		return true
	}
	for _, narrow := range src.Params[1:] {
		for _, o := range entries {
			if o.Kind == search.String && o.Param == narrow && o.Text == e.Text && o.Exact == e.Exact {
				return true
			}
		}
	}
	return false
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

// insertColumns are each index table's columns, in the order insertRows
// gives the values (appendRow).
var insertColumns = map[string][]string{
	"idx_token":     {"rowid", "rid", "type", "param", "system", "code", "text", "type_system", "type_code"},
	"idx_string":    {"rowid", "rid", "type", "param", "norm", "exact"},
	"idx_date":      {"rowid", "rid", "type", "param", "lo", "hi", "multi"},
	"idx_number":    {"rowid", "rid", "type", "param", "num", "lo", "hi", "system", "code", "unit", "multi"},
	"idx_ref":       {"rowid", "rid", "type", "param", "ref_type", "ref_id", "url", "version", "system", "code"},
	"idx_uri":       {"rowid", "rid", "type", "param", "uri"},
	"idx_composite": {"rowid", "rid", "type", "param", "code1", "parts"},
}

// appendRow appends one entry's row to its table's rows (rows, in
// indexTables order), in insertColumns order; the rowid and rid are zeros
// that replace fills in.
func appendRow(rows [][]any, typ string, e search.Entry, multi bool) error {
	table, ok := tableOf(e.Kind)
	if !ok {
		return fmt.Errorf("unknown kind %q", e.Kind)
	}
	i := tableIndex[table]
	r := append(rows[i], int64(0), int64(0), typ, e.Param)
	switch e.Kind {
	case search.Token:
		r = append(r, e.System, e.Code, e.Text, e.TypeSystem, e.TypeCode)
	case search.String:
		r = append(r, e.Text, e.Exact)
	case search.Date:
		r = append(r, e.Lo, e.Hi, multi)
	case search.Number, search.Quantity:
		r = append(r, e.Num, e.NumLo, e.NumHi, e.System, e.Code, e.Text, multi)
	case search.Reference:
		r = append(r, e.RefType, e.RefID, e.URL, e.Version, e.System, e.Code)
	case search.URI:
		r = append(r, e.URL)
	case search.Composite:
		if len(e.Parts) == 0 {
			return fmt.Errorf("composite without parts")
		}
		parts, err := json.Marshal(storedParts(e.Parts))
		if err != nil {
			return err
		}
		r = append(r, e.Parts[0].Code, string(parts))
	}
	rows[i] = r
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

// insertRows writes the rows of index table i (vals: the rows' values one
// after another), one single-row INSERT each. A multi-row INSERT (or one
// from json_each) was measured slower: SQLite gives a statement that may
// fail after writing some rows a statement journal, a copy of every page
// it touches, and a single-row INSERT needs none.
func (s indexStmts) insertRows(ctx context.Context, i int, vals []any) error {
	if len(vals) == 0 {
		return nil
	}
	width := len(insertColumns[indexTables[i]])
	st := s.tx.bind(&s.tx.ins[i], s.ins[i])
	for j := 0; j < len(vals); j += width {
		if _, err := st.ExecContext(ctx, vals[j:j+width]...); err != nil {
			return err
		}
	}
	return nil
}

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
