package auth

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// manage is the management endpoint: a signed-in user sees the apps
// holding refresh tokens for them and can revoke each.
func (s *Server) manage(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		s.startSignIn(w, r, nil)
		return
	}
	si, txn, ok := s.transaction(w, r)
	if !ok {
		return
	}
	if si.user == nil || si.purpose != "manage" {
		s.errorPage(w, errInvalidRequest("sign in first"))
		return
	}
	if family := r.PostForm.Get("family"); family != "" {
		if slices.ContainsFunc(s.grantsOf(si.user), func(g refreshRecord) bool { return g.Family == family }) {
			s.revokeGrant(nil, family)
			s.record(r, decision{action: actRevoke, status: http.StatusOK,
				tc: &tokenContext{Subject: si.user.Username, FHIRUser: si.user.FHIRUser}})
		}
	}
	s.showGrants(w, txn, si)
}

// grantsOf lists the live refresh grants of a user: those they approved,
// and those a GP system launched for their fhirUser.
func (s *Server) grantsOf(u *User) []refreshRecord {
	out, err := s.refresh.grantsOf(u.Username)
	if err == nil && u.FHIRUser != "" && u.FHIRUser != u.Username {
		var more []refreshRecord
		more, err = s.refresh.grantsOf(u.FHIRUser)
		out = append(out, more...)
	}
	if err != nil {
		s.log.Error("list refresh grants", "err", err)
	}
	return out
}

func (s *Server) showGrants(w http.ResponseWriter, txn string, si *signIn) {
	var rows []grantRow
	for _, g := range s.grantsOf(si.user) {
		rows = append(rows, grantRow{ClientID: g.Context.ClientID, Scope: g.Context.Scope, Patient: g.Context.Patient,
			Expires: g.Expires.UTC().Format(time.RFC3339), Family: g.Family})
	}
	slices.SortFunc(rows, func(a, b grantRow) int { return strings.Compare(a.ClientID+a.Family, b.ClientID+b.Family) })
	renderPage(w, http.StatusOK, "manage", pageData{Title: "Your app access", Action: s.url(pathManage), Txn: txn, CSRF: si.csrf,
		Username: si.user.Username, Grants: rows})
}
