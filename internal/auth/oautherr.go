package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// oauthError is an RFC 6749 error response.
type oauthError struct {
	status int
	code   string // invalid_request, invalid_client, invalid_grant ...
	desc   string
}

func (e *oauthError) Error() string { return e.code + ": " + e.desc }

func errInvalidRequest(format string, args ...any) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", desc: fmt.Sprintf(format, args...)}
}

func errInvalidClient(format string, args ...any) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: fmt.Sprintf(format, args...)}
}

func errInvalidGrant(format string, args ...any) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", desc: fmt.Sprintf(format, args...)}
}

func errInvalidScope(format string, args ...any) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_scope", desc: fmt.Sprintf(format, args...)}
}

func errUnauthorizedClient(format string, args ...any) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", desc: fmt.Sprintf(format, args...)}
}

func errServer(format string, args ...any) *oauthError {
	return &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: fmt.Sprintf(format, args...)}
}

// noStore marks a response that carries tokens (or could have): RFC 6749
// 5.1 forbids caching it.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// writeOAuthError answers with the error JSON.
func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	noStore(w)
	if e.status == http.StatusUnauthorized {
		// RFC 6749 5.2: a 401 names the scheme a client may use; HTTP Basic
		// with the client secret is the one HTTP offers.
		w.Header().Set("WWW-Authenticate", `Basic realm="telederm"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
