package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // name, or `delimited name`
	tString         // 'text', unescaped
	tNumber         // 12, 1.5
	tVar            // %resource (text without the %)
	tThis           // $this and the other $ names (text without the $)
	tOp             // . , ( ) [ ] | = != < + and the other operators
	tDate           // @2020-01-01, @2020-01-01T10:00:00Z, @T10:00 (text without the @, or @T)
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset, for error messages
	// quoted is set for `delimited` identifiers, which are never keywords.
	quoted bool
}

// lex splits the whole expression up front: expressions are short and
// compiled once, so a token slice keeps the parser simple.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, errAt(i, "unterminated comment")
			}
			i += end + 4
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{kind: tIdent, text: src[i:j], pos: i})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j+1 < len(src) && src[j] == '.' && src[j+1] >= '0' && src[j+1] <= '9' {
				j += 2
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			toks = append(toks, token{kind: tNumber, text: src[i:j], pos: i})
			i = j
		case c == '\'' || c == '`':
			s, n, err := unquote(src[i:], c)
			if err != nil {
				return nil, errAt(i, "%v", err)
			}
			k := tString
			if c == '`' {
				k = tIdent
			}
			toks = append(toks, token{kind: k, text: s, pos: i, quoted: c == '`'})
			i += n
		case c == '@':
			j := i + 1
			for j < len(src) && isDateChar(src[j]) {
				j++
			}
			text := strings.TrimPrefix(src[i+1:j], "T")
			if text == "" {
				return nil, errAt(i, "'@' must start a date or time literal")
			}
			toks = append(toks, token{kind: tDate, text: src[i+1 : j], pos: i})
			i = j
		case c == '%' || c == '$':
			j := i + 1
			if c == '%' && j < len(src) && (src[j] == '\'' || src[j] == '`') {
				s, n, err := unquote(src[j:], src[j])
				if err != nil {
					return nil, errAt(i, "%v", err)
				}
				toks = append(toks, token{kind: tVar, text: s, pos: i})
				i = j + n
				continue
			}
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			if j == i+1 {
				return nil, errAt(i, "%q must be followed by a name", c)
			}
			k := tVar
			if c == '$' {
				k = tThis
			}
			toks = append(toks, token{kind: k, text: src[i+1 : j], pos: i})
			i = j
		default:
			op := lexOp(src[i:])
			if op == "" {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, errAt(i, "unexpected character %q", r)
			}
			toks = append(toks, token{kind: tOp, text: op, pos: i})
			i += len(op)
		}
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

// lexOp recognises every FHIRPath operator symbol.
func lexOp(s string) string {
	for _, op := range []string{"!=", "!~", "<=", ">=", ".", ",", "(", ")", "[", "]", "{", "}", "|", "=", "~", "<", ">", "+", "-", "*", "/", "&"} {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// isDateChar accepts what a date, dateTime or time literal is made of.
func isDateChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == ':' || c == '.' || c == 'T' || c == 'Z' || c == '+'
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// unquote reads a literal delimited by q at the start of s and returns its
// text with FHIRPath escapes resolved and the bytes consumed.
func unquote(s string, q byte) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == q {
			return b.String(), i + 1, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch s[i] {
		case '\'', '"', '`', '\\', '/':
			b.WriteByte(s[i])
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if i+4 >= len(s) {
				return "", 0, fmt.Errorf("short \\u escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", 0, fmt.Errorf("bad \\u escape %q", s[i-1:i+5])
			}
			b.WriteRune(rune(v))
			i += 4
		default:
			return "", 0, fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated %c literal", q)
}

// posError is a compile error at a byte offset; Compile adds the source.
type posError struct {
	pos int
	msg string
}

func (e *posError) Error() string { return fmt.Sprintf("at offset %d: %s", e.pos, e.msg) }

func errAt(pos int, format string, args ...any) error {
	return &posError{pos: pos, msg: fmt.Sprintf(format, args...)}
}
