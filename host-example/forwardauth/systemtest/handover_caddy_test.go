package systemtest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plexlogin/plexlogin/host-example/browsertest"
	"github.com/plexlogin/plexlogin/host-example/forwardauth"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// siblingFetch is a sibling app's script reading Plex Web's bridge with the browser's
// credentials (the forward-auth cookie goes along: the sites are same-site).
const siblingFetch = `(async () => {
  const out = [];
  for (const u of %s) {
    try { const r = await fetch(u, {credentials: "include"}); out.push(r.status + " " + await r.text()); }
    catch (e) { out.push("failed " + e); }
  }
  return out.join("\n");
})()`

// Issue 28 #1 behind the real Caddy: the friend's own browser opens Plex Web signed in with
// one navigation; a sibling page's fetch with credentials reads no token even though the Plex
// Web site reflects CORS with credentials (the bridge refuses what is not a top-level
// navigation of its own origin); the stolen forward-auth cookie replayed gets no token.
func TestPlexWebHandoverBehindCaddy(t *testing.T) {
	eachCaddy(t, plexWebHandoverBehindCaddy)
}

func plexWebHandoverBehindCaddy(t *testing.T, bin string) {
	s := newStackOf(t, ssoSource, false)
	su, _ := url.Parse(s.simURL)
	caddy := startCaddyWith(t, bin, map[string]string{"Host": s.hostAddr, "Upstream": s.upstream.Listener.Addr().String(),
		"PlexWeb": "127.0.0.1:" + su.Port(), "ReflectCORS": "1"})
	port := strings.TrimPrefix(caddy, "127.0.0.1:")
	web, app := "http://plexweb.example.test:"+port, "http://app.example.test:"+port
	for _, r := range []store.ForwardRule{{Host: "plexweb.example.test:" + port, Handover: "plex.token"}, {Host: "app.example.test:" + port}} {
		if _, err := s.st.PutForwardRule(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	uctx := signInOnTheApp(t, app)
	browsertest.Steps(t, uctx, "open Plex Web", chromedp.Navigate(web+"/"), browsertest.Visible(`body[data-state="ready"]`))
	browsertest.WaitLocation(t, uctx, web+"/web/index.html")
	if who := browsertest.Text(t, uctx, "#who"); who != "signed in as frank" {
		t.Fatalf("Plex Web behind Caddy says %q", who)
	}
	tok, err := s.st.UserCredential(context.Background(), frankID(t, s), "plex.token")
	if err != nil {
		t.Fatal(err)
	}
	stolen := cookieOf(t, uctx, web, "hx_forward")

	urls := `["` + web + forwardauth.BridgePath + `", "` + web + forwardauth.BridgePath + `?rd=%2F&again=1", "` + web + `/web/index.html"]`
	browsertest.Steps(t, uctx, "a sibling page", chromedp.Navigate(app+"/"), browsertest.Visible("#seen"))
	read, err := chromedp.Run(uctx, chromedp.Evaluate[string](strings.Replace(siblingFetch, "%s", urls, 1), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(read, tok.Value) {
		t.Fatalf("a sibling page read the token through the reflecting proxy")
	}
	if !strings.HasPrefix(read, "403 ") {
		t.Fatalf("the page could not read the bridge's answer, so this proves nothing: %.300s", read)
	}

	for name, hdr := range map[string]map[string]string{
		"a plain client":    nil,
		"forged navigation": {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Accept": "text/html"},
	} {
		jar := jarOf(t, port, map[string][]*http.Cookie{"plexweb": {stolen}, "app": {stolen}})
		for _, start := range []string{web + forwardauth.BridgePath + "?again=1", web + "/web/index.html"} {
			if last, body := follow(t, start, hdr, jar); strings.Contains(body, tok.Value) {
				t.Errorf("%s from %s: the token handed over (ended at %s)", name, start, last)
			}
		}
	}
}
