package fhirpath

import (
	"errors"
	"fmt"
)

// Expr is a compiled expression: a tree of steps, safe for concurrent use.
type Expr struct {
	src  string
	root step
}

// step is one node of the compiled tree. It maps an input collection to an
// output collection; steps never modify their input.
type step interface {
	eval(c *evalCtx, in []Node) ([]Node, error)
}

// evalCtx holds what an evaluation's variables refer to.
type evalCtx struct {
	resource map[string]any // %resource, %rootResource, and where "#id" resolves
	// this is $this of the innermost where/select/exists/all being
	// iterated, nil outside them: with args() it is the input that the
	// arguments of other functions (startsWith, substring, iif, union...)
	// are evaluated on.
	this  []Node
	start [1]Node // %context, the evaluation's starting focus
}

// Compile parses expr into a reusable Expr. Anything outside the subset
// (an unknown function, an unsupported operator) is an error naming it.
func Compile(expr string) (*Expr, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, compileError(expr, err)
	}
	p := &parser{toks: toks}
	root, err := p.parseExpr()
	if err == nil && p.peek().kind != tEOF {
		err = errAt(p.peek().pos, "unexpected %s", describe(p.peek()))
	}
	if err != nil {
		return nil, compileError(expr, err)
	}
	return &Expr{src: expr, root: root}, nil
}

func compileError(expr string, err error) error {
	return fmt.Errorf("fhirpath: compile %q: %w", expr, err)
}

// MustCompile is Compile for expressions known to be valid; it panics on error.
func MustCompile(expr string) *Expr {
	e, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the expression as written.
func (e *Expr) String() string { return e.src }

// Eval evaluates e with the resource as %resource and as the root focus.
func (e *Expr) Eval(resource map[string]any) ([]Node, error) {
	if resource == nil {
		return nil, nil
	}
	return e.run(resource, Node{Value: resource, Type: resourceTypeOf(resource)})
}

// EvalFrom evaluates e with n as the focus and %context, and resource as
// %resource (a composite component relative to the composite's value).
func (e *Expr) EvalFrom(resource map[string]any, n Node) ([]Node, error) {
	return e.run(resource, n)
}

func (e *Expr) run(resource map[string]any, focus Node) ([]Node, error) {
	c := &evalCtx{resource: resource, start: [1]Node{focus}}
	out, err := e.root.eval(c, c.start[:])
	if err != nil {
		return nil, fmt.Errorf("fhirpath: eval %q: %w", e.src, err)
	}
	return out, nil
}

// errSingleton is returned where FHIRPath requires at most one item.
var errSingleton = errors.New("expected at most one item")

// restoreThis ends an iteration: $this is again the enclosing one.
func (c *evalCtx) restoreThis(this []Node) { c.this = this }

// args is the input function arguments are evaluated on: the enclosing
// $this, or the starting focus outside any iteration.
func (c *evalCtx) args() []Node {
	if c.this == nil {
		return c.start[:]
	}
	return c.this
}
