package auth

import (
	"net"
	"net/http"
	"strings"

	"github.com/telederm/telederm/internal/audit"
)

// Audit actions of the authorization server.
const (
	actToken      = "auth-token"
	actAuthorize  = "auth-authorize"
	actLaunch     = "auth-launch"
	actIntrospect = "auth-introspect"
	actRevoke     = "auth-revoke"
	actLogin      = "auth-login"
)

// decision is one audited authorization decision. It names who and what,
// never a token, code, secret or password.
type decision struct {
	action   string
	status   int
	clientID string
	tc       *tokenContext // who the tokens are for, when known
	detail   string        // why it was refused; empty on success
}

func (s *Server) record(r *http.Request, d decision) {
	if s.cfg.Audit == nil {
		return
	}
	route := r.Pattern
	if _, p, ok := strings.Cut(route, " "); ok {
		route = p
	}
	e := audit.Event{
		Time: s.now(), Action: d.action, Method: r.Method, Route: route, Status: d.status,
		ClientID: d.clientID, Source: remoteHost(r), RequestID: r.Header.Get("X-Request-Id"), Detail: d.detail,
	}
	if len(e.RequestID) > 64 {
		e.RequestID = ""
	}
	if d.tc != nil {
		e.Subject, e.FHIRUser, e.Patient = d.tc.Subject, d.tc.FHIRUser, d.tc.Patient
		if d.tc.Patient != "" {
			e.Entities = append(e.Entities, "Patient/"+d.tc.Patient)
		}
	}
	s.cfg.Audit.Record(r.Context(), e)
}

// recordError audits a refused request with its OAuth error.
func (s *Server) recordError(r *http.Request, action, clientID string, e *oauthError) {
	s.record(r, decision{action: action, status: e.status, clientID: clientID, detail: e.code + ": " + e.desc})
}

func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
