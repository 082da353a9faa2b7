package search

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize folds a string the way string search compares it: lower case,
// accents removed (é -> e, ß -> ss, Ł -> l), runs of white space and
// punctuation made one space, trimmed. "Zoë  O'Brien" becomes "zoe o brien".
func Normalize(s string) string {
	if normalASCII(s) {
		return s // already lower case words and single spaces
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r < utf8.RuneSelf { // ASCII: no folding, no Unicode tables
			switch {
			case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
				b.WriteByte(byte(r))
				space = false
			case 'A' <= r && r <= 'Z':
				b.WriteByte(byte(r) + 'a' - 'A')
				space = false
			default:
				if !space && b.Len() > 0 {
					b.WriteByte(' ')
					space = true
				}
			}
			continue
		}
		if f, ok := fold[r]; ok {
			b.WriteString(f)
			space = false
			continue
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		case unicode.Is(unicode.Mn, r):
			// combining marks (decomposed accents) carry no letter
		default:
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// normalASCII reports whether s is its own Normalize: lower-case ASCII
// letters and digits in words joined by single spaces.
func normalASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
		case c == ' ' && i > 0 && i < len(s)-1 && s[i-1] != ' ':
		default:
			return false
		}
	}
	return true
}

// fold maps accented Latin letters to their base letters. The standard
// library has no Unicode decomposition, and names in UK records use Latin
// scripts, so a table covers what matters.
var fold = func() map[rune]string {
	groups := map[string]string{
		"a":  "àáâãäåāăąǎǟǡǻȁȃȧḁạảấầẩẫậắằẳẵặÀÁÂÃÄÅĀĂĄǍǞǠǺȀȂȦḀẠẢẤẦẨẪẬẮẰẲẴẶ",
		"ae": "æǣǽÆǢǼ", "c": "çćĉċčÇĆĈĊČ", "d": "ďđðĎĐÐ",
		"e": "èéêëēĕėęěȅȇȩḕḗḙḛḝẹẻẽếềểễệÈÉÊËĒĔĖĘĚȄȆȨḔḖḘḚḜẸẺẼẾỀỂỄỆ",
		"g": "ĝğġģǧǵĜĞĠĢǦǴ", "h": "ĥħĤĦ", "i": "ìíîïĩīĭįıǐȉȋỉịÌÍÎÏĨĪĬĮİǏȈȊỈỊ",
		"j": "ĵĴ", "k": "ķǩĶǨ", "l": "ĺļľŀłĹĻĽĿŁ", "n": "ñńņňŉǹÑŃŅŇǸ",
		"o":  "òóôõöøōŏőơǒǫǭǿȍȏȫȭȯȱọỏốồổỗộớờởỡợÒÓÔÕÖØŌŎŐƠǑǪǬǾȌȎȪȬȮȰỌỎỐỒỔỖỘỚỜỞỠỢ",
		"oe": "œŒ", "r": "ŕŗřȑȓŔŖŘȐȒ", "s": "śŝşšșŚŜŞŠȘ", "ss": "ß", "t": "ţťŧțŢŤŦȚ", "th": "þÞ",
		"u": "ùúûüũūŭůűųưǔǖǘǚǜȕȗụủứừửữựÙÚÛÜŨŪŬŮŰŲƯǓǕǗǙǛȔȖỤỦỨỪỬỮỰ",
		"w": "ŵẁẃẅŴẀẂẄ", "y": "ýÿŷỳỹỵỷÝŸŶỲỸỴỶ", "z": "źżžŹŻŽ",
	}
	m := map[rune]string{}
	for base, letters := range groups {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()

// DecimalRange reads a FHIR decimal and returns its value and the half-open
// range its written precision implies: "5.4" is 5.4 in [5.35, 5.45), "100"
// is 100 in [99.5, 100.5), "1e2" is 100 in [50, 150).
func DecimalRange(s string) (v, lo, hi float64, err error) {
	v, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, 0, 0, fmt.Errorf("%q is not a decimal number", s)
	}
	mant, exp := strings.ToLower(s), 0
	if i := strings.IndexByte(mant, 'e'); i >= 0 {
		e, perr := strconv.Atoi(mant[i+1:])
		if perr != nil {
			return 0, 0, 0, fmt.Errorf("%q is not a decimal number", s)
		}
		mant, exp = mant[:i], e
	}
	decimals := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		decimals = len(mant) - i - 1
	}
	half := 0.5 * math.Pow(10, float64(exp-decimals))
	return v, v - half, v + half, nil
}
