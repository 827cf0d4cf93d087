package forwardauth

import (
	"bufio"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

var rules = Rules{
	{ID: "app", Host: "app.example.test"},
	{ID: "admin", Host: "app.example.test", PathPrefix: "/admin", Groups: []string{"plex-owner"}},
	{ID: "api", Host: "app.example.test", PathPrefix: "/api", Bypass: []string{"/api/v1/webhook"}, BypassOptions: true},
	{ID: "other", Host: "other.example.test:8443"},
	{ID: "mq", Host: "mq.example.test", AllowEncodedSlash: true},
}

// judge is the rules a request must pass, as "admin,app"; "anonymous" when it passes without
// a login; "refused" when it is refused outright.
func judge(host, method, raw string) string {
	p, err := ParsePath(raw)
	if err != nil {
		return "refused"
	}
	need, ok := rules.Judge(host, method, p)
	if !ok {
		return "refused"
	}
	if len(need) == 0 {
		return "anonymous"
	}
	var ids []string
	for _, r := range need {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// Every reading of a path is judged: a path passes only under every rule its readings select.
func TestEveryReadingIsJudged(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{"/", "app"},
		{"/admin", "admin"},
		{"/admin/users?x=1", "admin"},
		{"/adminx", "app"},
		{"/public/../admin", "admin"},
		{"//admin", "admin"},
		{"/./admin", "admin"},
		{"/../../admin", "admin"},
		{"/%61dmin", "admin"}, // Go decodes each segment: /%61dmin is /admin
		{"/admin/../public", "app"},
		// Issue 17 #4: dot segments hidden behind ";" or an escape are refused outright.
		{"/admin/..;/api", "refused"},
		{"/admin/x/..;/..;/api", "refused"},
		{"/admin/%2e%2e/api", "refused"},
		{"/admin/.;x/api", "refused"},
		{"/public/%2E%2E/admin", "refused"},
		{"/public/..%2fadmin", "refused"},
		{"/public/%2e%2e;/admin", "refused"},
		// Java servers drop ";parameters", Go does not: both readings must pass.
		{"/login.view;jsessionid=X", "app"},
		{"/admin;jsessionid=1", "admin,app"},
		{"/public;x/../admin", "admin"},
		// Issue 17 #6: case-folded (ASP.NET), bypasses exact.
		{"/ADMIN/", "admin,app"},
		{"/Admin/users", "admin,app"},
		{"/API/v1/webhook", "api,app"},
		{"/api/v1/Webhook", "api"},
		{"/admin./", "refused"},
		{"/admin%20/", "refused"},
		{"/admin. /x", "refused"},
		{"/admin.;x/", "refused"},
		// Letters other languages' case mappings turn into ASCII (.NET, Java): ı, İ, ſ, the Kelvin sign.
		{"/adm%C4%B1n/", "admin,app"},
		{"/ADM%C4%B0N/", "admin,app"},
		{"/admin/%E2%84%AA", "admin"},
		{"/%C5%BFecret", "app"},
		// Issue 28 #12: compatibility forms (NFKC, as apps that fold them route): a full-width
		// "/" splits, full-width dots are a dot segment, full-width letters meet theirs.
		{"/admin%EF%BC%8Fx", "admin,app"},
		{"/admin／x", "admin,app"},
		{"/public%EF%BC%8F%EF%BC%8E%EF%BC%8E%EF%BC%8Fadmin", "admin,app"},
		{"/public/．．/admin", "admin,app"},
		{"/admin／x/..", "admin,app"}, // folded before its dot segments are resolved
		{"/%EF%BD%81%EF%BD%84%EF%BD%8D%EF%BD%89%EF%BD%8E/", "admin,app"},
		{"/api/v1/webhook/x／..／..／..／..／admin", "admin"}, // anonymous through the bypass, before
		{"/public%EF%BC%BC..%EF%BC%BCadmin", "refused"},  // a full-width "\", as an encoded one
		// Review of issue 28 (L3): a compatible reading goes through the ASCII path's further
		// readings: trailing dots and spaces trimmed, a folded "％" decoded once more, a folded
		// "？" ending the path; what the ASCII path refuses there is refused.
		{"/admin%E3%80%80/", "admin,app"}, // ideographic space: "/admin "
		{"/admin%C2%A0/", "admin,app"},    // no-break space
		{"/admin%EF%BC%8E/", "admin,app"}, // full-width dot: "/admin."
		{"/admin%EF%BC%8E%E3%80%80/x", "admin,app"},
		{"/admin%E2%80%A6", "admin,app"},   // "…": "/admin..."
		{"/%EF%BC%8561dmin/", "admin,app"}, // full-width percent: "/%61dmin", decoded "/admin"
		{"/api/v1/webhook/%EF%BC%852e%EF%BC%852e/%EF%BC%852e%EF%BC%852e/%EF%BC%852e%EF%BC%852e/admin", "admin"},
		{"/api/v1/webhook/％2e％2e/％2e％2e/％2e％2e/admin", "admin"},
		{"/admin%EF%BC%9Fx", "admin,app"}, // full-width "?"
		{"/public%EF%BC%83/../admin", "admin,app"},
		{"/public/%EF%BC%85252e%EF%BC%85252e/admin", "refused"},  // still an escape after decoding once more
		{"/public/x%EF%BC%855c/admin", "refused"},                // "％5c": a backslash
		{"/public/x%EF%BC%8500", "refused"},                      // "％00": NUL
		{"/public/%E3%80%80/x", "refused"},                       // a segment of a folded space only
		{"/public/%EF%BC%8E%EF%BC%8E%EF%BC%8E/admin", "refused"}, // "..." as Windows reads it
		// … and ordinary non-ASCII paths with those characters are still judged as they are.
		{"/wiki/Wait%E2%80%A6", "app"},
		{"/sale/100%EF%BC%85", "app"},
		{"/faq/why%EF%BC%9F", "app"},
		{"/docs/%EF%BC%85zz", "app"},
		// Ordinary non-ASCII paths keep passing, judged as they are.
		{"/caf%C3%A9", "app"},
		{"/cafe%CC%81/x", "app"},
		{"/café/x", "app"},
		{"/%E6%9D%B1%E4%BA%AC%E3%80%80%E3%82%BF%E3%83%AF%E3%83%BC", "app"}, // 東京　タワー (ideographic space)
		{"/%F0%9F%98%80/%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB", "app"},         // emoji, one with a ZWJ
		{"/admin/%EF%BC%A1", "admin"},
		{"/_matrix/client/v3/directory/room/%23%E9%83%A8%E5%B1%8B:example.test", "app"},
		// Encoded slashes: only under a rule that allows them.
		{"/admin%2fusers", "refused"},
		{"/public%2Fx", "refused"},
		// Encoded "?" and "#" (Matrix room aliases): also read as the end of the path.
		{"/_matrix/client/v3/directory/room/%23room:example.test", "app"},
		{"/admin%23/../public", "admin,app"},
		{"/public/x%3F/../../admin", "admin,app"},
		// Refused outright.
		{"/public/%252e%252e/admin", "refused"},
		{"/public\\..\\admin", "refused"},
		{"/a%00b", "refused"},
		{"/a%5cb", "refused"},
		{"/a%zz", "refused"},
		{"/a%2", "refused"},
		{"/public#/../admin", "refused"},
		{"/a b", "refused"},
		{"admin", "refused"},
		// Bypasses and preflights.
		{"/api/v1/webhook/42", "anonymous"},
		{"/api/v1/webhooks", "api"},
	} {
		if got := judge("app.example.test", "GET", c.raw); got != c.want {
			p, _ := ParsePath(c.raw)
			var readings []string
			if p != nil {
				readings = p.Readings()
			}
			t.Errorf("%q: %s, want %s (readings %q)", c.raw, got, c.want, readings)
		}
	}
	if got := judge("app.example.test", "OPTIONS", "/api/x"); got != "anonymous" {
		t.Errorf("preflight: %s", got)
	}
	if got := judge("app.example.test", "OPTIONS", "/API/x"); got != "app" {
		t.Errorf("preflight under a case-folded reading only: %s, want app (the exact reading is not under /api)", got)
	}
	for raw, want := range map[string]string{"/api/queues/%2F/orders": "mq", "/a%2F..%2Fb": "refused"} {
		if got := judge("mq.example.test", "GET", raw); got != want {
			t.Errorf("rule allowing %%2F, %q: %s, want %s", raw, got, want)
		}
	}
}

// muxPattern is the pattern Go's http.ServeMux routes raw to, among /admin/, /api/ and /.
func muxPattern(t testing.TB, raw string) (string, bool) {
	mux := http.NewServeMux()
	for _, p := range []string{"/admin/", "/admin", "/api/", "/"} {
		mux.Handle(p, http.NotFoundHandler())
	}
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + raw + " HTTP/1.1\r\nHost: app.example.test\r\n\r\n")))
	if err != nil {
		return "", false
	}
	_, pattern := mux.Handler(req)
	return strings.TrimSuffix(pattern, "/"), true
}

// The Go reading is what a real http.ServeMux does: the paths of issue 17 #4 reach /admin/
// there, and every path the mux routes to /admin is judged under the admin rule.
func TestReadingsAgreeWithGoServeMux(t *testing.T) {
	for _, raw := range []string{"/admin/..;/api", "/admin/x/..;/..;/api", "/admin/%2e%2e/api"} {
		if got, _ := muxPattern(t, raw); got != "/admin" {
			t.Fatalf("ServeMux routes %q to %q: the premise of this test changed", raw, got)
		}
		if got := judge("app.example.test", "GET", raw); got != "refused" {
			t.Errorf("%q: %s, want refused", raw, got)
		}
	}
	for _, raw := range []string{"/admin", "/admin/", "/%61dmin/x", "//admin/x", "/public/../admin/", "/admin;x/../admin/y",
		"/admin/%3F", "/admin%2F", "/x/..%2F/admin", "/public%23/../admin/", "/admin/login.view;jsessionid=1", "/api/../admin"} {
		got, ok := muxPattern(t, raw)
		if !ok {
			t.Fatalf("%q: not a request", raw)
		}
		if verdict := judge("app.example.test", "GET", raw); got == "/admin" && verdict != "refused" && !strings.Contains(verdict, "admin") {
			t.Errorf("%q: ServeMux routes it to /admin, judged %s", raw, verdict)
		}
	}
}

func TestHostsAndUnknownHostDenied(t *testing.T) {
	for host, want := range map[string]string{
		"APP.example.test":        "app",
		"app.example.test.":       "app",
		"app.example.test:443":    "app",
		"other.example.test:8443": "other",
		// The port is the client's to write (proxies choose the server by name): a host name
		// with rules on one port is judged by them whatever port the Host header says.
		"other.example.test":      "other",
		"other.example.test:9999": "other",
		"evil.example.test":       "refused",
		"app.example.test.evil":   "refused",
	} {
		if got := judge(host, "GET", "/"); got != want {
			t.Errorf("host %q: %s, want %s", host, got, want)
		}
	}
}

// A host name with rules on two ports: every request to it is judged under both, whatever
// port its Host header names (the hostile review reached an owner-only app on one port by
// naming the open app's port in the Host header, through nginx and Caddy).
func TestPortsOfOneHostAreOneReading(t *testing.T) {
	rs := Rules{
		{ID: "open", Host: "app.example.test:19095"},
		{ID: "owner", Host: "app.example.test:19096", Groups: []string{"plex-owner"}},
	}
	for _, host := range []string{"app.example.test:19095", "app.example.test:19096", "app.example.test", "APP.example.test:443"} {
		p, _ := ParsePath("/")
		need, ok := rs.Judge(host, "GET", p)
		var ids []string
		for _, r := range need {
			ids = append(ids, r.ID)
		}
		if slices.Sort(ids); !ok || strings.Join(ids, ",") != "open,owner" {
			t.Errorf("Host %q: %v %v, want both rules", host, ids, ok)
		}
	}
}

// Ligatures that upper-casing turns into ASCII letters (ﬁ is FI to Java's, JavaScript's and
// Python's toUpperCase) meet the rule of those letters (the second hostile pass reached an
// owner-only /config as a friend with /conﬁg).
func TestLigaturesMeetTheirLetters(t *testing.T) {
	rs := Rules{{ID: "app", Host: "app.example.test"}, {ID: "config", Host: "app.example.test", PathPrefix: "/config", Groups: []string{"plex-owner"}}}
	for _, raw := range []string{"/con%EF%AC%81g", "/CON%EF%AC%81G/x", "/config"} {
		p, err := ParsePath(raw)
		if err != nil {
			t.Fatal(err)
		}
		need, ok := rs.Judge("app.example.test", "GET", p)
		if !ok || !slices.ContainsFunc(need, func(r *store.ForwardRule) bool { return r.ID == "config" }) {
			t.Errorf("%s: %v, want the /config rule among them", raw, need)
		}
	}
}

func TestHostPortParsedStrictly(t *testing.T) {
	for _, h := range []string{"app.example.test", "APP.example.test", "app.example.test.", "app.example.test:8443", "xn--bcher-kva.example",
		"127.0.0.1", "127.0.0.1:80", "[::1]", "[2001:db8::1]:8443", "localhost"} {
		if !validHostPort(h) {
			t.Errorf("%q refused", h)
		}
	}
	for _, h := range []string{"", "app.example.test#", "app.example.test?", "app.example.test:443#", "app.example.test/x", "x@app.example.test",
		"app_x.example.test", "app.example.test:", "app.example.test:0", "app.example.test:65536", "app.example.test:1:2", "app.example.test:abc",
		"bücher.example", "app..example.test", ".app.example.test", "[::1", "[::1]x", "[fe80::1%eth0]", "[127.0.0.1]", "app example", "app\texample",
		strings.Repeat("a", 64) + ".test"} {
		if validHostPort(h) {
			t.Errorf("%q accepted", h)
		}
	}
}

func TestBypassAndGroups(t *testing.T) {
	admin := &rules[1]
	if host.AppAdmits(admin.Groups, []string{"plex-friend"}) || !host.AppAdmits(admin.Groups, []string{"plex-friend", "plex-owner"}) || !host.AppAdmits(rules[0].Groups, nil) {
		t.Fatal("groups")
	}
	if got := judge("app.example.test", "OPTIONS", "/"); got != "app" {
		t.Fatalf("OPTIONS bypassed where not asked: %s", got)
	}
	if got := judge("app.example.test", "POST", "/api/v1/webhook"); got != "anonymous" {
		t.Fatalf("bypass: %s", got)
	}
}

// FuzzMatchNeverEscapesAPrefix: whatever the spelling, a path that Go's ServeMux routes to
// /admin (as is, case-folded, or with ";parameters" dropped as Java servers do), or that
// lies under /admin once decoded (and compatibility-folded, NFKC) and resolved, is judged
// under the admin rule or refused.
func FuzzMatchNeverEscapesAPrefix(f *testing.F) {
	for _, s := range []string{"/admin", "/public/../admin", "/%2e%2e/admin", "//admin/x", "/a/b/../../admin", "/admin/..;/api",
		"/ADMIN/", "/admin;x/y", "/x%2F..%2Fadmin", "/%23/../admin", "/login.view;jsessionid=1",
		"/admin%EF%BC%8Fx", "/public/．．/admin", "/%EF%BD%81dmin", "/admin／x/..", "/admin%E3%80%80/", "/%EF%BC%8561dmin/",
		"/api/v1/webhook/％2e％2e/％2e％2e/％2e％2e/admin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		verdict := judge("app.example.test", "GET", raw)
		if verdict == "refused" || strings.Contains(verdict, "admin") {
			return
		}
		p, _, _ := strings.Cut(raw, "?")
		var noParams []string
		for _, s := range strings.Split(p, "/") {
			s, _, _ = strings.Cut(s, ";")
			noParams = append(noParams, s)
		}
		for _, variant := range []string{raw, strings.ToLower(p), strings.Join(noParams, "/")} {
			if got, ok := muxPattern(t, variant); ok && strings.EqualFold(got, "/admin") {
				t.Fatalf("%q: ServeMux routes %q to /admin, judged %s", raw, variant, verdict)
			}
		}
		// Decoded first, then resolved (servers that decode %2F), the same folded (NFKC), that
		// decoded once more (a folded "％" made an escape), and those with the dots and spaces
		// that end a segment trimmed (Windows servers).
		folded := norm.NFKC.String(unescape(p))
		for _, dec := range []string{unescape(p), folded, unescape(folded)} {
			var segs []string
			for _, s := range strings.Split(dec, "/") {
				if t := strings.TrimRight(s, ". "); dec != unescape(p) && t != "" && s != "." && s != ".." {
					s = t
				}
				switch s {
				case "", ".":
				case "..":
					if len(segs) > 0 {
						segs = segs[:len(segs)-1]
					}
				default:
					segs = append(segs, s)
				}
			}
			if len(segs) > 0 && strings.EqualFold(segs[0], "admin") {
				t.Fatalf("%q: decoded it is under /admin (%q), judged %s", raw, segs, verdict)
			}
		}
	})
}
