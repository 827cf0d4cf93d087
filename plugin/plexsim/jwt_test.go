package plexsim_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// testDevice is a device key as an app keeps it, for driving the sim on the wire.
type testDevice struct {
	cid  string
	priv ed25519.PrivateKey
	jwk  jose.JSONWebKey
}

func newDevice(t *testing.T, cid string) testDevice {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	k := jose.JSONWebKey{Key: pub, Algorithm: string(jose.EdDSA), Use: "sig"}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	k.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return testDevice{cid: cid, priv: priv, jwk: k}
}

// sign is the device's JWT over nonce (python-plexapi MyPlexJWTLogin._encodeClientJWT).
func (d testDevice) sign(t *testing.T, nonce string, key ed25519.PrivateKey) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", d.jwk.KeyID))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	out, err := jwt.Signed(signer).Claims(map[string]any{"nonce": nonce, "scope": "username,email,friendly_name", "aud": "plex.tv",
		"iss": d.cid, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// api calls the sim with JSON and returns the status and the decoded body.
func api(t *testing.T, method, url, cid, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cid != "" {
		req.Header.Set("X-Plex-Client-Identifier", cid)
	}
	if token != "" {
		req.Header.Set("X-Plex-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func message(body map[string]any) string {
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

func (d testDevice) exchange(t *testing.T, base string, key ed25519.PrivateKey) (int, map[string]any) {
	t.Helper()
	st, n := api(t, "GET", base+"/api/v2/auth/nonce", d.cid, "", nil)
	if st != http.StatusOK || n["nonce"] == "" {
		t.Fatalf("nonce: %d %v", st, n)
	}
	return api(t, "POST", base+"/api/v2/auth/token", d.cid, "", map[string]string{"jwt": d.sign(t, n["nonce"].(string), key)})
}

// TestJWTDeviceFlow: registration per client identifier (422 Thumbprint Already Taken),
// nonce, EdDSA verification (422 Signature Verification Failed), a Plex JWT signed by the
// sim's published key and accepted like a legacy token, 498 once expired, device
// revocation, and a device's legacy token invalidated when a JWT is issued for that device
// only.
func TestJWTDeviceFlow(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	base := srv.URL
	legacy := sim.TokenFor("owner", "old-device")
	dev := newDevice(t, "new-device")

	if st, _ := api(t, "POST", base+"/api/v2/auth/jwk", dev.cid, "", map[string]any{"jwk": dev.jwk}); st != http.StatusUnauthorized {
		t.Fatalf("registration without a token: %d", st)
	}
	if st, b := api(t, "POST", base+"/api/v2/auth/jwk", dev.cid, legacy, map[string]any{"jwk": dev.jwk}); st != http.StatusNoContent {
		t.Fatalf("registration: %d %v", st, b)
	}
	if st, b := api(t, "POST", base+"/api/v2/auth/jwk", "third-device", legacy, map[string]any{"jwk": dev.jwk}); st != 422 || message(b) != "Thumbprint Already Taken" {
		t.Fatalf("second registration of the key: %d %v", st, b)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if st, b := dev.exchange(t, base, other); st != 422 || message(b) != "Signature Verification Failed" {
		t.Fatalf("a JWT signed by another key: %d %v", st, b)
	}
	st, b := dev.exchange(t, base, dev.priv)
	tok, _ := b["auth_token"].(string)
	if st != http.StatusOK || tok == "" {
		t.Fatalf("exchange: %d %v", st, b)
	}
	if len(tok) != plexsim.PlexJWTLength {
		t.Errorf("Plex JWT is %d characters, want %d as reported", len(tok), plexsim.PlexJWTLength)
	}
	// Signed by the key published at auth/keys, with the claims python-plexapi requires.
	_, keys := api(t, "GET", base+"/api/v2/auth/keys", "", "", nil)
	raw, _ := json.Marshal(keys)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("auth/keys: %v %s", err, raw)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(set.Keys[0].Algorithm)})
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		jwt.Claims
		Thumbprint string `json:"thumbprint"`
	}
	if err := parsed.Claims(set.Keys[0].Key, &claims); err != nil {
		t.Fatalf("the Plex JWT does not verify with auth/keys: %v", err)
	}
	if claims.Issuer != "plex.tv" || !claims.Audience.Contains(dev.cid) || claims.Thumbprint != dev.jwk.KeyID ||
		claims.Expiry.Time().Sub(claims.IssuedAt.Time()) != plexsim.DefaultJWTLife {
		t.Errorf("claims %+v", claims)
	}
	// Both kinds accepted; the legacy token of another device survives the issue.
	for name, tk := range map[string]string{"jwt": tok, "legacy": legacy} {
		if st, u := api(t, "GET", base+"/api/v2/user", "x", tk, nil); st != http.StatusOK || u["username"] != "owner" {
			t.Errorf("%s token on /api/v2/user: %d %v", name, st, u["username"])
		}
	}
	// A JWT issued for the device that holds a legacy token invalidates that token.
	same := sim.TokenFor("owner", dev.cid)
	if st, _ := dev.exchange(t, base, dev.priv); st != http.StatusOK {
		t.Fatalf("second exchange: %d", st)
	}
	if st, _ := api(t, "GET", base+"/api/v2/user", "x", same, nil); st != http.StatusUnauthorized {
		t.Errorf("the device's own legacy token after a JWT was issued for it: %d, want 401", st)
	}
	if st, _ := api(t, "GET", base+"/api/v2/user", "x", legacy, nil); st != http.StatusOK {
		t.Errorf("another device's legacy token: %d, want 200", st)
	}
	// Expiry: 498 from every endpoint that takes a token.
	sim.SetJWTLife(time.Minute)
	_, b = dev.exchange(t, base, dev.priv)
	short := b["auth_token"].(string)
	sim.Advance(61 * time.Second)
	for _, path := range []string{"/api/v2/user", "/api/v2/resources", "/api/users", "/api/v2/ping", "/api/v2/home/users"} {
		if st, b := api(t, "GET", base+path, "x", short, nil); st != 498 || message(b) != "Token Expired" {
			t.Errorf("expired JWT on %s: %d %v", path, st, b)
		}
	}
	// Revocation: the device's JWTs are refused and its key gets no new one.
	sim.RevokeDevice(dev.cid)
	if st, _ := api(t, "GET", base+"/api/v2/user", "x", tok, nil); st != http.StatusUnauthorized {
		t.Errorf("a revoked device's JWT: %d, want 401", st)
	}
	if st, b := dev.exchange(t, base, dev.priv); st != 422 || message(b) != "Signature Verification Failed" {
		t.Errorf("a revoked device's exchange: %d %v", st, b)
	}
}

// TestNonceRules: a nonce is single use and rate limited per client identifier.
func TestNonceRules(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	dev := newDevice(t, "nonce-device")
	if st, _ := api(t, "POST", srv.URL+"/api/v2/auth/jwk", dev.cid, sim.Token("owner"), map[string]any{"jwk": dev.jwk}); st != http.StatusNoContent {
		t.Fatal(st)
	}
	_, n := api(t, "GET", srv.URL+"/api/v2/auth/nonce", dev.cid, "", nil)
	signed := dev.sign(t, n["nonce"].(string), dev.priv)
	if st, _ := api(t, "POST", srv.URL+"/api/v2/auth/token", dev.cid, "", map[string]string{"jwt": signed}); st != http.StatusOK {
		t.Fatalf("first use: %d", st)
	}
	if st, _ := api(t, "POST", srv.URL+"/api/v2/auth/token", dev.cid, "", map[string]string{"jwt": signed}); st != http.StatusBadRequest {
		t.Errorf("a nonce used twice: %d, want 400", st)
	}
	limited := false
	for i := 0; i < 12 && !limited; i++ {
		st, _ := api(t, "GET", srv.URL+"/api/v2/auth/nonce", dev.cid, "", nil)
		limited = st == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("nonces are not rate limited")
	}
	if st, _ := api(t, "GET", srv.URL+"/api/v2/auth/nonce", "other-device", "", nil); st != http.StatusOK {
		t.Errorf("the limit is per client identifier, another got %d", st)
	}
}

// TestStrongPINWithKey: a strong PIN carrying a JWK, approved with PUT /api/v2/pins/link and
// a legacy token, gives a Plex JWT to the poll signed with that key; the legacy token (of
// another device) keeps working.
func TestStrongPINWithKey(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	base := srv.URL
	legacy := sim.TokenFor("owner", "old-device")
	dev := newDevice(t, "pin-device")
	st, p := api(t, "POST", base+"/api/v2/pins", dev.cid, "", map[string]any{"jwk": dev.jwk, "strong": true})
	if st != http.StatusCreated {
		t.Fatalf("pin: %d %v", st, p)
	}
	id := strconv.FormatInt(int64(p["id"].(float64)), 10)
	code := p["code"].(string)
	_, n := api(t, "GET", base+"/api/v2/auth/nonce", dev.cid, "", nil)
	djwt := dev.sign(t, n["nonce"].(string), dev.priv)
	poll := func() (int, map[string]any) {
		return api(t, "GET", base+"/api/v2/pins/"+id+"?deviceJWT="+djwt, dev.cid, "", nil)
	}
	if st, b := poll(); st != http.StatusOK || b["authToken"] != nil {
		t.Fatalf("pending poll: %d %v", st, b["authToken"])
	}
	req, _ := http.NewRequest("PUT", base+"/api/v2/pins/link", strings.NewReader("code="+code))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Plex-Token", legacy)
	req.Header.Set("X-Plex-Client-Identifier", "old-device")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("link: %v %v", err, resp)
	}
	resp.Body.Close()
	st, b := poll()
	tok, _ := b["authToken"].(string)
	if st != http.StatusOK || !strings.HasPrefix(tok, "ey") {
		t.Fatalf("claimed poll: %d %v", st, b["authToken"])
	}
	if st, _ := api(t, "GET", base+"/api/v2/user", "x", tok, nil); st != http.StatusOK {
		t.Errorf("the PIN's JWT: %d", st)
	}
	if st, _ := api(t, "GET", base+"/api/v2/user", "x", legacy, nil); st != http.StatusOK {
		t.Errorf("the linking legacy token after the upgrade: %d", st)
	}
	// The key is now registered for the PIN's client identifier: renewal works.
	if st, _ := dev.exchange(t, base, dev.priv); st != http.StatusOK {
		t.Errorf("renewal after the PIN: %d", st)
	}
}
