package openid

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// An unconfirmed e-mail is released with email_verified false, never without the claim:
// clients such as oauth2-proxy take a missing email_verified as verified.
func TestUnverifiedEmailSaysSo(t *testing.T) {
	for verified, want := range map[bool]string{false: `"email_verified":false`, true: `"email_verified":true`} {
		var ui oidc.UserInfo
		setClaims(&ui, &store.User{PublicID: "p", Email: "gus@example.com", EmailVerified: verified}, &store.OIDCClient{},
			[]string{oidc.ScopeOpenID, oidc.ScopeEmail})
		b, err := json.Marshal(&ui)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(b), `"email_verified"`) != 1 || !strings.Contains(string(b), want) {
			t.Errorf("verified=%v: %s", verified, b)
		}
	}
}
