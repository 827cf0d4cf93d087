package plexsim

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"
)

var authTmpl = template.Must(template.New("auth").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Plex (simulated)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#1f1f1f;color:#eee;display:flex;justify-content:center;padding:3em 1em}
main{max-width:32em;width:100%}h1{color:#e5a00d}button{display:block;width:100%;margin:.4em 0;padding:.8em;border:0;border-radius:4px;
background:#e5a00d;color:#1f1f1f;font-size:1em;text-align:left;cursor:pointer}button small{display:block;color:#333}
#cancel{background:#444;color:#eee}#msg{color:#f88}
</style></head>
<body><main>
<h1>Plex <small>(simulated)</small></h1>
<p id="app">An app wants to sign in with your Plex account.</p>
<p>Sign in as:</p>
{{range .}}<button class="persona" data-persona="{{.Key}}">{{.Title}} <small>{{.Label}}</small></button>
{{end}}<button id="cancel">Cancel</button>
<p id="msg"></p>
</main>
<script>
const params = new URLSearchParams(location.hash.replace(/^#!?\??/, ''));
const code = params.get('code'), fwd = params.get('forwardUrl'), product = params.get('context[device][product]');
if (product) document.getElementById('app').textContent = product + ' wants to sign in with your Plex account.';
if (!code) document.getElementById('msg').textContent = 'No PIN code in this link.';
for (const b of document.querySelectorAll('button.persona')) {
  b.addEventListener('click', async () => {
    const r = await fetch('/__sim/claim', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({code: code, persona: b.dataset.persona})});
    if (!r.ok) { document.getElementById('msg').textContent = await r.text(); return; }
    if (fwd) location.href = fwd; else document.getElementById('msg').textContent = 'Approved. You can close this page.';
  });
}
document.getElementById('cancel').addEventListener('click', () => { if (fwd) location.href = fwd; });
</script>
</body></html>`))

// authPage is app.plex.tv/auth: pick a persona and approve; it claims the PIN and follows forwardUrl.
func (s *Sim) authPage(w http.ResponseWriter, r *http.Request) {
	var ps []Persona
	for _, p := range s.world.Personas {
		if !p.Managed {
			ps = append(ps, p)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Like the real auth app, refuse to be framed.
	w.Header().Set("X-Frame-Options", "DENY")
	_ = authTmpl.Execute(w, ps)
}

// claimHTTP is POST /__sim/claim {code | auth_url, persona} → {"forwardUrl": …}.
func (s *Sim) claimHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code    string `json:"code"`
		AuthURL string `json:"auth_url"`
		Persona string `json:"persona"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	var fwd string
	if in.AuthURL != "" {
		code, f, err := ForwardURL(in.AuthURL)
		if err != nil {
			http.Error(w, "bad auth_url", http.StatusBadRequest)
			return
		}
		in.Code, fwd = code, f
	}
	if err := s.Claim(in.Code, in.Persona); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"forwardUrl": fwd})
}

// faultsHTTP is POST /__sim/faults {endpoint, mode, count}; count 0 clears.
func (s *Sim) faultsHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Endpoint string `json:"endpoint"`
		Mode     string `json:"mode"`
		Count    int    `json:"count"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.Endpoint == "" {
		http.Error(w, "want {endpoint, mode, count}", http.StatusBadRequest)
		return
	}
	s.Inject(in.Endpoint, in.Mode, in.Count)
	w.WriteHeader(http.StatusNoContent)
}

// latencyHTTP is POST /__sim/latency {ms}.
func (s *Sim) latencyHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MS int `json:"ms"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		http.Error(w, "want {ms}", http.StatusBadRequest)
		return
	}
	s.SetLatency(time.Duration(in.MS) * time.Millisecond)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) countsHTTP(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Counts())
}

func (s *Sim) resetHTTP(w http.ResponseWriter, _ *http.Request) {
	s.ResetCounts()
	s.ClearFaults()
	s.SetLatency(0)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) personasHTTP(w http.ResponseWriter, _ *http.Request) {
	type row struct {
		Key, Label, Username, Title string
		ID                          int64
		Managed                     bool
	}
	var out []row
	for _, p := range s.world.Personas {
		out = append(out, row{p.Key, p.Label, p.Username, p.Title, p.ID, p.Managed})
	}
	writeJSON(w, http.StatusOK, out)
}
