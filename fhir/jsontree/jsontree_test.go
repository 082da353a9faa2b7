package jsontree

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

// reference decodes as the server did before this package: a whole-input
// validity check, then encoding/json with UseNumber.
func reference(b []byte) (any, error) {
	if !json.Valid(b) {
		return nil, errors.New("invalid")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// referenceEncode encodes as a json.Encoder with HTML escaping off.
func referenceEncode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

var decodeCases = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.50, -0, 1e3, 1E+3, -1.5e-7, 0.1] } `,
	`{"a":{"b":{"c":[true,false,null]}}}`,
	`{"a":1,"a":2}`, // a repeated key keeps the last
	`{"s":"plain","e":"\"\\\/\b\f\n\r\t","u":"\u00e9\u20AC"}`,
	`{"pair":"\ud83d\ude00","lone":"\ud83d","lowfirst":"\ude00\ud83d","hi-then-bmp":"\ud83d\u0041"}`,
	"{\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
	"{\"bad-utf8\":\"a\xffb\xc3\"}",
	`{"decimal":1.000,"big":123456789012345678901234567890,"neg":-12.30}`,
	`"top"`, `12`, `null`, `true`, `[{"a":[]},{}]`,
	// invalid
	``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1 "b":2}`,
	`{a:1}`, `{'a':1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`,
	`{"a":tru}`, `{"a":nul}`, `{"a":True}`, `{"a":"x}`, "{\"a\":\"tab\there\"}", `{"a":"\x"}`,
	`{"a":"\u12"}`, `{"a":"\u12G4"}`, `{"a":1} x`, `{"a":1}{}`, `{"a":NaN}`, `[`, `["a"`,
	"{\"a\":1}\x00",
}

func TestDecodeValueMatchesEncodingJSON(t *testing.T) {
	for _, in := range decodeCases {
		want, wantErr := reference([]byte(in))
		got, err := DecodeValue([]byte(in))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("DecodeValue(%q): error %v, encoding/json error %v", in, err, wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeValue(%q) = %#v, encoding/json %#v", in, got, want)
		}
	}
}

func TestDecodeWantsAnObject(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `1`, `null`, ``} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q): no error", in)
		}
	}
	m, err := Decode([]byte(` {"resourceType":"Patient"} `))
	if err != nil || m["resourceType"] != "Patient" {
		t.Errorf("Decode = %v, %v", m, err)
	}
}

func TestSyntaxErrorSaysWhereAndWhat(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int
		msg    string
	}{
		{`{"a":1,}`, 7, `want a string for an object key`},
		{`{"a" 1}`, 5, `want ':'`},
		{`{"a":[1 2]}`, 8, `want ',' or ']'`},
		{`{"a":01}`, 6, `want ',' or '}'`},
		{`{"a":"\q"}`, 7, `invalid escape 'q'`},
		{`{"a":1} x`, 8, `after the top-level value`},
		{"{\"a\":\"\n\"}", 6, `invalid character 0x0a in a string`},
		{`{"a":`, 5, `unexpected end of input`},
	} {
		_, err := Decode([]byte(tc.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Decode(%q): error %v, want a SyntaxError", tc.in, err)
			continue
		}
		if se.Offset != tc.offset || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("Decode(%q): %v, want offset %d and %q", tc.in, err, tc.offset, tc.msg)
		}
	}
}

func TestDecodeNestingLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, err := DecodeValue([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("%d nested arrays: error %v", maxDepth+1, err)
	}
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := DecodeValue([]byte(ok)); err != nil {
		t.Errorf("%d nested arrays: %v", maxDepth, err)
	}
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, "", "plain", "quote\" back\\ slash/", "<html> & friends",
		"\b\f\n\r\t\x00\x01\x1f\x7f", "line\u2028para\u2029", "bad\xffutf8\xc3", "é€😀",
		json.Number("1.50"), json.Number("-0"), json.Number("1e-7"), json.Number(""),
		0.0, 1.0, -2.5, 1e21, 1e20, 1e-6, 1e-7, 123456789.125, math.SmallestNonzeroFloat64, -math.MaxFloat64,
		3, int64(-7),
		[]any{}, []any(nil), map[string]any{}, map[string]any(nil),
		map[string]any{"b": 1.0, "a": []any{"x", map[string]any{"z": nil, "y": true}}, "é": "k", "A": json.Number("2")},
		[]string{"fallback", "to encoding/json", "<b>&"},
		map[string]any{"raw": json.RawMessage(` {"x" : "<i>"} `)},
	}
	for _, v := range values {
		want, wantErr := referenceEncode(v)
		got, err := Encode(v)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("Encode(%#v) = %s, %v; encoding/json %s, %v", v, got, err, want, wantErr)
		}
	}
	for _, bad := range []any{json.Number("1."), json.Number("x"), math.NaN(), math.Inf(1)} {
		if _, err := Encode(bad); err == nil {
			t.Errorf("Encode(%#v): no error", bad)
		}
	}
}

// TestOfficialExamples: every official R4 example decodes as with
// encoding/json and encodes back to the same bytes.
func TestOfficialExamples(t *testing.T) {
	examples := sharedspec.Examples(t)
	for _, ex := range examples {
		want, err := reference(ex.Body)
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", ex.Name, err)
		}
		got, err := Decode(ex.Body)
		if err != nil {
			t.Errorf("%s: %v", ex.Name, err)
			continue
		}
		if !reflect.DeepEqual(any(got), want) {
			t.Errorf("%s: decoded differently from encoding/json", ex.Name)
			continue
		}
		wantJSON, err := referenceEncode(want)
		if err != nil {
			t.Fatal(err)
		}
		gotJSON, err := Encode(got)
		if err != nil || !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("%s: encoded differently from encoding/json (%v)", ex.Name, err)
		}
	}
	t.Logf("%d examples decoded and encoded as encoding/json does", len(examples))
}

func FuzzDecode(f *testing.F) {
	for _, in := range decodeCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := reference(in)
		got, err := DecodeValue(in)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("DecodeValue(%q): error %v, encoding/json error %v", in, err, wantErr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeValue(%q) = %#v, encoding/json %#v", in, got, want)
		}
		wantJSON, _ := referenceEncode(want)
		if gotJSON, err := Encode(got); err != nil || !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("Encode(DecodeValue(%q)) = %s, %v; encoding/json %s", in, gotJSON, err, wantJSON)
		}
	})
}

// benchDoc is a Patient as the server stores it.
var benchDoc = []byte(`{"resourceType":"Patient","id":"b0c1d2e3-f4a5-4b6c-9d7e-8f9a0b1c2d3e","meta":{"versionId":"1","lastUpdated":"2025-03-01T09:00:00.000Z"},"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"name":[{"use":"official","family":"Smith","given":["Jane","Ann"]}],"gender":"female","birthDate":"1970-01-02","address":[{"line":["1 High St"],"city":"Ipswich","postalCode":"IP1 1AA"}],"telecom":[{"system":"phone","value":"01234 567890"}],"generalPractitioner":[{"reference":"Organization/gp1"}]}`)

// BenchmarkDecode compares this package with encoding/json on a Patient:
//
//	go test -run '^$' -bench . ./fhir/jsontree/
func BenchmarkDecode(b *testing.B) {
	b.Run("jsontree", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		for b.Loop() {
			if _, err := Decode(benchDoc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(benchDoc)))
		for b.Loop() {
			d := json.NewDecoder(bytes.NewReader(benchDoc))
			d.UseNumber()
			var m map[string]any
			if err := d.Decode(&m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	doc, err := Decode(benchDoc)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jsontree", func(b *testing.B) {
		for b.Loop() {
			if _, err := Encode(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := referenceEncode(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// rawCases add spacing inside and around the raw values.
var rawCases = append([]string{
	` { "a" : [ 1 , {"b":2} ] , "c":"x" , "d" : null }  `,
	`{"entry":[ {"resource":{"resourceType":"Patient"}} , {} ]}`,
	`[ 1 , "two" , [3] , {"four":4} ]`, `[ ]`, ` [1] `, `{"a":[1,}`, `[{"a":1,}]`, `["\q"]`,
}, decodeCases...)

func TestRawObjectMatchesEncodingJSON(t *testing.T) {
	for _, in := range rawCases {
		checkRawObject(t, []byte(in))
		checkRawArray(t, []byte(in))
	}
}

func checkRawObject(t *testing.T, in []byte) {
	t.Helper()
	var want map[string]json.RawMessage
	wantErr := json.Unmarshal(in, &want)
	got, err := RawObject(in)
	if wantErr != nil || want == nil {
		if err == nil {
			t.Fatalf("RawObject(%q) = %q, encoding/json: %v, %v", in, got, want, wantErr)
		}
		return
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("RawObject(%q) = %q, %v; encoding/json %q", in, got, err, want)
	}
}

func checkRawArray(t *testing.T, in []byte) {
	t.Helper()
	var want []json.RawMessage
	wantErr := json.Unmarshal(in, &want)
	got, err := RawArray(in)
	if wantErr != nil || want == nil {
		if err == nil {
			t.Fatalf("RawArray(%q) = %q, encoding/json: %v, %v", in, got, want, wantErr)
		}
		return
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("RawArray(%q) = %q, %v; encoding/json %q", in, got, err, want)
	}
}

func FuzzRaw(f *testing.F) {
	for _, in := range rawCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkRawObject(t, in)
		checkRawArray(t, in)
	})
}
