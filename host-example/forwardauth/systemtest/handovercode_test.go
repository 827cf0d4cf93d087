package systemtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// Issue 28 #1: the forward-auth cookie is set on the parent domain, so every app under it
// receives it. With it alone (no code from the public host), the bridge hands nothing over,
// whatever fetch metadata a plain client forges; a code it cannot have is refused.
func TestHandoverStolenForwardCookieGetsNoToken(t *testing.T) {
	f, fa := handoverFixture(t)
	for name, meta := range map[string]http.Header{
		"no fetch metadata":     {},
		"forged navigation":     {"Sec-Fetch-Mode": {"navigate"}, "Sec-Fetch-Dest": {"document"}, "Sec-Fetch-Site": {"same-origin"}},
		"a sibling's CORS call": {"Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Dest": {"empty"}, "Origin": {"http://app.example.test"}},
	} {
		thief := newHandoverBrowser(t, f, fa, f.friend)
		thief.host, thief.noMeta, thief.extra = nil, true, meta // the cookie only: no host session
		for _, q := range []string{"", "?rd=%2Fweb%2Findex.html", "?code=" + strings.Repeat("A", 43), "?code=", "?signout=0"} {
			if w := thief.bridge(q); handedOver(w, secretToken) || strings.Contains(w.Body.String(), secretToken) {
				t.Errorf("%s, bridge%s: %d, the token handed over", name, q, w.Code)
			}
		}
		// Even with the state cookie the first step set, the public host gives it no code.
		first := thief.bridge("?rd=%2F")
		if loc := first.Header().Get("Location"); strings.Contains(loc, forwardauth.HandoverCodePath) {
			if w := thief.public(loc); w.Code == http.StatusSeeOther && strings.Contains(w.Header().Get("Location"), "code=") {
				t.Errorf("%s: the public host minted a code for the cookie alone: %q", name, w.Header().Get("Location"))
			}
		}
	}
	if evs := handoverEvents(t, f); len(evs) != 0 || len(f.counted) != 0 {
		t.Errorf("hand-overs recorded for refusals: %q %q", evs, f.counted)
	}
}

// A code unlocks nothing used twice, late, on another origin, without its state cookie or
// with another browser's; one minted for another person sends the browser through the
// forward-auth sign-in again (Plex Web and forward-auth never name different people).
func TestHandoverCodeRefusals(t *testing.T) {
	f, fa := handoverFixture(t)
	ctx := context.Background()
	if _, err := f.st.PutForwardRule(ctx, store.ForwardRule{Host: "web2.example.test", Handover: webKind.Kind}); err != nil {
		t.Fatal(err)
	}
	// mint runs the first two steps and answers the bridge query the code came back with.
	mint := func(b *handoverBrowser) string {
		t.Helper()
		first := b.bridge("?rd=%2Fweb%2Findex.html")
		return b.codeBack(b.public(first.Header().Get("Location")))
	}
	refused := func(what string, w interface{ Result() *http.Response }, body string) {
		t.Helper()
		if strings.Contains(body, secretToken) || w.Result().StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, handed over %v", what, w.Result().StatusCode, strings.Contains(body, secretToken))
		}
	}
	b := newHandoverBrowser(t, f, fa, f.friend)
	back := mint(b)
	if w := b.bridge(back); !handedOver(w, secretToken) {
		t.Fatalf("the code's first use: %d %s", w.Code, w.Body.String())
	}
	w := b.bridge(back)
	refused("the code used twice", w, w.Body.String())

	b = newHandoverBrowser(t, f, fa, f.friend)
	back = mint(b)
	f.st.SetClock(func() time.Time { return time.Now().Add(store.HandoverCodeLife) })
	w = b.bridge(back)
	refused("a late code", w, w.Body.String())
	f.st.SetClock(time.Now)
	// The refused browser is marked signed out: forward-auth lets its page loads through to
	// the app (signed out), with no detour back to the bridge.
	nav := nginxBridge("http://web.example.test/web/index.html")
	nav.Set("Sec-Fetch-Mode", "navigate")
	nav.Set("Sec-Fetch-Dest", "document")
	if w := serve(fa, forwardauth.NginxPath, nav, &http.Cookie{Name: "hx_forward", Value: b.app["hx_forward"]},
		&http.Cookie{Name: "hx_handover", Value: b.app["hx_handover"]}); w.Code != http.StatusOK {
		t.Errorf("a page load after a refusal: %d %q, want it let through", w.Code, w.Header().Get("Location"))
	}

	b = newHandoverBrowser(t, f, fa, f.friend)
	back = mint(b)
	other := *b
	other.origin = "http://web2.example.test"
	w = other.bridge(back)
	refused("the code on another origin", w, w.Body.String())

	b = newHandoverBrowser(t, f, fa, f.friend)
	back = mint(b)
	delete(b.app, "hx_handover_state")
	w = b.bridge(back)
	refused("without the state cookie", w, w.Body.String())

	b = newHandoverBrowser(t, f, fa, f.friend)
	back = mint(b)
	b.app["hx_handover_state"] = newHandoverBrowser(t, f, fa, f.friend).stateOf(t)
	w = b.bridge(back)
	refused("with another browser's state", w, w.Body.String())

	// A code of the owner's host session, redeemed by a browser whose forward-auth session is
	// the friend's: no token; through the forward-auth sign-in again.
	b = newHandoverBrowser(t, f, fa, f.friend)
	owner := newHandoverBrowser(t, f, fa, f.owner)
	b.host = owner.host
	back = mint(b)
	w = b.bridge(back)
	if loc := w.Header().Get("Location"); w.Code != http.StatusFound || handedOver(w, secretToken) ||
		!strings.HasPrefix(loc, "http://auth.example.test"+forwardauth.StartPath+"?") {
		t.Errorf("a code of another person: %d %q", w.Code, loc)
	}
}

// stateOf is the state cookie a first bridge step gives this browser.
func (b *handoverBrowser) stateOf(t *testing.T) string {
	b.bridge("?rd=%2F")
	if b.app["hx_handover_state"] == "" {
		t.Fatal("no state cookie from the first step")
	}
	return b.app["hx_handover_state"]
}

// Every step refuses what is not a top-level navigation of the app's origin (fetch metadata
// of a fetch or a frame, an Origin of a sibling app: same-site, so only the exact origin
// counts); a browser that sends no fetch metadata is served on the code and the state alone.
func TestHandoverOnlyForTopLevelNavigations(t *testing.T) {
	f, fa := handoverFixture(t)
	for name, h := range map[string]http.Header{
		"a fetch":          {"Sec-Fetch-Mode": {"cors"}},
		"a frame":          {"Sec-Fetch-Dest": {"iframe"}},
		"a sibling origin": {"Origin": {"http://app.example.test"}},
		"an opaque origin": {"Origin": {"null"}},
	} {
		// At the bridge's first step, at the public host, and at the redeeming step (a refusal
		// marks the browser signed out, so each step is another browser's).
		b := newHandoverBrowser(t, f, fa, f.friend)
		b.extra = h
		if w := b.bridge("?rd=%2F"); w.Code != http.StatusForbidden {
			t.Errorf("%s, first step: %d %q", name, w.Code, w.Header().Get("Location"))
		}
		b = newHandoverBrowser(t, f, fa, f.friend)
		first := b.bridge("?rd=%2F")
		b.extra = h
		if w := b.public(first.Header().Get("Location")); w.Code != http.StatusForbidden {
			t.Errorf("%s, at the public host: %d %q", name, w.Code, w.Header().Get("Location"))
		}
		b = newHandoverBrowser(t, f, fa, f.friend)
		first = b.bridge("?rd=%2F")
		back := b.codeBack(b.public(first.Header().Get("Location")))
		b.extra = h
		if w := b.bridge(back); w.Code != http.StatusForbidden || handedOver(w, secretToken) {
			t.Errorf("%s, redeeming: %d", name, w.Code)
		}
	}
	// The app's own origin and the public host's may send Origin.
	b := newHandoverBrowser(t, f, fa, f.friend)
	b.extra = http.Header{"Origin": {"http://web.example.test"}}
	first := b.bridge("?rd=%2F")
	b.extra = http.Header{"Origin": {"http://auth.example.test"}}
	back := b.codeBack(b.public(first.Header().Get("Location")))
	b.extra = http.Header{"Origin": {"http://web.example.test"}}
	if w := b.bridge(back); !handedOver(w, secretToken) {
		t.Errorf("Origin of the app itself: %d", w.Code)
	}
	// No fetch metadata at all (Safari before 16.4): handed over.
	old := newHandoverBrowser(t, f, fa, f.friend)
	old.noMeta = true
	if w, _ := old.handOver("/"); !handedOver(w, secretToken) {
		t.Errorf("a browser without fetch metadata: %d %s", w.Code, w.Body.String())
	}
	if evs := handoverEvents(t, f); len(evs) == 0 || !strings.Contains(evs[0], "navigation=unknown") {
		t.Errorf("the hand-over without fetch metadata is recorded as %q, want navigation=unknown", evs)
	}
}

// The public host mints a code only for an origin whose rule hands over (its own port), a
// well-formed state, and a person signed in there (else the sign-in first, then back), and
// sends it to that origin's bridge only.
func TestHandoverCodeEndpoint(t *testing.T) {
	f, fa := handoverFixture(t)
	b := newHandoverBrowser(t, f, fa, f.friend)
	state := strings.Repeat("s", 43)
	ask := func(origin, st string) string {
		return "http://auth.example.test" + forwardauth.HandoverCodePath + "?" + url.Values{"origin": {origin}, "state": {st}, "rd": {"/"}}.Encode()
	}
	for name, u := range map[string]string{
		"an app without hand-over": ask("http://other.example.test", state),
		"an unknown host":          ask("http://evil.example.test", state),
		"another port of its name": ask("http://web.example.test:8443", state),
		"an origin with a path":    ask("http://web.example.test/x", state),
		"user info":                ask("http://x@web.example.test", state),
		"no state":                 ask("http://web.example.test", ""),
		"a malformed state":        ask("http://web.example.test", strings.Repeat("s", 42)+"."),
	} {
		if w := b.public(u); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %q", name, w.Code, w.Header().Get("Location"))
		}
	}
	if w := b.public(ask("http://WEB.example.test:80", state)); w.Code != http.StatusSeeOther ||
		!strings.HasPrefix(w.Header().Get("Location"), "http://web.example.test"+forwardauth.BridgePath+"?code=") {
		t.Errorf("the app's origin: %d %q", w.Code, w.Header().Get("Location"))
	}
	b.host = nil
	w := b.public(ask("http://web.example.test", state))
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?return=") ||
		!strings.Contains(loc, url.QueryEscape(forwardauth.HandoverCodePath)) {
		t.Errorf("signed out at the public host: %d %q", w.Code, loc)
	}
}

// Behind https the bridge's state cookie is "__Host-" (host-only, Secure, Path /: no sibling
// app can set it for the parent domain), SameSite=Lax and HttpOnly; the public host mints
// codes only for https origins; two state cookies are refused, as two hx_forward are.
func TestHandoverStateCookie(t *testing.T) {
	f, hfa := handoverFixture(t)
	pub, _ := url.Parse("https://auth.example.test")
	fa, err := forwardauth.New(forwardauth.Options{PublicURL: pub, CookieDomain: "example.test", Store: f.st, Sessions: f.sessions, Pages: f.srv, Kinds: kinds{}})
	if err != nil {
		t.Fatal(err)
	}
	b := newHandoverBrowser(t, f, fa, f.friend)
	b.origin = "https://web.example.test"
	b.app["__Secure-hx_forward"] = b.app["hx_forward"]
	delete(b.app, "hx_forward")
	w := b.bridge("?rd=%2F")
	var state *http.Cookie
	for _, c := range w.Result().Cookies() {
		if strings.Contains(c.Name, "hx_handover_state") {
			state = c
		}
	}
	if w.Code != http.StatusFound || state == nil || state.Name != "__Host-hx_handover_state" || !state.Secure || state.Domain != "" ||
		state.Path != "/" || !state.HttpOnly || state.SameSite != http.SameSiteLaxMode {
		t.Fatalf("the state cookie behind https: %d %+v", w.Code, state)
	}
	loc, _ := url.Parse(w.Header().Get("Location"))
	if loc == nil || loc.Query().Get("origin") != "https://web.example.test" || loc.Query().Get("state") == state.Value {
		t.Fatalf("the first step sends %q: the origin, and the state's hash, never the state", w.Header().Get("Location"))
	}
	plain := url.Values{"origin": {"http://web.example.test"}, "state": {loc.Query().Get("state")}}
	if w := b.public("http://auth.example.test" + forwardauth.HandoverCodePath + "?" + plain.Encode()); w.Code != http.StatusBadRequest {
		t.Errorf("an http origin behind an https public URL: %d %q", w.Code, w.Header().Get("Location"))
	}
	// Two state cookies (a sibling's for the parent domain, over http): refused.
	r := httptest.NewRequest("GET", upstream+forwardauth.HandoverNginxPath+"?rd=%2F", nil)
	r.Header = nginxBridge("http://web.example.test" + forwardauth.BridgePath + "?rd=%2F")
	r.Header.Set("Cookie", "hx_forward="+f.forwardToken(f.friend)+"; hx_handover_state="+strings.Repeat("a", 43)+"; hx_handover_state="+strings.Repeat("b", 43))
	w = httptest.NewRecorder()
	hfa.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "more than once") {
		t.Errorf("two state cookies: %d %q", w.Code, w.Header().Get("Location"))
	}
}

// Review of issue 28 (L2): whatever refuses a bridge request carrying a code (no state
// cookie, two of them, another state, fetch metadata of a frame or a fetch, a sibling's or an
// opaque Origin, another app's bridge location, a host without a hand-over rule, a forward-auth
// cookie sent twice), the code is spent by that first presentation: the browser that began
// the hand-over cannot redeem it afterwards, nor can anyone who read it.
func TestHandoverCodeSpentByAnyPresentation(t *testing.T) {
	f, fa := handoverFixture(t)
	if _, err := f.st.PutForwardRule(context.Background(), store.ForwardRule{Host: "web2.example.test", Handover: webKind.Kind}); err != nil {
		t.Fatal(err)
	}
	for name, present := range map[string]func(b *handoverBrowser, back string){
		"no state cookie": func(b *handoverBrowser, back string) {
			other := *b
			other.app = map[string]string{"hx_forward": b.app["hx_forward"]}
			other.bridge(back)
		},
		"two state cookies": func(b *handoverBrowser, back string) {
			other := *b
			other.app = map[string]string{}
			other.extra = http.Header{"Cookie": {"hx_forward=" + b.app["hx_forward"] + "; hx_handover_state=" + b.app["hx_handover_state"] +
				"; hx_handover_state=" + b.app["hx_handover_state"]}}
			other.bridge(back)
		},
		"another state": func(b *handoverBrowser, back string) {
			other := *b
			other.app = map[string]string{"hx_forward": b.app["hx_forward"], "hx_handover_state": strings.Repeat("A", 43)}
			other.bridge(back)
		},
		"a frame": func(b *handoverBrowser, back string) { b.with(http.Header{"Sec-Fetch-Dest": {"iframe"}}).bridge(back) },
		"a fetch": func(b *handoverBrowser, back string) { b.with(http.Header{"Sec-Fetch-Mode": {"cors"}}).bridge(back) },
		"two modes": func(b *handoverBrowser, back string) {
			b.with(http.Header{"Sec-Fetch-Mode": {"navigate", "cors"}}).bridge(back)
		},
		"a sibling origin": func(b *handoverBrowser, back string) {
			b.with(http.Header{"Origin": {"http://app.example.test"}}).bridge(back)
		},
		"an opaque origin": func(b *handoverBrowser, back string) { b.with(http.Header{"Origin": {"null"}}).bridge(back) },
		"another app's bridge (no hand-over rule)": func(b *handoverBrowser, back string) {
			other := *b
			other.origin = "http://other.example.test"
			other.app = map[string]string{"hx_forward": b.app["hx_forward"], "hx_handover_state": b.app["hx_handover_state"]}
			other.bridge(back)
		},
		"another hand-over origin": func(b *handoverBrowser, back string) {
			other := *b
			other.origin = "http://web2.example.test"
			other.app = map[string]string{"hx_forward": b.app["hx_forward"], "hx_handover_state": b.app["hx_handover_state"]}
			other.bridge(back)
		},
		"an unknown host": func(b *handoverBrowser, back string) {
			other := *b
			other.origin = "http://nowhere.example.test"
			other.app = map[string]string{"hx_forward": b.app["hx_forward"], "hx_handover_state": b.app["hx_handover_state"]}
			other.bridge(back)
		},
		"the forward-auth cookie twice": func(b *handoverBrowser, back string) {
			other := *b
			other.app = map[string]string{}
			other.extra = http.Header{"Cookie": {"hx_forward=" + b.app["hx_forward"] + "; hx_forward=" + b.app["hx_forward"] +
				"; hx_handover_state=" + b.app["hx_handover_state"]}}
			other.bridge(back)
		},
		"with the sign-out step": func(b *handoverBrowser, back string) {
			other := *b
			other.app = map[string]string{"hx_forward": b.app["hx_forward"], "hx_handover_state": b.app["hx_handover_state"]}
			other.bridge(back + "&signout=1")
		},
	} {
		b := newHandoverBrowser(t, f, fa, f.friend)
		b.addr = "198.51.100." + strconv.Itoa(len(name)) + ":1234" // the code page's budget is per client
		first := b.bridge("?rd=%2Fweb%2Findex.html")
		back := b.codeBack(b.public(first.Header().Get("Location")))
		present(b, back)
		if w := b.bridge(back); handedOver(w, secretToken) || strings.Contains(w.Body.String(), secretToken) {
			t.Errorf("%s: the code was still redeemed afterwards (%d)", name, w.Code)
		}
	}
	// The same browser, with nothing refused on the way, is handed over (the test can fail).
	b := newHandoverBrowser(t, f, fa, f.friend)
	if w, _ := b.handOver("/web/index.html"); !handedOver(w, secretToken) {
		t.Fatalf("an ordinary hand-over: %d %s", w.Code, w.Body.String())
	}
}

// with is a copy of b that adds h to its requests (its cookies shared).
func (b *handoverBrowser) with(h http.Header) *handoverBrowser {
	other := *b
	other.extra = h
	return &other
}
