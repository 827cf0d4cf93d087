package openid_test

import (
	"context"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"golang.org/x/oauth2"
)

// A refresh token revoked with the hint "access_token" (RFC 7009: a hint the server may not
// follow) is found as a refresh token whatever its value. The library's fallback decrypter
// (AES-CFB, unauthenticated) read about one refresh token in nine as an access token's
// "id:subject" and revoked that made-up id instead, leaving the family live. The test refreshes
// until it holds such a token, then revokes it with that hint.
func TestRevocationHintedAccessFindsARefreshToken(t *testing.T) {
	d := newIDP(t)
	key, err := d.store.SecretMeta(context.Background(), "oidc_crypto_key")
	if err != nil || len(key) != 32 {
		t.Fatalf("the provider's token key: %d bytes, %v", len(key), err)
	}
	// readAsAccess reports whether the library's AES-CFB decrypter makes an "id:subject" of tok.
	readAsAccess := func(tok string) bool {
		plain, err := crypto.DecryptAES(tok, string(key))
		return err == nil && strings.Count(plain, ":") == 1
	}
	r := d.rp(gooidc.ScopeOpenID, gooidc.ScopeOfflineAccess)
	tok, _ := r.login(t, d.browser(), "friend")
	for i := 0; !readAsAccess(tok.RefreshToken); i++ {
		if i == 400 { // (8/9)^400: never, unless the token format changed
			t.Fatal("no refresh token in 400 reads as an AES-CFB access token: the test no longer covers the case")
		}
		if tok, err = r.refresh(tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
	}
	revoke(t, d, rpID, rpSecret, tok.RefreshToken, "access_token")
	if _, err := r.refresh(tok.RefreshToken); err == nil {
		t.Fatal("HOLE: a refresh token revoked with the hint \"access_token\" still refreshes")
	}
	if userinfoOK(r, tok) {
		t.Fatal("HOLE: a refresh token revoked with the hint \"access_token\", yet its access token answers")
	}
	if userinfoOK(r, &oauth2.Token{AccessToken: tok.RefreshToken, TokenType: "Bearer"}) {
		t.Fatal("HOLE: a refresh token answers userinfo as an access token")
	}
}
