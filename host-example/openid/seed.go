package openid

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// Seed is what SeedLoad made: raw codes (each exchangeable once) and refresh tokens (one per family).
type Seed struct {
	Codes         []string `json:"codes"`
	RefreshTokens []string `json:"refresh_tokens"`
}

// SeedLoad prepares a load run against a stopped host's store: finished authorization
// requests with codes for client (valid for validFor), and refresh token families for
// userID. It writes through the same store the provider reads, as logins would have.
func SeedLoad(ctx context.Context, st Store, clientID string, userID int64, codes, families int, validFor time.Duration) (*Seed, error) {
	out := &Seed{}
	scopes := []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, ScopeGroups}
	var session string // the codes' host session, as a browser's sign-in would have made
	if codes > 0 {
		_, sess, err := st.CreateSession(ctx, userID, false, validFor)
		if err != nil {
			return nil, err
		}
		session = sess.ID
	}
	for i := 0; i < codes; i++ {
		ar := &authRequest{ClientID: clientID, RedirectURI: "http://127.0.0.1:9/callback", Scopes: scopes, ResponseType: oidc.ResponseTypeCode,
			Nonce: store.RandomID(8)}
		data, _ := json.Marshal(ar)
		id, code := store.RandomID(16), store.RandomID(32)
		if err := st.CreateAuthRequest(ctx, store.AuthRequest{ID: id, ClientID: clientID, Data: data, ExpiresAt: time.Now().Add(validFor)}); err != nil {
			return nil, err
		}
		if err := st.CompleteAuthRequest(ctx, id, userID, session, time.Now()); err != nil {
			return nil, err
		}
		if err := st.SaveAuthCode(ctx, id, hashOf(code), time.Now().Add(validFor)); err != nil {
			return nil, err
		}
		out.Codes = append(out.Codes, code)
	}
	for i := 0; i < families; i++ {
		raw := store.RandomID(32)
		if err := st.PutRefreshToken(ctx, store.RefreshToken{Hash: hashOf(raw), ID: store.RandomID(16), FamilyID: store.RandomID(16),
			GrantID: store.RandomID(16), ClientID: clientID, UserID: userID, Scopes: append(scopes, oidc.ScopeOfflineAccess),
			AMR: []string{"fed"}, AuthTime: time.Now(), Expires: time.Now().Add(24 * time.Hour)}); err != nil {
			return nil, err
		}
		out.RefreshTokens = append(out.RefreshTokens, raw)
	}
	return out, nil
}
