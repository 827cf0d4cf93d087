package plextv_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/plugin/plextv"
)

// deviceClient is a client of its own device identity against sim at base.
func deviceClient(t *testing.T, base, cid string) *plextv.Client {
	t.Helper()
	c, err := plextv.New(plextv.Identity{ClientID: cid, Product: "Test"}, plextv.Options{BaseURL: base, Backoff: time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDeviceKeyFlow: registration (again: ErrThumbprintTaken), renewal verified with Plex's
// keys, a 536-character Plex JWT used as a token, and the errors told apart: 498 expired,
// 422 signature (revoked device), 429 nonce limit.
func TestDeviceKeyFlow(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx := context.Background()
	legacy := sim.TokenFor("owner", "legacy-device")
	c := deviceClient(t, srv.URL, "device-0001")
	k, err := plextv.NewDeviceKey()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(k.String()+k.GoString(), k.Seed()) {
		t.Fatal("a device key prints its seed")
	}
	if err := c.RegisterDeviceKey(ctx, legacy, k); err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := c.RegisterDeviceKey(ctx, legacy, k); !errors.Is(err, plextv.ErrThumbprintTaken) {
		t.Fatalf("register again: %v, want ErrThumbprintTaken", err)
	}
	tok, err := c.Renew(ctx, k, time.Now())
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if len(tok.Raw) != 536 || tok.ExpiresAt.Sub(tok.IssuedAt) != plexsim.DefaultJWTLife || !tok.RenewAt().Equal(tok.IssuedAt.Add(plexsim.DefaultJWTLife/2)) {
		t.Fatalf("token: %d characters, %v", len(tok.Raw), tok)
	}
	if strings.Contains(tok.String(), tok.Raw) {
		t.Fatal("a Plex token prints itself")
	}
	if u, err := c.User(ctx, tok.Raw); err != nil || u.Username != "owner" {
		t.Fatalf("the 536-character JWT as a token: %v %v", u, err)
	}
	// The same key, seeded back from the config, renews too.
	again, err := plextv.ParseDeviceKey(k.Seed())
	if err != nil || again.KeyID() != k.KeyID() {
		t.Fatalf("seed round trip: %v", err)
	}
	sim.SetJWTLife(time.Minute)
	short, err := c.Renew(ctx, again, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sim.Advance(2 * time.Minute)
	if _, err := c.User(ctx, short.Raw); !errors.Is(err, plextv.ErrTokenExpired) || plextv.IsRevokedToken(err) {
		t.Fatalf("expired JWT: %v, want ErrTokenExpired (not revoked)", err)
	}
	sim.RevokeDevice("device-0001")
	if _, err := c.Renew(ctx, k, time.Now().Add(2*time.Minute)); !errors.Is(err, plextv.ErrSignature) {
		t.Fatalf("revoked device: %v, want ErrSignature", err)
	}
	var limited error
	for i := 0; i < 12 && limited == nil; i++ {
		_, limited = c.Nonce(ctx)
	}
	if !errors.Is(limited, plextv.ErrRateLimited) {
		t.Fatalf("nonce limit: %v, want ErrRateLimited", limited)
	}
}

// TestNotPlexTokensRefused: a token Plex's keys do not verify (another key, an algorithm the
// keys do not name, another device's) is refused.
func TestNotPlexTokensRefused(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx := context.Background()
	c := deviceClient(t, srv.URL, "device-0002")
	k, _ := plextv.NewDeviceKey()
	if err := c.RegisterDeviceKey(ctx, sim.Token("owner"), k); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{"iss": "plex.tv", "aud": []string{"plex.tv", "device-0002"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"thumbprint": k.KeyID()}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	forged := sign(t, jose.SigningKey{Algorithm: jose.EdDSA, Key: other}, claims)
	hmac := sign(t, jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, claims)
	for name, raw := range map[string]string{"another key": forged, "HS256": hmac, "not a JWT": "abc"} {
		if _, err := c.VerifyPlexToken(ctx, raw, k, now); !errors.Is(err, plextv.ErrNotPlexToken) {
			t.Errorf("%s: %v, want ErrNotPlexToken", name, err)
		}
	}
	// A real Plex token of another device is not this device's.
	k2, _ := plextv.NewDeviceKey()
	c2 := deviceClient(t, srv.URL, "device-0003")
	if err := c2.RegisterDeviceKey(ctx, sim.Token("owner"), k2); err != nil {
		t.Fatal(err)
	}
	tok2, err := c2.Renew(ctx, k2, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyPlexToken(ctx, tok2.Raw, k, now); !errors.Is(err, plextv.ErrNotPlexToken) {
		t.Errorf("another device's token: %v, want ErrNotPlexToken", err)
	}
}

func sign(t *testing.T, key jose.SigningKey, claims any) string {
	s, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeyPINLinkedWithLegacyToken: a strong PIN carrying the key, approved server-side with
// a legacy token, gives the device a Plex JWT; the legacy token keeps working.
func TestKeyPINLinkedWithLegacyToken(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx := context.Background()
	legacy := sim.TokenFor("owner", "legacy-device")
	c := deviceClient(t, srv.URL, "device-0004")
	k, _ := plextv.NewDeviceKey()
	pin, err := c.CreateKeyPIN(ctx, k, "")
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Nonce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dj, _ := k.Sign("device-0004", n, time.Now())
	if p, err := c.CheckKeyPIN(ctx, int64(pin.ID), dj); err != nil || p.Token() != "" {
		t.Fatalf("pending: %v %v", p.Token() != "", err)
	}
	if err := deviceClient(t, srv.URL, "legacy-device").LinkPIN(ctx, legacy, string(pin.Code)); err != nil {
		t.Fatalf("link: %v", err)
	}
	p, err := c.CheckKeyPIN(ctx, int64(pin.ID), dj)
	if err != nil || p.Token() == "" {
		t.Fatalf("linked: %v", err)
	}
	if _, err := c.VerifyPlexToken(ctx, p.Token(), k, time.Now()); err != nil {
		t.Fatalf("the PIN's token: %v", err)
	}
	if _, err := c.User(ctx, legacy); err != nil {
		t.Fatalf("the legacy token after the upgrade: %v", err)
	}
}
