package fhirpath

import (
	"encoding/json"
	"strconv"
	"strings"
)

// parser is a recursive-descent parser over FHIRPath's precedence levels
// (lowest first): implies; or xor; and; in contains; = != ~ !~; < > <= >=;
// |; is as; + - &; * / div mod; unary - +; then invocations and indexers.
type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isOp reports whether the next token is the operator or keyword op.
func (p *parser) isOp(op string) bool {
	t := p.peek()
	return (t.kind == tOp || t.kind == tIdent && !t.quoted) && t.text == op
}

func (p *parser) expect(op string) error {
	if !p.isOp(op) {
		return errAt(p.peek().pos, "expected %q, found %s", op, describe(p.peek()))
	}
	p.next()
	return nil
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

func (p *parser) parseExpr() (step, error) {
	l, err := p.parseOr()
	for err == nil && p.isOp("implies") {
		p.next()
		var r step
		if r, err = p.parseOr(); err == nil {
			l = impliesStep{l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) parseOr() (step, error) {
	l, err := p.parseAnd()
	for err == nil && (p.isOp("or") || p.isOp("xor")) {
		op := p.next().text
		var r step
		if r, err = p.parseAnd(); err == nil {
			if op == "xor" {
				l = xorStep{l: l, r: r}
			} else {
				l = logicStep{l: l, r: r, or: true}
			}
		}
	}
	return l, err
}

func (p *parser) parseAnd() (step, error) {
	l, err := p.parseMembership()
	for err == nil && p.isOp("and") {
		p.next()
		var r step
		if r, err = p.parseMembership(); err == nil {
			l = logicStep{l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) parseMembership() (step, error) {
	l, err := p.parseEquality()
	for err == nil && (p.isOp("in") || p.isOp("contains")) {
		op := p.next().text
		var r step
		if r, err = p.parseEquality(); err == nil {
			if op == "in" {
				l = memberStep{item: l, list: r}
			} else {
				l = memberStep{item: r, list: l}
			}
		}
	}
	return l, err
}

func (p *parser) parseEquality() (step, error) {
	l, err := p.parseComparison()
	for err == nil && (p.isOp("=") || p.isOp("!=") || p.isOp("~") || p.isOp("!~")) {
		op := p.next().text
		var r step
		if r, err = p.parseComparison(); err == nil {
			if op == "~" || op == "!~" {
				l = equivStep{l: l, r: r, neg: op == "!~"}
			} else {
				l = equalStep{l: l, r: r, neg: op == "!="}
			}
		}
	}
	return l, err
}

func (p *parser) parseComparison() (step, error) {
	l, err := p.parseUnion()
	for err == nil && (p.isOp("<") || p.isOp(">") || p.isOp("<=") || p.isOp(">=")) {
		op := p.next().text
		var r step
		if r, err = p.parseUnion(); err == nil {
			l = compareStep{l: l, r: r, op: op}
		}
	}
	return l, err
}

func (p *parser) parseUnion() (step, error) {
	l, err := p.parseTypeOp()
	for err == nil && p.isOp("|") {
		p.next()
		var r step
		if r, err = p.parseTypeOp(); err == nil {
			l = unionStep{l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) parseTypeOp() (step, error) {
	x, err := p.parseAdditive()
	for err == nil && (p.isOp("is") || p.isOp("as")) {
		op := p.next().text
		var typ string
		if typ, err = p.parseTypeSpec(); err != nil {
			break
		}
		if op == "as" {
			x = asStep{x: x, typ: typ}
		} else {
			x = makeIs(x, typ)
		}
	}
	return x, err
}

// makeIs builds "x is T", fusing "resolve() is T" so it needs no stub.
func makeIs(x step, typ string) step {
	switch v := x.(type) {
	case resolveStep:
		return resolveIsStep{typ: typ}
	case pathStep:
		if _, ok := v[len(v)-1].(resolveStep); ok {
			fused := append(pathStep{}, v[:len(v)-1]...)
			return append(fused, resolveIsStep{typ: typ})
		}
	}
	return isStep{x: x, typ: typ}
}

func (p *parser) parseAdditive() (step, error) {
	l, err := p.parseMultiplicative()
	for err == nil && (p.isOp("+") || p.isOp("-") || p.isOp("&")) {
		op := p.next().text
		var r step
		if r, err = p.parseMultiplicative(); err == nil {
			l = arithStep{l: l, r: r, op: op}
		}
	}
	return l, err
}

func (p *parser) parseMultiplicative() (step, error) {
	l, err := p.parseUnary()
	for err == nil && (p.isOp("*") || p.isOp("/") || p.isOp("div") || p.isOp("mod")) {
		op := p.next().text
		var r step
		if r, err = p.parseUnary(); err == nil {
			l = arithStep{l: l, r: r, op: op}
		}
	}
	return l, err
}

// parseUnary reads a polarity sign; "-" before a number literal folds into
// the literal.
func (p *parser) parseUnary() (step, error) {
	if !p.isOp("-") && !p.isOp("+") {
		return p.parsePostfix()
	}
	neg := p.next().text == "-"
	x, err := p.parseUnary()
	if err != nil || !neg {
		return x, err
	}
	if lit, ok := x.(literalStep); ok && len(lit) == 1 {
		if n, ok := lit[0].Value.(json.Number); ok {
			return literalStep{{Value: negateNumber(n), Type: lit[0].Type}}, nil
		}
	}
	return negStep{x: x}, nil
}

// parseTypeSpec reads a type name, optionally qualified (FHIR.Quantity).
func (p *parser) parseTypeSpec() (string, error) {
	t := p.next()
	if t.kind != tIdent {
		return "", errAt(t.pos, "expected a type name, found %s", describe(t))
	}
	name := t.text
	if (name == "FHIR" || name == "System") && p.isOp(".") {
		p.next()
		u := p.next()
		if u.kind != tIdent {
			return "", errAt(u.pos, "expected a type name after %s., found %s", name, describe(u))
		}
		name += "." + u.text
	}
	return typeName(name), nil
}

// parsePostfix reads a term followed by .invocations and [index]es.
func (p *parser) parsePostfix() (step, error) {
	first, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	path := pathStep{first}
	for {
		switch {
		case p.isOp("."):
			p.next()
			t := p.next()
			if t.kind != tIdent {
				return nil, errAt(t.pos, "expected a name after '.', found %s", describe(t))
			}
			s, err := p.parseInvocation(t)
			if err != nil {
				return nil, err
			}
			path = append(path, s)
		case p.isOp("["):
			p.next()
			t := p.next()
			n, convErr := strconv.Atoi(t.text)
			if t.kind != tNumber || convErr != nil {
				return nil, errAt(t.pos, "an indexer must be a non-negative integer literal, found %s", describe(t))
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			path = append(path, indexStep{i: n})
		default:
			if len(path) == 1 {
				return first, nil
			}
			return flatten(path), nil
		}
	}
}

// flatten inlines nested paths so evaluation walks one flat list.
func flatten(path pathStep) pathStep {
	var out pathStep
	for _, s := range path {
		if inner, ok := s.(pathStep); ok {
			out = append(out, flatten(inner)...)
		} else {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) parseTerm() (step, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return literalStep{{Value: t.text, Type: "string"}}, nil
	case tNumber:
		typ := "integer"
		if strings.Contains(t.text, ".") {
			typ = "decimal"
		}
		return literalStep{{Value: json.Number(t.text), Type: typ}}, nil
	case tDate:
		return literalStep{dateLiteral(t.text)}, nil
	case tVar:
		switch t.text {
		case "resource", "rootResource":
			return resourceStep{}, nil
		case "context":
			return contextStep{}, nil
		}
		return nil, errAt(t.pos, "unknown variable %%%s (supported: %%resource, %%rootResource, %%context)", t.text)
	case tThis:
		if t.text != "this" {
			return nil, errAt(t.pos, "$%s is not supported (only $this)", t.text)
		}
		return thisStep{}, nil
	case tOp:
		switch t.text {
		case "(":
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			return e, p.expect(")")
		case "{":
			return literalStep(nil), p.expect("}")
		}
	case tIdent:
		if !t.quoted {
			switch t.text {
			case "true", "false":
				return literalStep{{Value: t.text == "true", Type: "boolean"}}, nil
			}
		}
		if !p.isOp("(") && !t.quoted && isTypeName(t.text) {
			return typeStep{name: t.text}, nil
		}
		return p.parseInvocation(t)
	}
	return nil, errAt(t.pos, "unexpected %s", describe(t))
}

// parseInvocation reads an element name or a function call whose name is t.
func (p *parser) parseInvocation(t token) (step, error) {
	if !p.isOp("(") {
		return childStep{name: t.text, choice: choiceNames[t.text]}, nil
	}
	p.next()
	fn, ok := functions[t.text]
	if !ok {
		return nil, errAt(t.pos, "unknown function %s() (supported: %s)", t.text, functionNames())
	}
	var args []step
	var typ, url string
	for i := 0; !p.isOp(")"); i++ {
		if i > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		var err error
		switch fn.arg {
		case argType:
			typ, err = p.parseTypeSpec()
			args = append(args, nil)
		case argString:
			a := p.next()
			if a.kind != tString {
				return nil, errAt(a.pos, "%s() takes a string literal, found %s", t.text, describe(a))
			}
			url = a.text
			args = append(args, nil)
		default:
			var a step
			a, err = p.parseExpr()
			args = append(args, a)
		}
		if err != nil {
			return nil, err
		}
	}
	p.next()
	if len(args) < fn.min || len(args) > fn.max {
		return nil, errAt(t.pos, "%s() takes %s", t.text, fn.arity())
	}
	s, err := fn.build(args, typ, url)
	if err != nil {
		return nil, errAt(t.pos, "%s(): %v", t.text, err)
	}
	return s, nil
}
