package plexsim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

type resource struct {
	Name             string `json:"name"`
	ClientIdentifier string `json:"clientIdentifier"`
	Provides         string `json:"provides"`
	AccessToken      string `json:"accessToken"`
	Owned            bool   `json:"owned"`
	Home             bool   `json:"home"`
	Connections      []struct {
		URI string `json:"uri"`
	} `json:"connections"`
}

// resourcesOf is the server resources plex.tv lists for token, by machine identifier.
func resourcesOf(t *testing.T, base, token string) map[string]resource {
	t.Helper()
	status, _, body := do(t, base, call{"GET", "/api/v2/resources?includeHttps=1&includeRelay=1",
		map[string]string{"Accept": "application/json", "X-Plex-Client-Identifier": "cid", "X-Plex-Token": token}, nil})
	if status != http.StatusOK {
		t.Fatalf("resources: %d %s", status, body)
	}
	var list []resource
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]resource{}
	for _, r := range list {
		if strings.Contains(r.Provides, "server") {
			out[r.ClientIdentifier] = r
		}
	}
	return out
}

// switchTo is a managed profile's token from the Home switch.
func switchTo(t *testing.T, base, adminToken, uuid, pin string) string {
	t.Helper()
	status, _, body := do(t, base, call{"POST", "/api/v2/home/users/" + uuid + "/switch?pin=" + pin,
		map[string]string{"Accept": "application/json", "X-Plex-Client-Identifier": "cid", "X-Plex-Token": adminToken}, nil})
	var doc struct {
		AuthToken string `json:"authToken"`
	}
	if status != http.StatusCreated || json.Unmarshal([]byte(body), &doc) != nil || doc.AuthToken == "" {
		t.Fatalf("switch: %d %s", status, body)
	}
	return doc.AuthToken
}

// Owned servers carry the owner's own account token; every other user gets a token of his
// own per server, the same in every answer that shows it.
func TestAccessTokensPerUserAndServer(t *testing.T) {
	sim, base := plexsim.Serve(t, plexsim.DefaultWorld())
	owner := sim.Token("owner")
	kid := switchTo(t, base, owner, "60718293a4b5c6d7", "1234")
	accounts := map[string]string{"owner": owner, "friend": sim.Token("friend"), "otherhome": sim.Token("otherhome"),
		"google": sim.Token("google"), "homemember": sim.Token("homemember"), "kid": kid}
	seen := map[string]string{} // token → user@server (an owner's is the same on all his servers)
	for user, tok := range accounts {
		res := resourcesOf(t, base, tok)
		if len(res) == 0 {
			t.Fatalf("%s sees no server", user)
		}
		again := resourcesOf(t, base, tok)
		for mid, r := range res {
			where := user + "@" + r.Name
			if r.Owned != (r.AccessToken == tok) {
				t.Errorf("%s: owned=%v but accessToken is the account token: %v", where, r.Owned, r.AccessToken == tok)
			}
			if !r.Owned && r.AccessToken != sim.ServerToken(user, mid) {
				t.Errorf("%s: accessToken is not the user's server token", where)
			}
			if again[mid].AccessToken != r.AccessToken {
				t.Errorf("%s: accessToken changed between answers", where)
			}
			if prev, dup := seen[r.AccessToken]; dup && !r.Owned {
				t.Errorf("%s and %s have the same accessToken", prev, where)
			}
			seen[r.AccessToken] = where
			if len(r.Connections) != 1 || r.Connections[0].URI != sim.PMSURL(mid) || !strings.HasPrefix(r.Connections[0].URI, base+plexsim.PMSPrefix) {
				t.Errorf("%s: connections %+v, want the simulated server at %s", where, r.Connections, sim.PMSURL(mid))
			}
		}
	}
	if _, ok := resourcesOf(t, base, kid)[plexsim.ServerLivingRoom]; !ok || !resourcesOf(t, base, kid)[plexsim.ServerLivingRoom].Home {
		t.Error("a managed profile does not see its Home's server as home")
	}
	// The legacy XML list and the owner's shared_servers show the same tokens.
	friendLR := sim.ServerToken("friend", plexsim.ServerLivingRoom)
	_, _, body := do(t, base, call{"GET", "/api/resources", map[string]string{"X-Plex-Token": accounts["friend"]}, nil})
	if !strings.Contains(body, `accessToken="`+friendLR+`"`) || !strings.Contains(body, `uri="`+sim.PMSURL(plexsim.ServerLivingRoom)+`"`) {
		t.Errorf("legacy resources lack the friend's token or the server's address: %s", body)
	}
	_, _, body = do(t, base, call{"GET", "/api/resources", map[string]string{"X-Plex-Token": owner}, nil})
	if !strings.Contains(body, `accessToken="`+owner+`"`) {
		t.Errorf("legacy resources do not give the owner his own token: %s", body)
	}
	_, _, body = do(t, base, call{"GET", "/api/servers/" + plexsim.ServerLivingRoom + "/shared_servers", map[string]string{"X-Plex-Token": owner}, nil})
	if !strings.Contains(body, `accessToken="`+friendLR+`"`) || !strings.Contains(body, `title="Music" type="artist" shared="0"`) {
		t.Errorf("shared_servers lacks the friend's token or his share's libraries: %s", body)
	}
	if strings.Contains(body, `accessToken="`+accounts["friend"]+`"`) {
		t.Error("shared_servers shows a friend's account token")
	}
	for _, s := range []string{friendLR, owner} {
		found := false
		for _, secret := range sim.Secrets() {
			found = found || secret == s
		}
		if !found {
			t.Errorf("Secrets lacks a token handed out")
		}
	}
	// Without a public URL the sim keeps plex.tv's plex.direct addresses.
	bare := plexsim.NewDefault()
	if bare.PMSURL(plexsim.ServerCabin) != "" {
		t.Error("PMSURL without a public URL")
	}
}

func sectionsAt(t *testing.T, base, mid, token string, viaQuery bool) (int, string) {
	t.Helper()
	path := plexsim.PMSPrefix + mid + "/library/sections"
	h := map[string]string{"Accept": "application/json"}
	if viaQuery {
		path += "?X-Plex-Token=" + url.QueryEscape(token)
	} else if token != "" {
		h["X-Plex-Token"] = token
	}
	status, _, body := do(t, base, call{"GET", path, h, nil})
	return status, body
}

func titles(t *testing.T, body string) []string {
	t.Helper()
	var doc struct {
		MediaContainer struct {
			Size      int `json:"size"`
			Directory []struct {
				Key, Title, Type string
			} `json:"Directory"`
		} `json:"MediaContainer"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("sections: %v %s", err, body)
	}
	var out []string
	for _, d := range doc.MediaContainer.Directory {
		if d.Key == "" || d.Type == "" {
			t.Errorf("section without key or type: %+v", d)
		}
		out = append(out, d.Title)
	}
	if doc.MediaContainer.Size != len(out) {
		t.Errorf("size %d for %d sections", doc.MediaContainer.Size, len(out))
	}
	return out
}

// A simulated server takes its owner's token, his Home's, and the per-server token of a
// user it is shared with, showing that user only what is shared; nothing else.
func TestPMSTokenRules(t *testing.T) {
	world := plexsim.DefaultWorld()
	sim, base := plexsim.Serve(t, world)
	owner, friend := sim.Token("owner"), sim.Token("friend")
	kid := switchTo(t, base, owner, "60718293a4b5c6d7", "1234")
	friendLR := resourcesOf(t, base, friend)[plexsim.ServerLivingRoom].AccessToken
	hankCabin := resourcesOf(t, base, sim.Token("otherhome"))[plexsim.ServerCabin].AccessToken
	kidLR := resourcesOf(t, base, kid)[plexsim.ServerLivingRoom].AccessToken
	var lr, friendShare []string
	for _, srv := range world.Servers {
		if srv.MachineID == plexsim.ServerLivingRoom {
			for _, sec := range plexsim.DefaultSections() {
				lr = append(lr, sec.Title)
			}
		}
	}
	for _, sh := range world.Shares {
		if sh.User == "friend" && sh.MachineID == plexsim.ServerLivingRoom {
			friendShare = sh.Sections
		}
	}
	if len(friendShare) == 0 || len(friendShare) >= len(lr) {
		t.Fatalf("the default world should share a subset of Living Room with friend: %v of %v", friendShare, lr)
	}
	cases := []struct {
		name     string
		mid, tok string
		query    bool
		want     []string // nil: 401
	}{
		{"owner's account token", plexsim.ServerLivingRoom, owner, false, lr},
		{"owner's account token in the query", plexsim.ServerCabin, owner, true, lr},
		{"friend's account token", plexsim.ServerLivingRoom, friend, false, nil},
		{"friend's server token", plexsim.ServerLivingRoom, friendLR, false, friendShare},
		{"friend's server token in the query", plexsim.ServerLivingRoom, friendLR, true, friendShare},
		{"friend's token on a server not shared with him", plexsim.ServerCabin, friendLR, false, nil},
		{"friend's token on another owner's server", plexsim.ServerElsewhere, friendLR, false, nil},
		{"a share's token on its server", plexsim.ServerCabin, hankCabin, false, lr},
		{"managed profile's switched token", plexsim.ServerLivingRoom, kid, false, lr},
		{"managed profile's server token", plexsim.ServerLivingRoom, kidLR, false, lr},
		{"managed profile's token elsewhere", plexsim.ServerElsewhere, kid, false, nil},
		{"pending share", plexsim.ServerLivingRoom, sim.ServerToken("pending", plexsim.ServerLivingRoom), false, nil},
		{"revoked account's server token", plexsim.ServerLivingRoom, sim.ServerToken("revoked", plexsim.ServerLivingRoom), false, nil},
		{"no token", plexsim.ServerLivingRoom, "", false, nil},
		{"made-up token", plexsim.ServerLivingRoom, friendLR[:len(friendLR)-1] + map[bool]string{true: "y", false: "x"}[strings.HasSuffix(friendLR, "x")], false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := sectionsAt(t, base, tc.mid, tc.tok, tc.query)
			if tc.want == nil {
				if status != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", status, body)
				}
				return
			}
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			if got := titles(t, body); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("sections %v, want %v", got, tc.want)
			}
		})
	}
	// XML by default, with python-plexapi's <Directory key type title>.
	status, _, body := do(t, base, call{"GET", plexsim.PMSPrefix + plexsim.ServerLivingRoom + "/library/sections", map[string]string{"X-Plex-Token": friendLR}, nil})
	if status != http.StatusOK || !strings.Contains(body, `<MediaContainer size="2"`) || !strings.Contains(body, `key="1" type="movie" title="Films"`) {
		t.Errorf("sections XML: %d %s", status, body)
	}
	// Unsharing ends the server token; signing out ends the account token at plex.tv and the server.
	sim.SetShare("friend", plexsim.ServerLivingRoom, false)
	if status, _ := sectionsAt(t, base, plexsim.ServerLivingRoom, friendLR, false); status != http.StatusUnauthorized {
		t.Errorf("unshared: %d", status)
	}
	h := map[string]string{"Accept": "application/json", "X-Plex-Client-Identifier": "cid", "X-Plex-Token": owner}
	if status, _, _ := do(t, base, call{"DELETE", "/api/v2/users/signout", h, nil}); status != http.StatusNoContent {
		t.Fatalf("signout %d", status)
	}
	if status, _, _ := do(t, base, call{"GET", "/api/v2/user", h, nil}); status != http.StatusUnauthorized {
		t.Errorf("plex.tv after signout: %d", status)
	}
	if status, _ := sectionsAt(t, base, plexsim.ServerLivingRoom, owner, false); status != http.StatusUnauthorized {
		t.Errorf("server after signout: %d", status)
	}
}

// /identity answers without a token, XML or JSON; an unknown server is 404.
func TestPMSIdentity(t *testing.T) {
	_, base := plexsim.Serve(t, plexsim.DefaultWorld())
	status, hdr, body := do(t, base, call{"GET", plexsim.PMSPrefix + plexsim.ServerCabin + "/identity", nil, nil})
	if status != http.StatusOK || !strings.Contains(hdr.Get("Content-Type"), "xml") ||
		!strings.Contains(body, `<MediaContainer size="0" claimed="1" machineIdentifier="`+plexsim.ServerCabin+`" version="`) {
		t.Fatalf("identity XML: %d %s", status, body)
	}
	status, _, body = do(t, base, call{"GET", plexsim.PMSPrefix + plexsim.ServerCabin + "/identity", map[string]string{"Accept": "application/json"}, nil})
	var doc struct {
		MediaContainer struct {
			Claimed           bool   `json:"claimed"`
			MachineIdentifier string `json:"machineIdentifier"`
			Version           string `json:"version"`
		} `json:"MediaContainer"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil || !doc.MediaContainer.Claimed ||
		doc.MediaContainer.MachineIdentifier != plexsim.ServerCabin || doc.MediaContainer.Version == "" {
		t.Fatalf("identity JSON: %d %s", status, body)
	}
	if status, _, _ := do(t, base, call{"GET", plexsim.PMSPrefix + "nosuchserver/identity", nil, nil}); status != http.StatusNotFound {
		t.Fatalf("unknown server: %d", status)
	}
}

// Browsers of another origin may call plex.tv and the servers: preflights are answered
// for every X-Plex-* header, and answers carry Access-Control-Allow-Origin.
func TestCORS(t *testing.T) {
	sim, base := plexsim.Serve(t, plexsim.DefaultWorld())
	asked := "accept, x-plex-token, x-plex-client-identifier, x-plex-product, x-plex-something-new"
	for _, path := range []string{"/api/v2/user", "/api/v2/resources?includeHttps=1", plexsim.PMSPrefix + plexsim.ServerLivingRoom + "/library/sections"} {
		status, hdr, _ := do(t, base, call{"OPTIONS", path, map[string]string{"Origin": "http://plexweb.example.test",
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": asked}, nil})
		if status != http.StatusNoContent || hdr.Get("Access-Control-Allow-Origin") == "" || !strings.Contains(hdr.Get("Access-Control-Allow-Methods"), "GET") {
			t.Fatalf("preflight %s: %d %v", path, status, hdr)
		}
		allowed := strings.ToLower(hdr.Get("Access-Control-Allow-Headers"))
		for _, h := range strings.Split(asked, ", ") {
			if !strings.Contains(allowed, h) {
				t.Errorf("preflight %s does not allow %s: %s", path, h, allowed)
			}
		}
	}
	status, hdr, _ := do(t, base, call{"GET", "/api/v2/user", map[string]string{"Origin": "http://plexweb.example.test",
		"Accept": "application/json", "X-Plex-Token": sim.Token("friend")}, nil})
	if status != http.StatusOK || hdr.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("GET with an Origin: %d %v", status, hdr)
	}
	if _, hdr, _ := do(t, base, call{"GET", "/__sim/counts", map[string]string{"Origin": "http://plexweb.example.test"}, nil}); hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Error("the simulator's own controls answer other origins")
	}
}

// The simulated Plex Web is an HTML page and a separate script that calls plex.tv at the
// sim's public URL.
func TestPlexWebServed(t *testing.T) {
	_, base := plexsim.Serve(t, plexsim.DefaultWorld())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/web", "/web/"} {
		resp, err := client.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/web/index.html" {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	status, hdr, page := do(t, base, call{"GET", "/web/index.html", nil, nil})
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", status, hdr.Get("Content-Type"))
	}
	for _, w := range []string{`id="who"`, `id="sections"`, `<script src="app.js"`} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %s", w)
		}
	}
	if strings.Contains(page, "<script>") || !strings.Contains(hdr.Get("Content-Security-Policy"), "connect-src 'self' "+base) {
		t.Errorf("page has inline script or a CSP without the sim's origin: %s", hdr.Get("Content-Security-Policy"))
	}
	status, hdr, js := do(t, base, call{"GET", "/web/app.js", nil, nil})
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/javascript") {
		t.Fatalf("app.js: %d %s", status, hdr.Get("Content-Type"))
	}
	for _, w := range []string{`"` + base + `"`, "localStorage.getItem('myPlexAccessToken')", "'Sign in'", "'X-Plex-Product': 'Plex Web'",
		"/api/v2/resources?includeHttps=1&includeRelay=1", "/library/sections"} {
		if !strings.Contains(js, w) {
			t.Errorf("app.js lacks %s", w)
		}
	}
}
