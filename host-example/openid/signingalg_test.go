package openid_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

const (
	esID     = "es-app"
	esSecret = "es-app-secret-0123456789abcdef01"
)

// rpFor is a relying party (go-oidc) of another confidential client, at rpRedirect.
func (d *idp) rpFor(id, secret string, scopes ...string) *rp {
	d.t.Helper()
	r := d.rp(scopes...)
	r.verifier = r.provider.Verifier(&gooidc.Config{ClientID: id})
	r.config.ClientID, r.config.ClientSecret = id, secret
	return r
}

// jwk is a JWKS entry.
type jwk struct{ Kid, Alg, Kty, Crv string }

// jwks is the provider's key set.
func (d *idp) jwks() []jwk {
	d.t.Helper()
	resp, err := http.Get(d.issuer + "/keys")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []jwk }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		d.t.Fatal(err)
	}
	return set.Keys
}

// keyOf is the JWKS entry of kid.
func keyOf(keys []jwk, kid string) (jwk, bool) {
	i := slices.IndexFunc(keys, func(k jwk) bool { return k.Kid == kid })
	if i < 0 {
		return jwk{}, false
	}
	return keys[i], true
}

// refreshed is tok refreshed: its new id_token, verified by r.
func (r *rp) refreshed(t *testing.T, tok *oauth2.Token) *oauth2.Token {
	t.Helper()
	next, err := r.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	r.verify(t, next, "")
	return next
}

// Two applications of one host, one registered with ES256 and one with the default RS256:
// each one's go-oidc verifies its id_tokens against the JWKS (which has a key of each), the
// header names each one's algorithm, at the code exchange and at every refresh. The admin
// changes the RS256 one to EdDSA: its next token is signed with a new EdDSA key, published in
// the JWKS, and such an id_token is a valid logout hint.
func TestPerClientSigningAlgorithm(t *testing.T) {
	d := newIDP(t)
	d.addClient(store.OIDCClient{ID: esID, Name: "ES app", SecretSHA256: openid.HashSecret(esSecret), RedirectURIs: []string{rpRedirect},
		PostLogoutURIs: []string{rpLogout}, GrantTypes: []string{openid.GrantCode, openid.GrantRefresh}, IDTokenAlg: openid.ES256})
	d.start("RS256") // a start makes the key of each algorithm in use

	var disc struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	resp, err := http.Get(d.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if strings.Join(disc.Algs, ",") != "RS256,ES256,EdDSA" {
		t.Fatalf("discovery offers %v", disc.Algs)
	}
	algs := func() []string {
		var out []string
		for _, k := range d.jwks() {
			if !slices.Contains(out, k.Alg) {
				out = append(out, k.Alg)
			}
		}
		slices.Sort(out)
		return out
	}
	if got := algs(); !slices.Equal(got, []string{"ES256", "RS256"}) {
		t.Fatalf("the JWKS has keys of %v, want ES256 and RS256 (the algorithms in use)", got)
	}

	scopes := []string{gooidc.ScopeOpenID, "profile", "groups", gooidc.ScopeOfflineAccess}
	rs, es := d.rp(scopes...), d.rpFor(esID, esSecret, scopes...)
	b := d.browser()
	rsTok, rsClaims := rs.login(t, b, "friend")
	esTok, esClaims := es.login(t, b, "friend")
	if alg(rsTok) != "RS256" || alg(esTok) != "ES256" || rsClaims.Subject != esClaims.Subject {
		t.Fatalf("id_tokens: %s (%s) and %s (%s)", alg(rsTok), rsClaims.Subject, alg(esTok), esClaims.Subject)
	}
	if k, ok := keyOf(d.jwks(), kid(esTok)); !ok || k.Alg != "ES256" || k.Kty != "EC" || k.Crv != "P-256" {
		t.Fatalf("the ES256 id_token's key %s in the JWKS: %+v %v", kid(esTok), k, ok)
	}
	// A client verifying only its own algorithm accepts its token and not the other's.
	strict := es.provider.Verifier(&gooidc.Config{ClientID: esID, SupportedSigningAlgs: []string{"ES256"}})
	if _, err := strict.Verify(context.Background(), esTok.Extra("id_token").(string)); err != nil {
		t.Fatalf("ES256-only verifier: %v", err)
	}
	for range 2 { // refreshes keep each client's algorithm
		if esTok = es.refreshed(t, esTok); alg(esTok) != "ES256" {
			t.Fatalf("refreshed ES256 client got %s", alg(esTok))
		}
		if rsTok = rs.refreshed(t, rsTok); alg(rsTok) != "RS256" {
			t.Fatalf("refreshed RS256 client got %s", alg(rsTok))
		}
	}

	// The admin changes the RS256 client to EdDSA: its key is made with the change, and the
	// client's next token (a refresh) is signed with it; the ES256 client keeps ES256.
	if _, err := openid.NewClients(d.store).Save(context.Background(), rpID, openid.ClientInput{Name: "Demo app", RedirectURIs: rpRedirect,
		PostLogoutURIs: rpLogout, ReleaseAttributes: []string{"plex_pass"}, Refresh: true, IDTokenAlg: openid.EdDSA}); err != nil {
		t.Fatal(err)
	}
	if got := algs(); !slices.Equal(got, []string{"ES256", "EdDSA", "RS256"}) {
		t.Fatalf("after the change the JWKS has keys of %v", got)
	}
	if rsTok = rs.refreshed(t, rsTok); alg(rsTok) != "EdDSA" {
		t.Fatalf("the changed client's next token is %s, want EdDSA", alg(rsTok))
	}
	if k, ok := keyOf(d.jwks(), kid(rsTok)); !ok || k.Kty != "OKP" || k.Crv != "Ed25519" {
		t.Fatalf("the EdDSA key in the JWKS: %+v %v", k, ok)
	}
	if esTok = es.refreshed(t, esTok); alg(esTok) != "ES256" {
		t.Fatalf("the other client's token is now %s", alg(esTok))
	}
	// An EdDSA id_token is a valid logout hint: straight back to the app, no question asked.
	end, _ := url.Parse(d.issuer + "/end_session")
	end.RawQuery = url.Values{"id_token_hint": {rsTok.Extra("id_token").(string)}, "post_logout_redirect_uri": {rpLogout}, "state": {"bye"}}.Encode()
	if p := b.Do("GET", end.String(), nil); p.Status != http.StatusFound || p.Redirect != rpLogout+"?state=bye" {
		t.Fatalf("logout with an EdDSA hint: %d %s", p.Status, p.Redirect)
	}
}

// The admin's form offers the algorithms and the default; a client saved with its own gets
// that algorithm's key at once (published before its first token); an algorithm not offered
// is refused with the form again, saying so.
func TestClientSigningAlgorithmAdmin(t *testing.T) {
	cs, st := openClients(t)
	ctx := context.Background()
	f, err := cs.Form(ctx, "")
	if err != nil || !slices.Equal(f.Algorithms, []string{"RS256", "ES256", "EdDSA"}) || f.DefaultAlg != "RS256" {
		t.Fatalf("form: %+v %v", f, err)
	}
	in := openid.ClientInput{ID: "fast", Name: "Fast", RedirectURIs: "https://fast.example.com/cb", IDTokenAlg: "ES256"}
	saved, err := cs.Create(ctx, in)
	if err != nil || saved.Client.IDTokenAlg != "ES256" {
		t.Fatalf("created: %+v %v", saved, err)
	}
	keys, err := st.SigningKeys(ctx, time.Now())
	if err != nil || !slices.ContainsFunc(keys, func(k store.SigningKey) bool { return k.Alg == "ES256" }) {
		t.Fatalf("no ES256 key after saving an ES256 client: %+v %v", keys, err)
	}
	for _, bad := range []string{"HS256", "none", "es256", "PS256"} {
		in := openid.ClientInput{Name: "Fast", RedirectURIs: "https://fast.example.com/cb", IDTokenAlg: bad}
		_, err := cs.Save(ctx, "fast", in)
		var invalid *openid.InvalidClient
		if !errors.As(err, &invalid) || !strings.Contains(strings.Join(invalid.Problems, " "), "id_token_signed_response_alg") ||
			!strings.Contains(err.Error(), "RS256, ES256, EdDSA") {
			t.Errorf("algorithm %q: %v", bad, err)
		}
	}
	if c, _ := st.OIDCClientByID(ctx, "fast"); c.IDTokenAlg != "ES256" {
		t.Fatalf("a refused save changed the algorithm to %q", c.IDTokenAlg)
	}
	// Back to the default.
	if saved, err := cs.Save(ctx, "fast", openid.ClientInput{Name: "Fast", RedirectURIs: "https://fast.example.com/cb"}); err != nil || saved.Client.IDTokenAlg != "" {
		t.Fatalf("back to the default: %+v %v", saved, err)
	}
}
