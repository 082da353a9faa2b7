package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// pickMembers decodes the members of the JSON object body whose names
// want accepts, as the indexer reads JSON (numbers keep their text), and
// skips the others without decoding them: a patient-confined read tests
// a resource's compartment references, a small part of it, and decoding
// the whole resource would cost more than the read itself.
func pickMembers(body []byte, want func(name string) bool) (map[string]any, error) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	// The picked members are copied into one smaller object, decoded once.
	picked := []byte{'{'}
	if i = skipSpace(body, i+1); i < len(body) && body[i] == '}' {
		return map[string]any{}, nil
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return nil, fmt.Errorf("offset %d: a member name was expected", i)
		}
		end, err := skipString(body, i)
		if err != nil {
			return nil, err
		}
		rawName := body[i:end]
		name := string(rawName[1 : len(rawName)-1])
		if bytes.IndexByte(rawName, '\\') >= 0 {
			if err := json.Unmarshal(rawName, &name); err != nil {
				return nil, err
			}
		}
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return nil, fmt.Errorf("offset %d: ':' was expected", i)
		}
		start := skipSpace(body, i+1)
		if i, err = skipValue(body, start); err != nil {
			return nil, err
		}
		if want(name) {
			if len(picked) > 1 {
				picked = append(picked, ',')
			}
			picked = append(append(append(picked, rawName...), ':'), body[start:i]...)
		}
		i = skipSpace(body, i)
		switch {
		case i < len(body) && body[i] == ',':
			i = skipSpace(body, i+1)
		case i < len(body) && body[i] == '}':
			return decodeForIndex(append(picked, '}'))
		default:
			return nil, fmt.Errorf("offset %d: ',' or '}' was expected", i)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset just past the string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

// skipValue returns the offset just past the value starting at b[i]. It
// checks only as much as it needs to find the end; a picked value is
// decoded, and so checked, in full.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("a value was expected")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated object or array")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("offset %d: a value was expected", i)
	}
	return j, nil
}
