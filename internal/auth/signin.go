package auth

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// csrfCookie carries the CSRF token the sign-in and approval forms must
// echo (double submit): a page elsewhere cannot read it to forge a post.
const csrfCookie = "telederm_csrf"

// signIn is a browser's way through the sign-in and approval pages.
type signIn struct {
	purpose string       // "authorize" or "manage"
	req     *authRequest // the authorization request (authorize)
	csrf    string
	user    *User // set once signed in
	at      time.Time
}

// startSignIn begins a standalone launch (or a visit to the management
// page): a transaction, a CSRF cookie and the sign-in form.
func (s *Server) startSignIn(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	purpose := "manage"
	clientID := "the account management page"
	if ar != nil {
		purpose, clientID = "authorize", ar.client.ID
		if !ar.client.may(LaunchStandalone) {
			s.redirectError(w, r, ar, errUnauthorizedClient("client %s is not registered for standalone launch", ar.client.ID))
			return
		}
	}
	txn, csrf := randomToken(24), randomToken(24)
	now := s.now()
	s.txns.add(txn, &signIn{purpose: purpose, req: ar, csrf: csrf}, now.Add(signInTTL), now)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: s.cookiePath(), HttpOnly: true,
		Secure: strings.HasPrefix(s.base, "https:"), SameSite: http.SameSiteStrictMode, MaxAge: int(signInTTL.Seconds())})
	renderPage(w, http.StatusOK, "signin", pageData{Title: "Sign in", Action: s.url(pathSignIn), Txn: txn, CSRF: csrf, ClientID: clientID})
}

// cookiePath is /auth/ under the base URL's path: behind a proxy that
// serves the server at https://host/fhir, the pages are at /fhir/auth/.
func (s *Server) cookiePath() string {
	u, err := url.Parse(s.base)
	if err != nil {
		return "/auth/"
	}
	return strings.TrimRight(u.Path, "/") + "/auth/"
}

// transaction finds the sign-in transaction of a posted form and checks
// its CSRF token against the form and the cookie.
func (s *Server) transaction(w http.ResponseWriter, r *http.Request) (*signIn, string, bool) {
	if _, e := readForm(w, r); e != nil {
		s.errorPage(w, e)
		return nil, "", false
	}
	txn := r.PostForm.Get("txn")
	si, ok := s.txns.get(txn, s.now())
	cookie, err := r.Cookie(csrfCookie)
	form := r.PostForm.Get("csrf")
	if !ok || err != nil || form == "" ||
		subtle.ConstantTimeCompare([]byte(form), []byte(si.csrf)) != 1 ||
		subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(si.csrf)) != 1 {
		s.errorPage(w, &oauthError{status: http.StatusForbidden, code: "access_denied",
			desc: "this sign-in has expired or did not start in this browser: start again from the app"})
		return nil, "", false
	}
	return si, txn, true
}

// signIn is POST /auth/signin: check the password, then show the approval
// page (or the management page).
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	si, txn, ok := s.transaction(w, r)
	if !ok {
		return
	}
	username := r.PostForm.Get("username")
	u, err := s.users.authenticate(username, r.PostForm.Get("password"))
	clientID := ""
	if si.req != nil {
		clientID = si.req.client.ID
	}
	if err != nil {
		s.log.Error("read users", "err", err)
		s.errorPage(w, errServer("the user accounts cannot be read"))
		return
	}
	if u == nil {
		s.record(r, decision{action: actLogin, status: http.StatusUnauthorized, clientID: clientID, detail: "wrong username or password"})
		renderPage(w, http.StatusOK, "signin", pageData{Title: "Sign in", Action: s.url(pathSignIn), Txn: txn, CSRF: si.csrf,
			ClientID: clientID, Error: "Wrong username or password."})
		return
	}
	signed := *si
	signed.user, signed.at = u, s.now()
	si = &signed
	if !s.txns.replace(txn, si, si.at) {
		s.errorPage(w, &oauthError{status: http.StatusForbidden, code: "access_denied", desc: "this sign-in has expired: start again from the app"})
		return
	}
	s.record(r, decision{action: actLogin, status: http.StatusOK, clientID: clientID,
		tc: &tokenContext{Subject: u.Username, FHIRUser: u.FHIRUser, Patient: u.Patient}})
	if si.purpose == "manage" {
		s.showGrants(w, txn, si)
		return
	}
	s.showApproval(w, txn, si, "")
}

func (s *Server) showApproval(w http.ResponseWriter, txn string, si *signIn, problem string) {
	var scopes []string
	for _, r := range userScopes(si.req.scopes, "any", si.user.FHIRUser) {
		if r.token != scopeLaunch {
			scopes = append(scopes, r.token)
		}
	}
	renderPage(w, http.StatusOK, "approve", pageData{
		Title: "Approve access", Action: s.url(pathApprove), Txn: txn, CSRF: si.csrf, Error: problem,
		ClientID: si.req.client.ID, Username: si.user.Username, FHIRUser: si.user.FHIRUser, Scopes: scopes,
		PickPatient: si.user.Patient == "" && hasScope(si.req.scopes, scopeLaunchPatient), Patient: si.user.Patient,
	})
}

// approve is POST /auth/approve: the user's decision on the approval page.
func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	si, txn, ok := s.transaction(w, r)
	if !ok {
		return
	}
	if si.user == nil || si.req == nil {
		s.errorPage(w, errInvalidRequest("sign in first"))
		return
	}
	ar := si.req
	if r.PostForm.Get("decision") != "approve" {
		s.txns.take(txn, s.now())
		s.redirectError(w, r, ar, &oauthError{status: http.StatusForbidden, code: "access_denied", desc: "the user denied access"})
		return
	}
	patient := si.user.Patient
	if patient == "" && hasScope(ar.scopes, scopeLaunchPatient) {
		patient = strings.TrimSpace(r.PostForm.Get("patient"))
		if !idPattern.MatchString(patient) {
			s.showApproval(w, txn, si, "Give the id of the patient to open.")
			return
		}
	}
	s.txns.take(txn, s.now())
	granted := keepScopes(userScopes(ar.scopes, patient, si.user.FHIRUser), func(r requestedScope) bool {
		return r.token != scopeLaunch // launch is the EHR launch's scope
	})
	if !usable(granted) {
		s.redirectError(w, r, ar, errInvalidScope("none of the requested scopes can be granted to this client for this user"))
		return
	}
	tc := tokenContext{ClientID: ar.client.ID, Subject: si.user.Username, FHIRUser: si.user.FHIRUser, Patient: patient,
		NeedBanner: true, Scope: scopeString(granted), Nonce: ar.nonce}
	s.issueCode(w, r, ar, tc, si.at)
}
