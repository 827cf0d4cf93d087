package systemtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Issue 17 #3 and #2 through the real nginx, the app's server being the default one of its
// socket: a Host with "#" or "?" reaches it, and X-Original-URL ($scheme://$http_host$request_uri)
// then names the host with the real path behind it; an absolute request line makes nginx
// choose the server by one host while $http_host names another protected app.
func TestNginxOddHostAndAbsoluteForm(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	appHost := "app.example.test:" + s.port
	for _, r := range []store.ForwardRule{
		{Host: appHost},
		{Host: appHost, PathPrefix: "/admin", Groups: []string{"plex-owner"}},
		{Host: appHost, PathPrefix: "/api", Bypass: []string{"/api/hooks"}},
		{Host: "lenient.example.test:" + s.port},
	} {
		if errs := forwardauth.CheckRule(&r); len(errs) > 0 {
			t.Fatal(errs)
		}
		if _, err := s.st.PutForwardRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	session := func(sub, username string, groups ...string) (string, *store.User) {
		done, err := s.st.FinishLogin(ctx, store.User{SourceID: s.src.ID, Subject: sub, Username: username, Groups: groups},
			store.Event{Kind: "login_allowed"}, "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := forwardauth.StartSession(ctx, s.st, done.SessionID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.st.User(ctx, done.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return tok, u
	}
	friend, _ := session("friend-1", "frank", "plex-friend")
	owner, ownerUser := session("owner-1", "olivia", "plex-owner")
	addr := "127.0.0.1:" + s.port
	ask := func(requestLine, host, token string, extra ...string) (int, string) {
		t.Helper()
		req := requestLine + " HTTP/1.1\nHost: " + host + "\nConnection: close\n"
		if token != "" {
			req += "Cookie: hx_forward=" + token + "\n"
		}
		for _, h := range extra {
			req += h + "\n"
		}
		return rawRequest(t, addr, req+"\n")
	}
	for _, c := range []struct {
		name, line, host, token string
		extra                   []string
		want                    int
	}{
		{"friend on /admin", "GET /admin/settings", appHost, friend, nil, http.StatusForbidden},
		{"friend elsewhere", "GET /shows", appHost, friend, nil, http.StatusOK},
		{"# after the host", "GET /admin/settings", appHost + "#", friend, nil, http.StatusForbidden},
		{"? after the host", "GET /admin/settings", appHost + "?", friend, nil, http.StatusForbidden},
		{"a second port", "GET /admin/settings", appHost + ":1", friend, nil, http.StatusForbidden},
		{"absolute form naming another app in Host", "GET http://" + appHost + "/admin/settings", "lenient.example.test:" + s.port, friend, nil,
			http.StatusForbidden},
		{"forged X-Original-*", "GET /admin/settings", appHost, friend,
			[]string{"X-Original-URL: http://" + appHost + "/shows", "X-Original-Method: OPTIONS", "X-Original-Host: app.example.test"}, http.StatusForbidden},
		{"..; to a bypass", "POST /admin/..;/api/hooks", appHost, "", []string{"Content-Length: 0"}, http.StatusForbidden},
		{"%2e%2e to a bypass", "POST /admin/%2e%2e/api/hooks", appHost, "", []string{"Content-Length: 0"}, http.StatusForbidden},
		{"upper case", "GET /ADMIN/", appHost, friend, nil, http.StatusForbidden},
		{"trailing dot", "GET /admin./", appHost, friend, nil, http.StatusForbidden},
		{"jsessionid", "GET /login.view;jsessionid=X", appHost, friend, nil, http.StatusOK},
		{"bypass", "POST /api/hooks/sonarr", appHost, "", []string{"Content-Length: 0"}, http.StatusOK},
		// The 401's Location carries the return address: a long one overflowed nginx's 4 KiB
		// buffer (a 500); it now returns to the app's front page.
		{"a long link, anonymous", "GET /shows/" + strings.Repeat("a", 5000), appHost, "", nil, http.StatusFound},
		// ı (U+0131): .NET's and Java's case-insensitive comparisons read /admın as /admin.
		{"dotless i", "GET /adm%C4%B1n/", appHost, friend, nil, http.StatusForbidden},
	} {
		code, body := ask(c.line, c.host, c.token, c.extra...)
		if code != c.want {
			t.Errorf("%s (%s, Host %s): %d, want %d; %.300s", c.name, c.line, c.host, code, c.want, body)
		}
	}
	// The app never receives the forward-auth cookie (it could replay it at the other apps);
	// its own cookies pass, before and after it.
	for _, cookies := range []string{"app_session=1; hx_forward=" + friend + "; theme=dark", "hx_forward=" + friend + "; app_session=1; theme=dark",
		"app_session=1; theme=dark; hx_forward=" + friend} {
		code, body := rawRequest(t, addr, "GET /shows HTTP/1.1\nHost: "+appHost+"\nConnection: close\nCookie: "+cookies+"\n\n")
		if code != http.StatusOK || strings.Contains(body, "hx_forward") || !strings.Contains(body, "app_session=1") || !strings.Contains(body, "theme=dark") {
			t.Errorf("cookies %q reach the app as: %d %s", cookies, code, body)
		}
	}
	// A second forward-auth cookie (an app under the cookie domain can set one) would leave the
	// real one in what the app receives, since the proxy strips one: refused, and the app never asked.
	for _, cookies := range []string{"hx_forward=" + friend + "; hx_forward=x", "hx_forward=x; hx_forward=" + friend,
		"hx_forward=" + friend + "; __Secure-hx_forward=x", "sid=1; hx_forward=x; __Secure-hx_forward=" + friend + "; theme=dark"} {
		code, body := rawRequest(t, addr, "GET /shows HTTP/1.1\nHost: "+appHost+"\nConnection: close\nCookie: "+cookies+"\n\n")
		if code != http.StatusForbidden || strings.Contains(body, friend) || !strings.Contains(body, "more than once") {
			t.Errorf("cookies %q: %d %.300s, want 403 saying the cookie came twice", cookies, code, body)
		}
	}
	code, body := ask("GET /admin/settings", appHost, owner)
	if code != http.StatusOK || !strings.Contains(body, "user=olivia\n") || !strings.Contains(body, "id="+ownerUser.PublicID+"\n") {
		t.Errorf("owner on /admin: %d %s, want Remote-Id %s", code, body, ownerUser.PublicID)
	}
	// The app is told the host nginx chose ($host, the one judged), the scheme and the peer's
	// address, never what a client wrote in X-Forwarded-*.
	code, body = ask("GET /shows", appHost, friend, "X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https")
	if code != http.StatusOK || !strings.Contains(body, "\nhost=app.example.test\n") || !strings.Contains(body, "proto=http\n") ||
		!strings.Contains(body, "forwarded-for=127.0.0.1\n") || strings.Contains(body, "203.0.113.7") {
		t.Errorf("what the app is told of the request: %d %s", code, body)
	}
}
