package forwardauth

import "testing"

func TestReturnTarget(t *testing.T) {
	isApp := func(h string) bool { return h == "sonarr.other.test" }
	for rd, want := range map[string]string{
		"https://app.example.com/x?y=1":        "https://app.example.com/x?y=1",
		"https://example.com/":                 "https://example.com/",
		"https://APP.Example.COM/":             "https://app.example.com/",
		"https://app.example.com./":            "https://app.example.com/",
		"https://app.example.com:8443/":        "https://app.example.com:8443/",
		"https://sonarr.other.test/":           "https://sonarr.other.test/",
		"https://bücher.example.com/":          "https://xn--bcher-kva.example.com/",
		"//evil.com/":                          "",
		"https://evil.com/":                    "",
		"https:evil.com":                       "",
		"https:/evil.com":                      "",
		"javascript:alert(1)":                  "",
		"https://app.example.com@evil.com/":    "",
		"https://app.example.com%2f@evil.com/": "",
		"https://evil.com\\@app.example.com/":  "",
		"https://evil.com\\.app.example.com/":  "",
		"https://app.example.com\t.evil.com/":  "",
		"https://app.example.com\n/":           "",
		"https://evilexample.com/":             "",
		"https://example.com.evil.com/":        "",
		"http://app.example.com/":              "", // https → http downgrade
		"https://evil.com%2f.example.com/":     "",
		"https://app.example.com%00.evil.com/": "",
		"ftp://app.example.com/":               "",
		"/relative":                            "",
		"https://xn--80ak6aa92e.com/":          "",
		"https://other.test/":                  "",
	} {
		got, ok := ReturnTarget(rd, "https", "example.com", isApp)
		if (want == "") != !ok || got != want {
			t.Errorf("%q: %q %v, want %q", rd, got, ok, want)
		}
	}
	// Under http the same scheme is fine, an upgrade too.
	if got, ok := ReturnTarget("http://app.example.com/", "http", ".example.com", isApp); !ok || got != "http://app.example.com/" {
		t.Errorf("http: %q %v", got, ok)
	}
	if _, ok := ReturnTarget("https://app.example.com/", "http", "example.com", isApp); !ok {
		t.Error("upgrade refused")
	}
}
