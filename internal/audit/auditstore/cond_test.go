package auditstore

import (
	"reflect"
	"testing"
)

func TestSimplify(t *testing.T) {
	a, b := In(Client, "a"), In(Client, "b")
	for _, tc := range []struct {
		name    string
		in, out Cond
	}{
		{"empty And is All", And(), All},
		{"empty Or is None", Or(), None},
		{"None absorbs And", And(a, None, b), None},
		{"All absorbs Or", Or(a, All), All},
		{"All drops out of And", And(All, a), a},
		{"None drops out of Or", Or(None, a, b), Or(a, b)},
		{"Not All", Not(And()), None},
		{"Not None", Not(Or()), All},
		{"nested", And(Or(None, a), Not(Or(b, All))), None},
		{"In nothing", In(Action), None},
		{"Refers to nothing", Refers(nil, nil), None},
		{"kept", And(a, Not(b)), And(a, Not(b))},
	} {
		if got := Simplify(tc.in); !reflect.DeepEqual(got, tc.out) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.out)
		}
	}
}
