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
// arguments parse, and how it becomes a step.
type function struct {
	min, max int
	arg      argKind
	build    func(args []step, typ, str string) step
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

// functions is the supported set; any other name fails to compile.
var functions = map[string]function{
	"where":  {1, 1, argExpr, func(a []step, _, _ string) step { return whereStep{crit: a[0]} }},
	"select": {1, 1, argExpr, func(a []step, _, _ string) step { return selectStep{proj: a[0]} }},
	"exists": {0, 1, argExpr, func(a []step, _, _ string) step {
		if len(a) == 0 {
			return existsStep{}
		}
		return existsStep{crit: a[0]}
	}},
	"empty":        {0, 0, argExpr, func([]step, string, string) step { return emptyStep{} }},
	"not":          {0, 0, argExpr, func([]step, string, string) step { return notStep{} }},
	"count":        {0, 0, argExpr, func([]step, string, string) step { return countStep{} }},
	"first":        {0, 0, argExpr, func([]step, string, string) step { return indexStep{i: 0} }},
	"last":         {0, 0, argExpr, func([]step, string, string) step { return indexStep{i: -1} }},
	"tail":         {0, 0, argExpr, func([]step, string, string) step { return indexStep{tail: true} }},
	"resolve":      {0, 0, argExpr, func([]step, string, string) step { return resolveStep{} }},
	"ofType":       {1, 1, argType, func(_ []step, t, _ string) step { return ofTypeStep{typ: t} }},
	"as":           {1, 1, argType, func(_ []step, t, _ string) step { return ofTypeStep{typ: t} }},
	"is":           {1, 1, argType, func(_ []step, t, _ string) step { return isStep{x: thisStep{}, typ: t} }},
	"extension":    {1, 1, argString, func(_ []step, _, u string) step { return extensionStep{url: u} }},
	"hasExtension": {1, 1, argString, func(_ []step, _, u string) step { return hasExtensionStep{url: u} }},
}

func functionNames() string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
