package jsonpatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack; it is
// encoding/json's own limit.
const maxDepth = 10000

// dupMemberError reports an object with the same member name twice.
type dupMemberError struct{ name string }

func (e *dupMemberError) Error() string { return fmt.Sprintf("duplicate member %q", e.name) }

// newDecoder reads numbers as json.Number so their text survives unchanged.
func newDecoder(data []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec
}

// decode parses data, which must hold exactly one JSON value.
func decode(data []byte) (any, error) {
	dec := newDecoder(data)
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	return v, expectEOF(dec)
}

func expectEOF(dec *json.Decoder) error {
	_, err := dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err == nil:
		return errors.New("unexpected data after the top-level value")
	default:
		return err
	}
}

// token is dec.Token, with a truncated input reported as such.
func token(dec *json.Decoder) (json.Token, error) {
	tok, err := dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return tok, err
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := token(dec)
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // nil, bool, string or json.Number
	}
	if depth >= maxDepth {
		return nil, errors.New("nesting too deep")
	}
	var v any
	switch d {
	case '[':
		a := &array{}
		for dec.More() {
			e, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a.elems = append(a.elems, e)
		}
		v = a
	case '{':
		o := newObject()
		for dec.More() {
			tok, err := token(dec)
			if err != nil {
				return nil, err
			}
			name, ok := tok.(string)
			if !ok {
				return nil, errors.New("object member name is not a string")
			}
			if _, dup := o.vals[name]; dup {
				return nil, &dupMemberError{name}
			}
			e, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			o.set(name, e)
		}
		v = o
	default:
		return nil, fmt.Errorf("unexpected %q", rune(d))
	}
	// The closing delimiter; the decoder has checked it matches.
	if _, err := token(dec); err != nil {
		return nil, err
	}
	return v, nil
}
