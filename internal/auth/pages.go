package auth

import (
	"bytes"
	"html/template"
	"net/http"
)

// The pages a user sees: sign-in, approval, management and errors. Plain
// HTML, every value escaped by html/template.
var pages = template.Must(template.New("layout").Parse(`{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Telederm: {{.Title}}</title>
<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}label{display:block;margin:.8em 0 .2em}.error{color:#a00}li{margin:.3em 0}</style>
</head><body><h1>{{.Title}}</h1>{{end}}
{{define "bottom"}}</body></html>{{end}}

{{define "signin"}}{{template "top" .}}
<p><strong>{{.ClientID}}</strong> asks to use your Telederm account.</p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="txn" value="{{.Txn}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
</form>{{template "bottom" .}}{{end}}

{{define "approve"}}{{template "top" .}}
<p>Signed in as <strong>{{.Username}}</strong> ({{.FHIRUser}}).</p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<p><strong>{{.ClientID}}</strong> asks for:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{else}}<li>nothing this app may be granted</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="txn" value="{{.Txn}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
{{if .PickPatient}}<label for="patient">Patient id</label><input id="patient" name="patient" required pattern="[A-Za-z0-9.\-]{1,64}">{{end}}
{{if .Patient}}<p>Patient: <strong>{{.Patient}}</strong></p>{{end}}
<p><button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button></p>
</form>{{template "bottom" .}}{{end}}

{{define "manage"}}{{template "top" .}}
<p>Signed in as <strong>{{.Username}}</strong>. Apps with lasting access to your account:</p>
<ul>{{range .Grants}}<li><strong>{{.ClientID}}</strong>: <code>{{.Scope}}</code>{{if .Patient}} (patient {{.Patient}}){{end}}, until {{.Expires}}
<form method="post" action="{{$.Action}}" style="display:inline">
<input type="hidden" name="txn" value="{{$.Txn}}"><input type="hidden" name="csrf" value="{{$.CSRF}}">
<button type="submit" name="family" value="{{.Family}}">Revoke</button></form></li>
{{else}}<li>none</li>{{end}}</ul>{{template "bottom" .}}{{end}}

{{define "error"}}{{template "top" .}}<p class="error">{{.Error}}</p>{{template "bottom" .}}{{end}}
`))

// pageData is what every page may show.
type pageData struct {
	Title, Action, Txn, CSRF, Error string
	ClientID, Username, FHIRUser    string
	Scopes                          []string
	PickPatient                     bool
	Patient                         string
	Grants                          []grantRow
}

type grantRow struct {
	ClientID, Scope, Patient, Expires, Family string
}

func renderPage(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, d); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	noStore(w)
	// The pages take no part in framing or scripts: refuse both.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage shows an authorization error to the user when it cannot go
// back to the app.
func (s *Server) errorPage(w http.ResponseWriter, e *oauthError) {
	status := e.status
	if status == http.StatusUnauthorized {
		status = http.StatusBadRequest // not an HTTP authentication challenge
	}
	renderPage(w, status, "error", pageData{Title: "Authorization error", Error: e.code + ": " + e.desc})
}
