package forwardauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// ruleName is what the pages call a rule's app: its name, else its host and path.
func ruleName(r *store.ForwardRule) string {
	if r.Name != "" {
		return r.Name
	}
	return r.Host + r.PathPrefix
}

// AppName names the protected app a login returns to (returnPath is StartPath?rd=…): the
// name of the rule of rd's host and path, else its host; "" for any other path or an address
// no rule protects.
func (s *Service) AppName(ctx context.Context, returnPath string) string {
	u, err := url.Parse(returnPath)
	if err == nil && u.Path == HandoverCodePath {
		return s.handoverAppName(ctx, u.Query().Get("origin"))
	}
	if err != nil || u.Path != StartPath {
		return ""
	}
	rd, err := url.Parse(u.Query().Get("rd"))
	if err != nil || rd.Host == "" || !validHostPort(rd.Host) {
		return ""
	}
	rs, err := s.currentRules(ctx)
	if err != nil {
		return ""
	}
	p, err := ParsePath(rd.EscapedPath())
	if err != nil {
		return ""
	}
	if need, ok := rs.Judge(rd.Host, http.MethodGet, p); ok && len(need) > 0 {
		return ruleName(need[0])
	}
	return ""
}

// deniedApp is an app the denied page names: its name and the groups it admits.
type deniedApp struct {
	Name   string
	Groups []string
}

// deniedPage is the 403 page a proxy shows in the app's own origin: every link is absolute,
// its styles run by the answer's nonce (its CSP names nothing of the app's origin), and it
// looks like the site's own pages.
var deniedPage = template.Must(template.New("denied").Funcs(template.FuncMap{"join": strings.Join}).Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}} · {{.Site}}</title>
<style nonce="{{.Nonce}}">body{font-family:system-ui,sans-serif;margin:0;background:#f6f6f4;color:#222}
header{background:#222;color:#eee;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center}header a{color:#eee;text-decoration:none}header .grow{flex:1}
main{max-width:26rem;margin:3em auto;background:#fff;border:1px solid #ddd;padding:1.6em 1.8em;border-radius:12px;box-shadow:0 2px 14px #0001}
h1{font-size:1.4em;margin-top:0}a{color:#1f5fbf}.btn{background:#e5a00d;border-radius:4px;padding:.5em 1em;color:#111;text-decoration:none;display:inline-block}
.pill{background:#eee;border-radius:1em;padding:.1em .6em;margin:.1em;display:inline-block;font-size:.9em}
@media (max-width:640px){header{flex-wrap:wrap;gap:.5em .9em;padding:.6em .8em}main{margin:1em .5em;padding:1.2em}}</style></head><body>
<header><a href="{{.Base}}/"><strong>{{.Site}}</strong></a><span class="grow"></span>
{{if .Name}}<a href="{{.Base}}/profile" id="profile">Your profile</a><a href="{{.Base}}/forward-auth/logout" id="sign-out">Sign out</a>{{else}}<a href="{{.Base}}/login" id="sign-in-link">Sign in</a>{{end}}</header>
<main id="denied"><h1>{{.Title}}</h1>
{{if .Twice}}<p>Your browser sends this site's sign-in cookie more than once: an app under {{.Domain}} set a copy of it.
To be safe, no app is opened this way. Clear your browser's cookies for {{.Domain}}, then sign in again.</p>
{{else if .NoRule}}<p id="not-set-up">{{with .Host}}<strong>{{.}}</strong> is{{else}}This address is{{end}} not one of the apps of {{.Site}}, so nobody can open it through this site.
If you expected an app here, ask whoever runs {{.Site}} to set it up.</p>
{{else if .Apps}}{{range .Apps}}<p class="app-need">{{if $.Name}}You are signed in as <strong>{{$.Name}}</strong>, but {{else}}{{end}}<strong>{{.Name}}</strong> is only for members of
{{range $i, $g := .Groups}}{{if $i}} or {{end}}<span class="pill">{{$g}}</span>{{end}}. Ask whoever runs {{$.Site}} to add you.</p>{{end}}
{{else}}<p>{{if .Name}}You are signed in as <strong>{{.Name}}</strong>, but this{{else}}This{{end}} app or page is not open to you.
Ask whoever runs {{.Site}} to let you in.</p>{{end}}
{{if not .Name}}<p><a class="btn" href="{{.Base}}/login" id="sign-in">Sign in to {{.Site}}</a></p>{{end}}</main></body></html>`))

// denied is the page nginx shows for a 403 (error_page 403). The address refused is read
// from X-Original-URL and X-Original-Host when the proxy sends them (docs/forward-auth.md),
// for the wording only: no link on the page ever leads there.
func (s *Service) denied(w http.ResponseWriter, r *http.Request) {
	var refused *target
	if t, err := nginxTarget(r.Header); err == nil {
		refused = &t
	}
	s.writeDenied(w, r, refused)
}

// deniedCSP is the denied page's Content-Security-Policy: nothing but its own styles (by
// nonce), no frames. Caddy's and Traefik's forward-auth copy the answer onto the app's
// origin, where 'self' would be the app.
func deniedCSP(nonce string) string {
	return "default-src 'none'; style-src 'nonce-" + nonce + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// writeDenied answers 403 with the denied page, self-contained (its own security headers,
// styles by nonce, links to the public URL) wherever the proxy shows it; refused is the
// address refused (nil: unknown), for the page's words only.
func (s *Service) writeDenied(w http.ResponseWriter, r *http.Request, refused *target) {
	base := strings.TrimRight(s.o.PublicURL.String(), "/")
	domain := s.o.CookieDomain
	if domain == "" {
		domain = s.o.PublicURL.Hostname()
	}
	nonce := make([]byte, 18)
	_, _ = rand.Read(nonce)
	data := map[string]any{"Site": s.o.SiteName(), "Base": base, "Domain": domain, "Title": "No access to this app",
		"Nonce": base64.RawURLEncoding.EncodeToString(nonce)}
	var ident *identity
	token, twice := s.token(r)
	data["Twice"] = twice
	if token != "" {
		if ident, _ = s.cache.lookup(r.Context(), token); ident != nil {
			name := ident.name
			if name == "" {
				name = ident.user
			}
			data["Name"] = name
		}
	}
	if refused != nil && !twice {
		s.explainDenial(r.Context(), data, *refused, ident)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", deniedCSP(data["Nonce"].(string)))
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(http.StatusForbidden)
	_ = deniedPage.Execute(w, data)
}

// explainDenial says why t was refused: its host has no rule, or (to a signed-in person only)
// the rules it falls under admit groups the person is not in.
func (s *Service) explainDenial(ctx context.Context, data map[string]any, t target, ident *identity) {
	rs, err := s.currentRules(ctx)
	if err != nil {
		return
	}
	if len(rs.hostsNamed(t.host)) == 0 {
		data["NoRule"], data["Host"], data["Title"] = true, hostName(NormalizeHost(t.host)), "This address is not set up"
		return
	}
	p, err := ParsePath(t.uri)
	if err != nil || ident == nil { // the headers are anyone's: an app's groups are told only to the refused
		return
	}
	need, ok := rs.Judge(t.host, t.method, p)
	if !ok {
		return
	}
	var apps []deniedApp
	for _, rule := range need {
		if !host.AppAdmits(rule.Groups, ident.groups) {
			apps = append(apps, deniedApp{Name: ruleName(rule), Groups: rule.Groups})
		}
	}
	if len(apps) > 0 {
		data["Apps"], data["Title"] = apps, "No access to "+apps[0].Name
	}
}
