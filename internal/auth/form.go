package auth

import (
	"mime"
	"net/http"
	"net/url"
)

// maxFormBytes caps OAuth request bodies: they carry a few parameters and
// at most a client assertion.
const maxFormBytes = 64 << 10

// readForm reads an application/x-www-form-urlencoded body (RFC 6749:
// token, introspection and revocation requests put parameters there, not
// in the query) and refuses repeated parameters.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, errInvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, errInvalidRequest("the form body cannot be read")
	}
	if e := noRepeats(r.PostForm); e != nil {
		return nil, e
	}
	return r.PostForm, nil
}

// noRepeats refuses a parameter given twice (RFC 6749 3.1, 3.2).
func noRepeats(v url.Values) *oauthError {
	for k, vs := range v {
		if len(vs) > 1 {
			return errInvalidRequest("parameter %s is repeated", k)
		}
	}
	return nil
}
