// Package jsonpatch applies RFC 6902 JSON Patch documents to JSON documents,
// for FHIR's PATCH interaction (Content-Type application/json-patch+json).
//
// Numbers keep their exact text through a patch: FHIR decimals carry their
// precision in the digits written (1.10 is not 1.1), so values are never
// converted to float64. Object members keep their order, so a patched
// resource still reads like the original.
//
// Objects with duplicate member names are rejected in both the document and
// the patch: RFC 6902 Appendix A.13 calls a duplicate "op" an error, and a
// value that two parsers could read differently has no place in a record.
package jsonpatch
