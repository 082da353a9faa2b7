package auditstore

// Cond is a condition on rows: the searches of the trail, in a form each
// store translates into its own queries. Build it with the functions
// below; Simplify removes the constants a store need not translate.
type Cond struct {
	Kind   Kind
	Field  Field    // Range, In, Prefix, Contains
	Values []string // Key (one), In, Prefix and Contains (one); Refers: the entities
	Who    []string // Refers: the users
	Lo, Hi int64    // Range: Lo <= field < Hi
	Kids   []Cond   // And, Or, Not (one)
}

// Kind is what a Cond tests.
type Kind int

const (
	KindAll      Kind = iota // every row
	KindNone                 // no row
	KindAnd                  // every kid
	KindOr                   // any kid
	KindNot                  // not the one kid
	KindKey                  // the row whose Key is Values[0]
	KindRange                // an integer Field in [Lo, Hi)
	KindIn                   // a string Field equal to one of Values
	KindPrefix               // a string Field starting with Values[0], ASCII case-insensitive
	KindContains             // a string Field containing Values[0], ASCII case-insensitive
	// KindRefers: rows that touched one of the entities Values (a
	// "Patient/<id>" also matches the patient in context <id>), or whose
	// Who is one of Who.
	KindRefers
)

// Field names a column of a row.
type Field string

const (
	Recorded Field = "recorded" // integer
	Status   Field = "status"   // integer
	Action   Field = "action"
	Client   Field = "client"
	Subject  Field = "subject"
	Source   Field = "source"
)

var (
	All  = Cond{Kind: KindAll}
	None = Cond{Kind: KindNone}
)

func And(c ...Cond) Cond { return Cond{Kind: KindAnd, Kids: c} }
func Or(c ...Cond) Cond  { return Cond{Kind: KindOr, Kids: c} }
func Not(c Cond) Cond    { return Cond{Kind: KindNot, Kids: []Cond{c}} }
func Key(k string) Cond  { return Cond{Kind: KindKey, Values: []string{k}} }

func Range(f Field, lo, hi int64) Cond { return Cond{Kind: KindRange, Field: f, Lo: lo, Hi: hi} }

func In(f Field, v ...string) Cond { return Cond{Kind: KindIn, Field: f, Values: v} }

func Prefix(f Field, v string) Cond   { return Cond{Kind: KindPrefix, Field: f, Values: []string{v}} }
func Contains(f Field, v string) Cond { return Cond{Kind: KindContains, Field: f, Values: []string{v}} }

func Refers(entities, who []string) Cond { return Cond{Kind: KindRefers, Values: entities, Who: who} }

// Simplify folds All and None into their parents, so that the result is
// All, None, or a condition without either.
func Simplify(c Cond) Cond {
	switch c.Kind {
	case KindAnd, KindOr:
		absorb, skip := KindNone, KindAll // And: None absorbs, All is skipped
		if c.Kind == KindOr {
			absorb, skip = KindAll, KindNone
		}
		var kids []Cond
		for _, k := range c.Kids {
			k = Simplify(k)
			switch k.Kind {
			case absorb:
				return k
			case skip:
				continue
			}
			kids = append(kids, k)
		}
		switch len(kids) {
		case 0:
			return Cond{Kind: skip}
		case 1:
			return kids[0]
		}
		return Cond{Kind: c.Kind, Kids: kids}
	case KindNot:
		k := Simplify(c.Kids[0])
		switch k.Kind {
		case KindAll:
			return None
		case KindNone:
			return All
		}
		return Not(k)
	case KindIn:
		if len(c.Values) == 0 {
			return None
		}
	case KindRefers:
		if len(c.Values) == 0 && len(c.Who) == 0 {
			return None
		}
	}
	return c
}
