package systemtest_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/hosttest"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// plexToken is frank's kept plex.tv token in the public-site tests.
const plexToken = "frank-plex-account-token-9c1e"

// stolenCookie protects the Plex Web host (with the hand-over) and signs frank in with his
// Plex token kept; it answers his forward-auth cookie, as a sibling app's logs would hold it.
func stolenCookie(t *testing.T, s *stack, plexWeb string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := s.st.PutForwardRule(ctx, store.ForwardRule{Host: plexWeb, Handover: "plex.token"}); err != nil {
		t.Fatal(err)
	}
	done, err := s.st.FinishLogin(ctx, store.User{SourceID: s.src.ID, Subject: "friend-1", Username: "frank", Groups: []string{"plex-friend"},
		Credentials: []store.Credential{{Kind: "plex.token", Value: plexToken}}}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := forwardauth.StartSession(ctx, s.st, done.SessionID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Issue 28 #3 through the real nginx: through host-example's own public server block (as
// docs/forward-auth.md shows it, and the same without its closing location), a stolen
// hx_forward with forged X-Original-URL/-Host and X-Forwarded-Host/-Proto naming the Plex Web
// host gets no token from either bridge path, nor with an absolute request line naming the
// public site while Host names Plex Web; the documented block answers 404 (nginx's own) for
// every proxy-only path and lets the public ones through.
func TestNginxPublicSiteReleasesNothing(t *testing.T) {
	s := newStackOf(t, ssoSource, true)
	plexWeb := "plexweb.example.test:" + s.port
	stolen := stolenCookie(t, s, plexWeb)
	forged := "X-Original-URL: http://" + plexWeb + forwardauth.BridgePath + "\nX-Original-Host: plexweb.example.test\nX-Original-Method: GET\n" +
		"X-Forwarded-Host: " + plexWeb + "\nX-Forwarded-Proto: http\nCookie: hx_forward=" + stolen + "\n"
	ask := func(port, requestLine, host string) (int, string) {
		t.Helper()
		return rawRequest(t, "127.0.0.1:"+port, requestLine+" HTTP/1.1\nHost: "+host+"\nConnection: close\n"+forged+"\n")
	}
	for _, site := range []struct{ name, port string }{{"the documented public site", s.port}, {"the public site without its closing location", s.unclosed}} {
		for _, p := range []string{forwardauth.HandoverNginxPath, forwardauth.HandoverProxyPath} {
			for name, req := range map[string][2]string{
				"Host of the public site": {"GET " + p, "auth.example.test:" + site.port},
				"absolute request line":   {"GET http://auth.example.test:" + site.port + p, plexWeb},
			} {
				code, body := ask(site.port, req[0], req[1])
				if code != http.StatusNotFound || strings.Contains(body, plexToken) {
					t.Errorf("%s, %s, %s: %d, the token handed out: %v", site.name, p, name, code, strings.Contains(body, plexToken))
				}
			}
		}
	}
	// The documented closing location: nginx itself answers 404 for every proxy-only path, and
	// passes the public ones on.
	for _, p := range forwardauth.ProxyOnlyPaths {
		code, body := ask(s.port, "GET "+p, "auth.example.test:"+s.port)
		if code != http.StatusNotFound || !strings.Contains(body, "nginx") {
			t.Errorf("documented public site %s: %d %.100q, want nginx's 404", p, code, body)
		}
	}
	for _, p := range forwardauth.PublicPaths {
		if code, body := ask(s.port, "GET "+p, "auth.example.test:"+s.port); code == http.StatusNotFound || slices.Contains([]int{502, 504}, code) {
			t.Errorf("documented public site %s: %d %.100q, want host-example's answer", p, code, body)
		}
	}
}

// The same through the real Caddy: its public site (Caddy passes Host as the client sent it,
// and chooses the site by it) with the documented closing matcher answers 404 for every
// proxy-only path and lets the public ones through; without the matcher the host's own
// refusal stands: a stolen hx_forward with forged X-Original-* gets no token.
func TestCaddyPublicSiteReleasesNothing(t *testing.T) {
	eachCaddy(t, caddyPublicSiteReleasesNothing)
}

func caddyPublicSiteReleasesNothing(t *testing.T, caddy string) {
	s := newStackOf(t, ssoSource, false)
	data := map[string]string{"Host": s.hostAddr, "Upstream": s.upstream.Listener.Addr().String(), "PublicPort": freePort(t), "UnclosedPort": freePort(t)}
	startCaddyWith(t, caddy, data)
	waitListening(t, "127.0.0.1:"+data["PublicPort"], nil, func() string { return "" })
	plexWeb := "plexweb.example.test:" + s.port
	stolen := stolenCookie(t, s, plexWeb)
	forged := "X-Original-URL: http://" + plexWeb + forwardauth.BridgePath + "\nX-Original-Host: plexweb.example.test\nX-Original-Method: GET\n" +
		"X-Forwarded-Host: " + plexWeb + "\nX-Forwarded-Proto: http\nCookie: hx_forward=" + stolen + "\n"
	ask := func(port, path string) (int, string) {
		t.Helper()
		return rawRequest(t, "127.0.0.1:"+port, "GET "+path+" HTTP/1.1\nHost: auth.example.test:"+port+"\nConnection: close\n"+forged+"\n")
	}
	for _, port := range []string{data["PublicPort"], data["UnclosedPort"]} {
		for _, p := range []string{forwardauth.HandoverNginxPath, forwardauth.HandoverProxyPath} {
			if code, body := ask(port, p); code != http.StatusNotFound || strings.Contains(body, plexToken) {
				t.Errorf("Caddy's public site on %s, %s: %d, the token handed out: %v", port, p, code, strings.Contains(body, plexToken))
			}
		}
	}
	for _, p := range forwardauth.ProxyOnlyPaths {
		// Caddy's respond sends an empty body; host-example's 404 says "404 page not found".
		if code, body := ask(data["PublicPort"], p); code != http.StatusNotFound || body != "" {
			t.Errorf("Caddy's documented public site %s: %d %.100q, want the matcher's 404", p, code, body)
		}
	}
	for _, p := range forwardauth.PublicPaths {
		if code, body := ask(data["PublicPort"], p); code == http.StatusNotFound || slices.Contains([]int{502, 504}, code) {
			t.Errorf("Caddy's documented public site %s: %d %.100q, want host-example's answer", p, code, body)
		}
	}
}

// With -forward-auth-listen, nginx's proxy-only locations ask that listener (the documented
// configuration with its address): forward-auth, its 403 page and the bridge answer there,
// while host-example's public listener answers 404 for every proxy-only path.
func TestNginxThroughTheForwardAuthListener(t *testing.T) {
	s := newStackOf(t, ssoSource, true, hosttest.ProxyListener())
	ctx := context.Background()
	appHost := "app.example.test:" + s.port
	for _, r := range []store.ForwardRule{{Host: appHost}, {Host: appHost, PathPrefix: "/admin", Groups: []string{"plex-owner"}}} {
		if _, err := s.st.PutForwardRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	friend := &http.Cookie{Name: "hx_forward", Value: stolenCookie(t, s, "plexweb.example.test:"+s.port)}
	if code, _, hdr := s.get(s.app+"/shows", nil); code != http.StatusFound || !strings.HasPrefix(hdr.Get("Location"), s.auth+forwardauth.StartPath) {
		t.Errorf("anonymous: %d %q, want the login", code, hdr.Get("Location"))
	}
	if code, body, _ := s.get(s.app+"/shows", nil, friend); code != http.StatusOK || !strings.Contains(body, "user=frank\n") {
		t.Errorf("signed in: %d %.200s", code, body)
	}
	if code, body, _ := s.get(s.app+"/admin/", nil, friend); code != http.StatusForbidden || !strings.Contains(body, `id="denied"`) {
		t.Errorf("outside the groups: %d %.200s, want the 403 page", code, body)
	}
	// The bridge answers there: a browser without a session goes on to the public site.
	if code, _, hdr := s.get("http://plexweb.example.test:"+s.port+forwardauth.BridgePath, nil); code != http.StatusFound ||
		!strings.HasPrefix(hdr.Get("Location"), s.auth+"/") {
		t.Errorf("the bridge through the listener: %d %q, want the way to %s", code, hdr.Get("Location"), s.auth)
	}
	// The public site's pages still work through nginx.
	if code, body, _ := s.get(s.auth+"/login", nil); code != http.StatusOK {
		t.Errorf("the public site's login: %d %.200s", code, body)
	}
	for _, p := range forwardauth.ProxyOnlyPaths {
		resp, err := http.Get(s.host.Server.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("the public listener %s: %d, want 404", p, resp.StatusCode)
		}
	}
}
