package auth

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/telederm/telederm/internal/auth/authstate"
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
	if err := insertJSON(s.state, kindSignIn, hashToken(txn), signInRecordOf(&signIn{purpose: purpose, req: ar, csrf: csrf}),
		s.now().Add(signInTTL)); err != nil {
		s.log.Error("store sign-in", "err", err)
		s.errorPage(w, errServer("the sign-in could not be started"))
		return
	}
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
	si, ok := s.loadSignIn(txn)
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
	if !s.replaceSignIn(txn, si) {
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
		s.dropSignIn(txn)
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
	s.dropSignIn(txn)
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

// signInRecord is a sign-in transaction as the state keeps it: the
// authorization request by its parameters (the client is looked up again
// when it is read) and the user without the password hash.
type signInRecord struct {
	Purpose string             `json:"purpose"`
	Req     *authRequestRecord `json:"req,omitempty"`
	CSRF    string             `json:"csrf"`
	User    *User              `json:"user,omitempty"`
	At      time.Time          `json:"at"`
}

type authRequestRecord struct {
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
	State       string `json:"state"`
	Nonce       string `json:"nonce,omitempty"`
	Challenge   string `json:"challenge"`
	Scope       string `json:"scope"`
}

func signInRecordOf(si *signIn) signInRecord {
	rec := signInRecord{Purpose: si.purpose, CSRF: si.csrf, At: si.at}
	if si.user != nil {
		u := *si.user
		u.PasswordHash = ""
		rec.User = &u
	}
	if ar := si.req; ar != nil {
		rec.Req = &authRequestRecord{ClientID: ar.client.ID, RedirectURI: ar.redirectURI, State: ar.state, Nonce: ar.nonce,
			Challenge: ar.challenge, Scope: scopeString(ar.scopes)}
	}
	return rec
}

// loadSignIn reads an unexpired transaction; false when there is none, or
// its client has gone meanwhile.
func (s *Server) loadSignIn(txn string) (*signIn, bool) {
	if txn == "" {
		return nil, false
	}
	var rec signInRecord
	found, expired, err := getJSON(s.state, kindSignIn, hashToken(txn), &rec, s.now())
	if err != nil {
		s.log.Error("read sign-in", "err", err)
	}
	if err != nil || !found || expired {
		return nil, false
	}
	si := &signIn{purpose: rec.Purpose, csrf: rec.CSRF, user: rec.User, at: rec.At}
	if q := rec.Req; q != nil {
		c, e := s.lookupClient(q.ClientID)
		if e != nil {
			return nil, false
		}
		req, e := parseRequestedScopes(q.Scope)
		if e != nil {
			return nil, false
		}
		si.req = &authRequest{client: c, redirectURI: q.RedirectURI, state: q.State, nonce: q.Nonce, challenge: q.Challenge,
			scopes: allowedBy(req, &c.Client)}
	}
	return si, true
}

// replaceSignIn stores the transaction's next step (signed in).
func (s *Server) replaceSignIn(txn string, si *signIn) bool {
	b, err := json.Marshal(signInRecordOf(si))
	if err == nil {
		ctx, cancel := stateCtx()
		defer cancel()
		err = s.state.Replace(ctx, kindSignIn, hashToken(txn), b)
	}
	if err != nil && !errors.Is(err, authstate.ErrNotFound) {
		s.log.Error("store sign-in", "err", err)
	}
	return err == nil
}

// dropSignIn ends a transaction.
func (s *Server) dropSignIn(txn string) {
	if err := deleteRecord(s.state, kindSignIn, hashToken(txn)); err != nil {
		s.log.Error("end sign-in", "err", err)
	}
}
