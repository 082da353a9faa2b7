package api

import (
	"mime"
	"net/http"
	"strings"
)

// The server speaks FHIR JSON only; these are the media types that name it.
const (
	mimeFHIRJSON = "application/fhir+json"
	mimeJSON     = "application/json"
	mimePatch    = "application/json-patch+json"
	mimeCSV      = "text/csv"
)

// format is what a client asked to receive.
type format struct {
	// fhir is true when the client named a FHIR JSON type (or _format=json);
	// false when it left the choice open (no Accept, */*), which matters only
	// for Binary, whose raw content is then returned.
	fhir bool
	// contentType to answer FHIR JSON with.
	contentType string
	pretty      bool
	// csv is set when the client asked for CSV (_format=csv or text/csv),
	// which only report operations ($stats) produce; any other successful
	// answer is then 406.
	csv bool
}

// negotiate reads _format, Accept and _pretty. ok is false when the client
// accepts only formats this server does not produce (XML, RDF ...).
func negotiate(r *http.Request) (f format, ok bool) {
	q := r.URL.Query()
	f.contentType = mimeFHIRJSON
	f.pretty = q.Get("_pretty") == "true"
	if v := q.Get("_format"); v != "" {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "json", mimeFHIRJSON:
			f.fhir = true
			return f, true
		case mimeJSON:
			f.fhir, f.contentType = true, mimeJSON
			return f, true
		case "csv", mimeCSV:
			f.csv = true
			return f, true
		default:
			return f, false
		}
	}
	accept := strings.Join(r.Header.Values("Accept"), ",")
	if strings.TrimSpace(accept) == "" {
		return f, true
	}
	anyOK := false
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if params["q"] == "0" {
			continue
		}
		switch mt {
		case mimeFHIRJSON:
			f.fhir, f.contentType = true, mimeFHIRJSON
			return f, true
		case mimeJSON:
			f.fhir, f.contentType = true, mimeJSON
			return f, true
		case "*/*", "application/*":
			anyOK = true
		default:
			// Binary content types (image/jpeg ...) are acceptable for a
			// Binary read; the handler decides.
			if !isXML(mt) {
				anyOK = true
			}
		}
	}
	return f, anyOK
}

func isXML(mt string) bool {
	return strings.HasSuffix(mt, "/xml") || strings.HasSuffix(mt, "+xml") || strings.Contains(mt, "turtle")
}

// bodyKind classifies a request body by its Content-Type.
type bodyKind int

const (
	bodyFHIRJSON bodyKind = iota
	bodyJSONPatch
	bodyXML
	bodyOther
)

func requestBodyKind(r *http.Request) (bodyKind, string) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return bodyFHIRJSON, "" // lenient: most tools omit it for JSON
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return bodyOther, ct
	}
	switch {
	case mt == mimeFHIRJSON || mt == mimeJSON:
		return bodyFHIRJSON, mt
	case mt == mimePatch:
		return bodyJSONPatch, mt
	case isXML(mt):
		return bodyXML, mt
	}
	return bodyOther, mt
}
