package jsonpatch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parsePointer splits an RFC 6901 JSON Pointer into its unescaped reference
// tokens. The empty pointer, naming the whole document, has no tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, errors.New(`invalid JSON pointer: must be empty or start with "/"`)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		if strings.IndexByte(t, '~') < 0 {
			continue
		}
		u, err := unescapeToken(t)
		if err != nil {
			return nil, err
		}
		toks[i] = u
	}
	return toks, nil
}

// unescapeToken decodes ~1 and ~0 in one pass, so "~01" is "~1" and not "/"
// (RFC 6901 section 4).
func unescapeToken(t string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != '~' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(t) && (t[i+1] == '0' || t[i+1] == '1') {
			b.WriteByte("~/"[t[i+1]-'0'])
			i++
			continue
		}
		return "", errors.New(`invalid JSON pointer: "~" must be followed by 0 or 1`)
	}
	return b.String(), nil
}

// isPrefix reports whether pointer a is a proper prefix of pointer b.
func isPrefix(a, b []string) bool {
	if len(a) >= len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// isIndex reports whether tok is an array index as RFC 6901 spells one:
// "0" or digits without a leading zero.
func isIndex(tok string) bool {
	if tok == "" || (tok[0] == '0' && len(tok) > 1) {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return false
		}
	}
	return true
}

// arrayIndex resolves tok against an array of length n. insert admits the
// positions add can insert at: n itself and "-" (after the last element).
func arrayIndex(tok string, n int, insert bool) (int, error) {
	if tok == "-" {
		if insert {
			return n, nil
		}
		return 0, errors.New(`path not found: "-" names the position after the last element`)
	}
	if !isIndex(tok) {
		return 0, fmt.Errorf("path not found: %q is not an array index", tok)
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i > n || (i == n && !insert) {
		return 0, fmt.Errorf("path not found: index %s out of range (array length %d)", tok, n)
	}
	return i, nil
}
