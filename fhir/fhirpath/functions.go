package fhirpath

import (
	"fmt"
	"sort"
	"strings"
)

// argKind says how a function's arguments are parsed.
type argKind int

const (
	argExpr   argKind = iota // expressions, evaluated per item
	argType                  // a type specifier (as, is, ofType)
	argString                // a string literal (extension urls)
)

// function describes one supported function: its arity, how its
// arguments parse, and how it becomes a step (an error rejects the call
// at compile time, such as an invalid regular expression literal).
type function struct {
	min, max int
	arg      argKind
	build    func(args []step, typ, str string) (step, error)
}

func (f function) arity() string {
	switch {
	case f.max == 0:
		return "no arguments"
	case f.min == f.max:
		return fmt.Sprintf("%d argument(s)", f.min)
	}
	return fmt.Sprintf("%d to %d arguments", f.min, f.max)
}

// fixed builds a function whose step does not depend on its arguments.
func fixed(s step) func([]step, string, string) (step, error) {
	return func([]step, string, string) (step, error) { return s, nil }
}

// withArgs builds a function step from its argument expressions.
func withArgs(f func(a []step) step) func([]step, string, string) (step, error) {
	return func(a []step, _, _ string) (step, error) { return f(a), nil }
}

// stringFn builds a string function of one argument.
func stringFn(op string) func([]step, string, string) (step, error) {
	return withArgs(func(a []step) step { return stringArgStep{op: op, arg: a[0]} })
}

// functions is the supported set; any other name fails to compile.
var functions map[string]function

func init() {
	functions = map[string]function{
		// Filtering, projection and existence.
		"where":  {1, 1, argExpr, withArgs(func(a []step) step { return whereStep{crit: a[0]} })},
		"select": {1, 1, argExpr, withArgs(func(a []step) step { return selectStep{proj: a[0]} })},
		"exists": {0, 1, argExpr, withArgs(func(a []step) step {
			if len(a) == 0 {
				return existsStep{}
			}
			return existsStep{crit: a[0]}
		})},
		"all":        {1, 1, argExpr, withArgs(func(a []step) step { return allStep{crit: a[0]} })},
		"empty":      {0, 0, argExpr, fixed(emptyStep{})},
		"not":        {0, 0, argExpr, fixed(notStep{})},
		"count":      {0, 0, argExpr, fixed(countStep{})},
		"hasValue":   {0, 0, argExpr, fixed(hasValueStep{})},
		"allTrue":    {0, 0, argExpr, fixed(boolsStep{want: true, all: true})},
		"anyTrue":    {0, 0, argExpr, fixed(boolsStep{want: true})},
		"allFalse":   {0, 0, argExpr, fixed(boolsStep{want: false, all: true})},
		"anyFalse":   {0, 0, argExpr, fixed(boolsStep{want: false})},
		"distinct":   {0, 0, argExpr, fixed(distinctStep{})},
		"isDistinct": {0, 0, argExpr, fixed(isDistinctStep{})},
		"iif": {2, 3, argExpr, withArgs(func(a []step) step {
			s := iifStep{cond: a[0], then: a[1]}
			if len(a) == 3 {
				s.otherwise = a[2]
			}
			return s
		})},

		// Subsetting and combining.
		"first":     {0, 0, argExpr, fixed(indexStep{i: 0})},
		"last":      {0, 0, argExpr, fixed(indexStep{i: -1})},
		"tail":      {0, 0, argExpr, fixed(indexStep{tail: true})},
		"single":    {0, 0, argExpr, fixed(singleStep{})},
		"union":     {1, 1, argExpr, withArgs(func(a []step) step { return unionStep{l: thisStep{}, r: a[0]} })},
		"combine":   {1, 1, argExpr, withArgs(func(a []step) step { return combineStep{other: a[0]} })},
		"intersect": {1, 1, argExpr, withArgs(func(a []step) step { return setStep{other: a[0], keep: true} })},
		"exclude":   {1, 1, argExpr, withArgs(func(a []step) step { return setStep{other: a[0]} })},

		// Tree navigation.
		"children":    {0, 0, argExpr, fixed(childrenStep{})},
		"descendants": {0, 0, argExpr, fixed(childrenStep{deep: true})},
		"resolve":     {0, 0, argExpr, fixed(resolveStep{})},
		"extension": {1, 1, argString, func(_ []step, _, u string) (step, error) {
			return extensionStep{url: u}, nil
		}},
		"hasExtension": {1, 1, argString, func(_ []step, _, u string) (step, error) {
			return hasExtensionStep{url: u}, nil
		}},

		// Types.
		"ofType": {1, 1, argType, func(_ []step, t, _ string) (step, error) { return ofTypeStep{typ: t}, nil }},
		"as":     {1, 1, argType, func(_ []step, t, _ string) (step, error) { return ofTypeStep{typ: t}, nil }},
		"is":     {1, 1, argType, func(_ []step, t, _ string) (step, error) { return isStep{x: thisStep{}, typ: t}, nil }},

		// Strings.
		"matches":    {1, 1, argExpr, buildMatches},
		"startsWith": {1, 1, argExpr, stringFn("startsWith")},
		"endsWith":   {1, 1, argExpr, stringFn("endsWith")},
		"contains":   {1, 1, argExpr, stringFn("contains")},
		"indexOf":    {1, 1, argExpr, stringFn("indexOf")},
		"length":     {0, 0, argExpr, fixed(stringStep{op: "length"})},
		"upper":      {0, 0, argExpr, fixed(stringStep{op: "upper"})},
		"lower":      {0, 0, argExpr, fixed(stringStep{op: "lower"})},
		"substring": {1, 2, argExpr, withArgs(func(a []step) step {
			s := substringStep{start: a[0]}
			if len(a) == 2 {
				s.length = a[1]
			}
			return s
		})},

		// Conversions.
		"toInteger": {0, 0, argExpr, fixed(convertStep{to: "integer"})},
		"toDecimal": {0, 0, argExpr, fixed(convertStep{to: "decimal"})},
		"toString":  {0, 0, argExpr, fixed(convertStep{to: "string"})},
	}
}

func functionNames() string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
