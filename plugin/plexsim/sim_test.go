package plexsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/plugin/plextv"
)

type call struct {
	method, path string
	header       map[string]string
	form         url.Values
}

func do(t *testing.T, base string, c call) (int, http.Header, string) {
	t.Helper()
	var body io.Reader
	if c.form != nil {
		body = strings.NewReader(c.form.Encode())
	}
	req, _ := http.NewRequest(c.method, base+c.path, body)
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// The simulator answers with plex.tv's status codes, formats and envelopes (plex-api.md §13).
func TestEndpointsAsPlexTV(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	owner, kidUUID := sim.Token("owner"), "60718293a4b5c6d7"
	json1 := map[string]string{"Accept": "application/json", "X-Plex-Client-Identifier": "cid", "X-Plex-Token": owner}
	xml1 := map[string]string{"X-Plex-Client-Identifier": "cid", "X-Plex-Token": owner}
	cases := []struct {
		name   string
		c      call
		status int
		want   []string
	}{
		{"pin without client id", call{"POST", "/api/v2/pins?strong=true", map[string]string{"Accept": "application/json"}, nil}, 400, []string{`"code":1000`}},
		{"pin from the query string", call{"POST", "/api/v2/pins.json?strong=true&X-Plex-Client-Identifier=q", nil, nil}, 201, []string{`"clientIdentifier":"q"`, `"expiresIn":1800`}},
		{"pin from the form body", call{"POST", "/api/v2/pins", map[string]string{"Accept": "application/json"}, url.Values{"X-Plex-Client-Identifier": {"f"}, "strong": {"true"}}}, 201, []string{`"clientIdentifier":"f"`}},
		{"pin as XML", call{"POST", "/api/v2/pins", map[string]string{"X-Plex-Client-Identifier": "x"}, nil}, 201, []string{`<pin id="`, `expiresIn="900"`}},
		{"user, bad token", call{"GET", "/api/v2/user", map[string]string{"Accept": "application/json", "X-Plex-Token": "nope"}, nil}, 401, []string{`"code":1001`}},
		{"resources as XML", call{"GET", "/api/v2/resources", xml1, nil}, 200, []string{`<resource name="Living Room"`, `provides="server"`, `<connection protocol="https"`}},
		{"legacy resources", call{"GET", "/api/resources", json1, nil}, 200, []string{`<Device name="Cabin"`, `owned="1"`, `provides="client,player,pubsub-player"`}},
		{"legacy account XML", call{"GET", "/users/account", xml1, nil}, 200, []string{`<user email="owner@example.com"`, `<authentication-token>`}},
		{"home users v2", call{"GET", "/api/v2/home/users", json1, nil}, 200, []string{`"username":null`, `"restrictionProfile":"little_kid"`}},
		{"home users XML", call{"GET", "/api/home/users", json1, nil}, 200, []string{`admin="1"`, `username=""`}},
		{"friends are gone", call{"GET", "/api/v2/friends", json1, nil}, 410, nil},
		{"switch with a wrong PIN", call{"POST", "/api/v2/home/users/" + kidUUID + "/switch?pin=0000", json1, nil}, 403, []string{`"code":1041`}},
		{"switch", call{"POST", "/api/v2/home/users/" + kidUUID + "/switch?pin=1234", json1, nil}, 201, []string{`"username":""`, `"restricted":true`}},
		{"ping", call{"GET", "/api/v2/ping", json1, nil}, 200, []string{`"pong":true`}},
		{"legacy sign-in", call{"POST", "/users/sign_in.json", map[string]string{"X-Plex-Client-Identifier": "c"}, url.Values{"user[login]": {"frank"}, "user[password]": {"frank-pass"}}}, 201, []string{`"user":{`, `"authentication_token":"sim`}},
		{"app page lists personas with credentials", call{"GET", "/auth", nil, nil}, 200, []string{`data-persona="friend"`}},
		{"another host name serves the same API", call{"GET", "/api/v2/user", map[string]string{"Accept": "application/json", "X-Plex-Token": owner, "Host": "clients.plex.tv"}, nil}, 200, []string{`"username":"owner"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, srv.URL, tc.c)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %s: %.300s", w, body)
				}
			}
		})
	}
	if _, _, body := do(t, srv.URL, call{"GET", "/auth", nil, nil}); strings.Contains(body, `data-persona="kid"`) {
		t.Error("a managed profile is offered on the app page")
	}
}

func TestLegacyAccountDecodesAndSignoutRevokes(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	tok := sim.Token("friend")
	h := map[string]string{"Accept": "application/json", "X-Plex-Token": tok}
	_, _, body := do(t, srv.URL, call{"GET", "/users/account.json", h, nil})
	u, err := plextv.DecodeUser([]byte(body))
	if err != nil || u.ID != 2001 {
		t.Fatalf("account.json: %v %s", err, body)
	}
	raw, _ := json.Marshal(u.Raw)
	if strings.Contains(string(raw), tok) {
		t.Fatal("authentication_token survived stripping")
	}
	if status, _, _ := do(t, srv.URL, call{"DELETE", "/api/v2/users/signout", h, nil}); status != 204 {
		t.Fatalf("signout %d", status)
	}
	if status, _, _ := do(t, srv.URL, call{"GET", "/api/v2/user", h, nil}); status != 401 {
		t.Fatalf("token works after signout: %d", status)
	}
}

func TestPINLinkClaims(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, _ := plextv.New(plextv.Identity{ClientID: "linker-0001", Product: "T"}, plextv.Options{BaseURL: srv.URL})
	pin, err := c.CreatePIN(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	status, _, _ := do(t, srv.URL, call{"PUT", "/api/v2/pins/link", map[string]string{"X-Plex-Token": sim.Token("friend")}, url.Values{"code": {string(pin.Code)}}})
	if status != 204 {
		t.Fatalf("link %d", status)
	}
	got, err := c.CheckPIN(t.Context(), int64(pin.ID))
	if err != nil || got.Token() == "" {
		t.Fatalf("not claimed: %+v %v", got, err)
	}
}

func TestLegacyFriendsMode(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	h := map[string]string{"Accept": "application/json", "X-Plex-Token": sim.Token("owner")}
	if status, _, _ := do(t, srv.URL, call{"GET", "/api/v2/friends", h, nil}); status != 410 {
		t.Fatalf("default: %d, want 410", status)
	}
	sim.SetLegacyFriends(true)
	status, _, body := do(t, srv.URL, call{"GET", "/api/v2/friends", h, nil})
	friends, err := plextv.DecodeFriends([]byte(body))
	if status != 200 || err != nil || len(friends) != 1 || friends[0].Username != "nora" {
		t.Fatalf("legacy mode: %d %v %s", status, err, body)
	}
}

// The Home list's avatars point at the sim itself once its public URL is known, and it serves them.
func TestAvatarsServed(t *testing.T) {
	sim, base := plexsim.Serve(t, plexsim.DefaultWorld())
	req, _ := http.NewRequest("GET", base+"/api/home/users", nil)
	req.Header.Set("X-Plex-Token", sim.Token("owner"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := base + "/users/60718293a4b5c6d7/avatar"
	if !strings.Contains(string(body), `thumb="`+want+`"`) {
		t.Fatalf("home users: %s", body)
	}
	resp, err = http.Get(want)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(svg), ">K</text>") {
		t.Fatalf("avatar: %d %s", resp.StatusCode, svg)
	}
	if resp, err := http.Get(base + "/users/nobody/avatar"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown avatar: %v", resp)
	}
}
