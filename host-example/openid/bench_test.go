package openid_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/plexlogin/plexlogin/host-example/oidcload"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// benchGrant runs b.N token requests of grant through the real HTTP stack, 8 at a time.
func benchGrant(b *testing.B, alg, grant string) {
	d := newIDP(b)
	if alg == openid.ES256 {
		if _, err := importKey(d, "es256-a.pem"); err != nil {
			b.Fatal(err)
		}
		d.start(alg)
	}
	ctx := context.Background()
	u, err := d.store.FinishLogin(ctx, store.User{SourceID: d.source.ID, Subject: "2001", Username: "frank"}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	s, err := openid.SeedLoad(ctx, d.store, rpID, u.UserID, n, 64, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	o := oidcload.Options{TokenURL: d.issuer + "/oauth/token", ClientID: rpID, ClientSecret: rpSecret, Grant: grant, Rate: 100000,
		Duration: time.Hour}
	if grant == "refresh_token" {
		o.RefreshTokens = s.RefreshTokens
	} else {
		o.Codes = s.Codes
	}
	b.ResetTimer()
	cpu := cpuTime(b)
	r, err := oidcload.RunN(ctx, o, n, 8)
	if err != nil || r.Errors > 0 {
		b.Fatalf("%v %+v", err, r)
	}
	b.ReportMetric(float64((cpuTime(b)-cpu).Microseconds())/float64(n), "cpu-µs/op")
	b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
}

// cpuTime is the CPU time (user and system) the test process used so far, client and server
// and the store's checkpoints alike: per operation, what a grant costs a core, which a busy
// shared machine changes less than the wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkRefreshGrantRS256(b *testing.B) { benchGrant(b, openid.RS256, "refresh_token") }
func BenchmarkRefreshGrantES256(b *testing.B) { benchGrant(b, openid.ES256, "refresh_token") }
func BenchmarkCodeExchangeRS256(b *testing.B) { benchGrant(b, openid.RS256, "authorization_code") }
func BenchmarkCodeExchangeES256(b *testing.B) { benchGrant(b, openid.ES256, "authorization_code") }

// The load run's short form: every refresh (rotating families) and code exchange succeeds at a
// fixed rate. Correctness only; scripts/oidc-load measures.
func TestLoadRunShort(t *testing.T) {
	d := newIDP(t)
	ctx := context.Background()
	u, err := d.store.FinishLogin(ctx, store.User{SourceID: d.source.ID, Subject: "2001", Username: "frank"}, store.Event{Kind: "login_allowed"}, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := openid.SeedLoad(ctx, d.store, rpID, u.UserID, 200, 5, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, grant := range []string{"refresh_token", "authorization_code"} {
		o := oidcload.Options{TokenURL: d.issuer + "/oauth/token", ClientID: rpID, ClientSecret: rpSecret, Grant: grant, Rate: 100,
			Duration: time.Second, RefreshTokens: s.RefreshTokens, Codes: s.Codes}
		if grant == "refresh_token" {
			o.Codes = nil
		} else {
			o.RefreshTokens = nil
		}
		r, err := oidcload.Run(ctx, o)
		if err != nil || r.Errors != 0 || r.OK == 0 { // correctness only: how many fit in a second depends on the machine
			t.Fatalf("%s: %v %s", grant, err, r)
		}
	}
}

// BenchmarkSignIDToken is one id_token signature alone (go-jose, as the token endpoint makes
// it) with an RSA-2048 and a P-256 key: the ceiling of a refresh grant per core (scripts/hot-paths
// sets the host's refresh rate beside it).
func BenchmarkSignIDToken(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"iss":"https://sso.example.test","sub":"u_0123456789abcdef","aud":["wiki"],"exp":1796672000,` +
		`"iat":1796668400,"auth_time":1796668000,"nonce":"n-0S6_WzA2Mj","at_hash":"77QmUPtjPfzWtF2AnpK9RQ","amr":["fed"],` +
		`"azp":"wiki","name":"Frank","preferred_username":"frank","email":"frank@example.test","groups":["friends","members"]}`)
	for _, k := range []struct {
		alg jose.SignatureAlgorithm
		key any
	}{{jose.RS256, rsaKey}, {jose.ES256, ecKey}} {
		b.Run(string(k.alg), func(b *testing.B) {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, (&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := signer.Sign(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
