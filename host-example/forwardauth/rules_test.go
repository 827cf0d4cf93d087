package forwardauth

import (
	"strings"
	"testing"
)

var rules = Rules{
	{ID: "app", Host: "app.example.test"},
	{ID: "admin", Host: "app.example.test", PathPrefix: "/admin", Groups: []string{"plex-owner"}},
	{ID: "api", Host: "app.example.test", PathPrefix: "/api", Bypass: []string{"/api/v1/webhook"}, BypassOptions: true},
	{ID: "other", Host: "other.example.test:8443"},
}

func TestMatchOnTheNormalisedPath(t *testing.T) {
	for raw, want := range map[string]string{
		"/":                        "app",
		"/admin":                   "admin",
		"/admin/":                  "admin",
		"/admin/users?x=1":         "admin",
		"/adminx":                  "app",
		"/public/../admin":         "admin",
		"/public/%2e%2e/admin":     "admin",
		"/public/%2E%2E/admin/x":   "admin",
		"//admin":                  "admin",
		"/./admin":                 "admin",
		"/admin%2fusers":           "admin",
		"/%61dmin":                 "admin",
		"/public/..%2fadmin":       "admin",
		"/api/v1/x":                "api",
		"/ADMIN":                   "app", // paths are case-sensitive upstream
		"/admin/../public":         "app",
		"/../../admin":             "admin",
		"/admin;jsessionid=1":      "admin", // some servers drop path parameters
		"/public;x/../admin":       "admin",
		"/public/%252e%252e/admin": "", // double encoding: refused
		"/public\\..\\admin":       "",
		"/a%00b":                   "",
		"/%23/../admin":            "", // an encoded "#" or "?" (found by the fuzzer: "/%23")
		"/admin%3Fx":               "",
	} {
		p, err := NormalizePath(raw)
		got := ""
		if err == nil {
			if r := rules.Match("app.example.test", p); r != nil {
				got = r.ID
			}
		}
		if got != want {
			t.Errorf("%q (normalised %q, %v): rule %q, want %q", raw, p, err, got, want)
		}
	}
}

func TestHostsAndUnknownHostDenied(t *testing.T) {
	for host, want := range map[string]string{
		"APP.example.test":        "app",
		"app.example.test.":       "app",
		"app.example.test:443":    "app",
		"other.example.test:8443": "other",
		"other.example.test":      "",
		"evil.example.test":       "",
		"app.example.test.evil":   "",
	} {
		got := ""
		if r := rules.Match(host, "/"); r != nil {
			got = r.ID
		}
		if got != want {
			t.Errorf("host %q: rule %q, want %q", host, got, want)
		}
	}
}

func TestBypassAndGroups(t *testing.T) {
	api := rules.Match("app.example.test", "/api/v1/webhook/42")
	if !api.Bypassed("POST", "/api/v1/webhook/42") || api.Bypassed("GET", "/api/v1/webhooks") || !api.Bypassed("OPTIONS", "/api/x") {
		t.Fatal("bypass")
	}
	if rules[0].Bypassed("OPTIONS", "/") {
		t.Fatal("OPTIONS bypassed where not asked")
	}
	admin := &rules[1]
	if admin.Allows([]string{"plex-friend"}) || !admin.Allows([]string{"plex-friend", "plex-owner"}) || !rules[0].Allows(nil) {
		t.Fatal("groups")
	}
}

func FuzzMatchNeverEscapesAPrefix(f *testing.F) {
	for _, s := range []string{"/admin", "/public/../admin", "/%2e%2e/admin", "//admin/x", "/a/b/../../admin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := NormalizePath(raw)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "//") {
			t.Fatalf("%q normalised to %q", raw, p)
		}
		again, err := NormalizePath(p)
		if err != nil || again != p {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", raw, p, again, err)
		}
		// Whatever the spelling, a path under /admin gets the admin rule.
		if underPrefix(p, "/admin") {
			if r := rules.Match("app.example.test", p); r == nil || r.ID != "admin" {
				t.Fatalf("%q (%q) escaped the admin rule", raw, p)
			}
		}
	})
}
