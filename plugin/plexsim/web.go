package plexsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// The simulated Plex Web: a page that, like the real app.plex.tv/desktop, takes the user's
// plex.tv token from localStorage.myPlexAccessToken, asks plex.tv who that is and which
// servers it may use, and lists each server's libraries read with that server's accessToken.
// It calls plex.tv at the sim's public URL, not relative to itself, because it may be served
// on another origin through a reverse proxy.

const webPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Plex Web (simulated)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body data-state="loading"><main>
<h1>Plex Web <small>(simulated)</small></h1>
<p id="who">Loading…</p>
<ul id="sections"></ul>
<ul id="errors"></ul>
</main></body></html>
`

const webStyleSheet = `body{font-family:system-ui,sans-serif;background:#1f1f1f;color:#eee;display:flex;justify-content:center;padding:3em 1em}
main{max-width:40em;width:100%}h1{color:#e5a00d}#errors{color:#f88}
`

// webScriptTmpl is app.js; PLEX_TV_JSON is replaced by the public URL as a JSON string.
const webScriptTmpl = `'use strict';
(function () {
  const PLEX_TV = PLEX_TV_JSON || location.origin;
  const who = document.getElementById('who');
  const list = document.getElementById('sections');
  const errors = document.getElementById('errors');
  function done(state) { document.body.dataset.state = state; }
  function clientID() {
    let id = localStorage.getItem('clientID');
    if (!id) {
      const b = new Uint8Array(12);
      crypto.getRandomValues(b);
      id = Array.from(b, function (x) { return x.toString(16).padStart(2, '0'); }).join('');
      localStorage.setItem('clientID', id);
    }
    return id;
  }
  function headers(token) {
    return {'X-Plex-Token': token, 'X-Plex-Client-Identifier': clientID(), 'X-Plex-Product': 'Plex Web', 'Accept': 'application/json'};
  }
  function signIn() { who.textContent = 'Sign in'; done('signed-out'); }
  function problem(text) {
    const li = document.createElement('li');
    li.textContent = text;
    errors.appendChild(li);
  }
  async function sections(res) {
    for (const c of res.connections || []) {
      let r;
      try {
        r = await fetch(c.uri + '/library/sections', {headers: headers(res.accessToken || '')});
      } catch (e) {
        continue;
      }
      if (!r.ok) { problem(res.name + ': ' + r.status); return; }
      const body = await r.json();
      for (const d of (body.MediaContainer && body.MediaContainer.Directory) || []) {
        const li = document.createElement('li');
        li.dataset.server = res.name;
        li.dataset.section = d.title;
        li.textContent = res.name + ': ' + d.title;
        list.appendChild(li);
      }
      return;
    }
    problem(res.name + ': unreachable');
  }
  async function main() {
    const token = localStorage.getItem('myPlexAccessToken');
    if (!token) return signIn();
    const u = await fetch(PLEX_TV + '/api/v2/user', {headers: headers(token)});
    if (u.status === 401) return signIn();
    if (!u.ok) { who.textContent = 'plex.tv answered ' + u.status; return done('error'); }
    const user = await u.json();
    who.textContent = 'signed in as ' + (user.username || user.title);
    const r = await fetch(PLEX_TV + '/api/v2/resources?includeHttps=1&includeRelay=1', {headers: headers(token)});
    if (r.status === 401) return signIn();
    if (!r.ok) { problem('plex.tv resources: ' + r.status); return done('error'); }
    for (const res of await r.json()) {
      if (String(res.provides || '').split(',').indexOf('server') >= 0) await sections(res);
    }
    done('ready');
  }
  main().catch(function (e) { problem(String(e)); done('error'); });
})();
`

// webRedirect sends /web and /web/ to the page.
func webRedirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/web/index.html", http.StatusFound)
}

// webPage serves /web/index.html with a CSP that allows only its own script and style and
// calls to itself and to the sim's public origin.
func (s *Sim) webPage(w http.ResponseWriter, _ *http.Request) {
	connect := "'self'"
	if u, err := url.Parse(s.PublicURL()); err == nil && u.Scheme != "" && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src "+connect+"; base-uri 'none'; form-action 'none'")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(webPage))
}

// webScript serves /web/app.js with the sim's public URL written in.
func (s *Sim) webScript(w http.ResponseWriter, _ *http.Request) {
	base, _ := json.Marshal(s.PublicURL())
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(strings.Replace(webScriptTmpl, "PLEX_TV_JSON", string(base), 1)))
}

func webStyle(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write([]byte(webStyleSheet))
}
