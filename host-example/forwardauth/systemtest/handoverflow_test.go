package systemtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// handoverBrowser is a browser as the bridge and the public host see it through the
// documented nginx location: the app origin's cookies (hx_forward among them), the public
// host's session cookie, and fetch metadata of a navigation unless told otherwise.
type handoverBrowser struct {
	t      testing.TB
	fa     *forwardauth.Service
	pub    *forwardauth.Service // answers the public host (nil: fa; another replica's)
	origin string               // the app's origin, http://web.example.test
	app    map[string]string    // cookies sent to the app's origin
	host   *http.Cookie         // the public host's session cookie (nil: signed out there)
	extra  http.Header          // added to every request (forged or missing fetch metadata)
	noMeta bool                 // sends no fetch metadata (an older browser)
	addr   string               // the client's address at the public host ("": httptest's)
}

// newHandoverBrowser is the browser of a person whose forward-auth session and host session
// are uid's.
func newHandoverBrowser(t testing.TB, f *fixture, fa *forwardauth.Service, uid int64) *handoverBrowser {
	b := &handoverBrowser{t: t, fa: fa, origin: "http://web.example.test", app: map[string]string{"hx_forward": f.forwardToken(uid)}}
	tok, _, err := f.st.CreateSession(context.Background(), uid, false, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b.host = &http.Cookie{Name: "hx_session", Value: tok}
	return b
}

// header is a request's header: h, then fetch metadata and the extra headers.
func (b *handoverBrowser) header(h http.Header) http.Header {
	if !b.noMeta {
		h.Set("Sec-Fetch-Mode", "navigate")
		h.Set("Sec-Fetch-Dest", "document")
	}
	for k, vs := range b.extra {
		h[k] = vs
	}
	return h
}

// bridge asks the bridge on the app's origin with query, keeping the cookies it sets.
func (b *handoverBrowser) bridge(query string) *httptest.ResponseRecorder {
	b.t.Helper()
	r := httptest.NewRequest("GET", upstream+forwardauth.HandoverNginxPath+query, nil)
	r.Header = b.header(nginxBridge(b.origin + forwardauth.BridgePath + query))
	for k, v := range b.app {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := httptest.NewRecorder()
	b.fa.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.app, c.Name)
		} else {
			b.app[c.Name] = c.Value
		}
	}
	return w
}

// public follows a redirect to the public host's address loc.
func (b *handoverBrowser) public(loc string) *httptest.ResponseRecorder {
	b.t.Helper()
	u, err := url.Parse(loc)
	if err != nil || u.Host != "auth.example.test" || u.Path != forwardauth.HandoverCodePath {
		b.t.Fatalf("not the public host's hand-over code page: %q", loc)
	}
	r := httptest.NewRequest("GET", loc, nil)
	r.Header = b.header(http.Header{})
	if b.addr != "" {
		r.RemoteAddr = b.addr
	}
	if b.host != nil {
		r.AddCookie(b.host)
	}
	w := httptest.NewRecorder()
	if b.pub != nil {
		b.pub.ServeHTTP(w, r)
	} else {
		b.fa.ServeHTTP(w, r)
	}
	return w
}

// codeBack is the bridge query the public host's answer w sends the browser back with.
func (b *handoverBrowser) codeBack(w *httptest.ResponseRecorder) string {
	b.t.Helper()
	u, err := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || err != nil || b.origin != u.Scheme+"://"+u.Host || u.Path != forwardauth.BridgePath {
		b.t.Fatalf("the public host's answer: %d %q, want a redirect to %s%s", w.Code, w.Header().Get("Location"), b.origin, forwardauth.BridgePath)
	}
	return "?" + u.RawQuery
}

// handOver runs a hand-over from the bridge's first step: it answers the bridge's last
// answer and the query the code came back with.
func (b *handoverBrowser) handOver(rd string) (*httptest.ResponseRecorder, string) {
	b.t.Helper()
	first := b.bridge("?rd=" + url.QueryEscape(rd))
	if first.Code != http.StatusFound {
		b.t.Fatalf("the bridge's first step: %d %s", first.Code, first.Body.String())
	}
	back := b.codeBack(b.public(first.Header().Get("Location")))
	return b.bridge(back), back
}

// handoverEvents are the details of the friend's credential_handed_over events, newest first.
func handoverEvents(t testing.TB, f *fixture) []string {
	evs, err := f.st.UserEvents(context.Background(), f.src.ID, "2", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Kind == store.EventCredentialHandedOver {
			if e.Name != "frank" {
				t.Errorf("hand-over event of %q, want frank", e.Name)
			}
			out = append(out, e.Detail)
		}
	}
	return out
}

// handedOver reports whether an answer wrote the credential.
func handedOver(w *httptest.ResponseRecorder, token string) bool {
	return strings.Contains(w.Body.String(), `localStorage.setItem("upAccessToken","`+token+`")`)
}
