package openid_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

type discoveryDoc struct {
	ResponseTypes      []string `json:"response_types_supported"`
	ResponseModes      []string `json:"response_modes_supported"`
	GrantTypes         []string `json:"grant_types_supported"`
	TokenAuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	RevokeAuthMethods  []string `json:"revocation_endpoint_auth_methods_supported"`
	IntroAuthMethods   []string `json:"introspection_endpoint_auth_methods_supported"`
	ChallengeMethods   []string `json:"code_challenge_methods_supported"`
	DeviceEndpoint     string   `json:"device_authorization_endpoint"`
	RevocationEndpoint string   `json:"revocation_endpoint"`
}

// Every value the discovery document advertises works, and nothing more is advertised
// (finding 13: the library advertised implicit and jwt-bearer grants, id_token response
// types and a device endpoint that answered 404). A value without a case here fails the test.
func TestDiscoveryAdvertisesOnlyWhatWorks(t *testing.T) {
	d := newIDP(t)
	resp, err := http.Get(d.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc discoveryDoc
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if doc.DeviceEndpoint != "" {
		t.Errorf("a device_authorization_endpoint is advertised: %s", doc.DeviceEndpoint)
	}
	ctx := context.Background()
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	for _, rt := range doc.ResponseTypes {
		switch rt {
		case "code":
			r.login(t, d.browser(), "friend")
		default:
			t.Errorf("response type %q is advertised but not tested", rt)
		}
	}
	for _, m := range doc.ResponseModes {
		switch m {
		case "query":
			p := d.browser().authorize(r.config.AuthCodeURL("s", s256(), oauth2.SetAuthURLParam("response_mode", "query")), "friend")
			codeOf(t, p)
		case "form_post":
			p := d.browser().authorize(r.config.AuthCodeURL("s", s256(), oauth2.SetAuthURLParam("response_mode", "form_post")), "friend")
			if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="`+rpRedirect+`"`) || !strings.Contains(p.Body, `name="code"`) {
				t.Errorf("response_mode form_post: %d %s", p.Status, p.Body)
			}
		default:
			t.Errorf("response mode %q is advertised but not tested", m)
		}
	}
	for _, g := range doc.GrantTypes {
		switch g {
		case "authorization_code":
			r.login(t, d.browser(), "friend")
		case "refresh_token":
			tok, _ := r.login(t, d.browser(), "friend")
			if _, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
				t.Errorf("refresh_token grant: %v", err)
			}
		default:
			t.Errorf("grant type %q is advertised but not tested", g)
		}
	}
	for _, m := range doc.ChallengeMethods {
		if m != "S256" {
			t.Errorf("code challenge method %q is advertised but not tested", m)
		}
	}
	for _, m := range doc.TokenAuthMethods {
		switch m {
		case "none":
			pub := oauth2.Config{ClientID: publicID, Endpoint: r.config.Endpoint, RedirectURL: "http://127.0.0.1:9/cli", Scopes: []string{"openid"}}
			verifier := oauth2.GenerateVerifier()
			p := d.browser().authorize(pub.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "friend")
			u, _ := url.Parse(p.Redirect)
			if _, err := pub.Exchange(ctx, u.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Errorf("token auth method none: %v", err)
			}
		case "client_secret_basic", "client_secret_post":
			c := r.config
			c.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			if m == "client_secret_post" {
				c.Endpoint.AuthStyle = oauth2.AuthStyleInParams
			}
			rr := *r
			rr.config = c
			rr.login(t, d.browser(), "friend")
		default:
			t.Errorf("token endpoint auth method %q is advertised but not tested", m)
		}
	}
	for _, m := range doc.RevokeAuthMethods {
		tok, _ := r.login(t, d.browser(), "friend")
		form := url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}
		req, _ := http.NewRequest("POST", doc.RevocationEndpoint, nil)
		switch m {
		case "none":
			continue // only public clients revoke without a secret; they have no refresh tokens here
		case "client_secret_basic":
			req.SetBasicAuth(rpID, rpSecret)
		case "client_secret_post":
			form.Set("client_id", rpID)
			form.Set("client_secret", rpSecret)
		default:
			t.Errorf("revocation auth method %q is advertised but not tested", m)
			continue
		}
		req.Body = io.NopCloser(strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("revocation with %s: %d", m, resp.StatusCode)
		}
		if _, err := r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Errorf("revocation with %s: the refresh token still works", m)
		}
	}
	for _, m := range doc.IntroAuthMethods {
		switch m {
		case "client_secret_basic":
			tok, _ := r.login(t, d.browser(), "friend")
			if !introspect(t, d, tok.AccessToken) {
				t.Error("introspection with client_secret_basic: not active")
			}
		default:
			t.Errorf("introspection auth method %q is advertised but not tested", m)
		}
	}
}
