package cabundle

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// TestBundleIsThePinnedUnconstrainedRoots checks the PEM holds each unconstrained root of the
// pinned store once, parseable, and nothing else, the same bytes every time.
func TestBundleIsThePinnedUnconstrainedRoots(t *testing.T) {
	b := PEM()
	if !bytes.Equal(b, PEM()) {
		t.Fatal("two calls gave different bundles")
	}
	want, constrained := 0, 0
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			constrained++
			continue
		}
		want++
	}
	got := 0
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				t.Fatalf("trailing bytes after %d certificates", got)
			}
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatalf("certificate %d: %v", got+1, err)
		}
		if !c.IsCA {
			t.Errorf("%s is not a CA", c.Subject)
		}
		got++
	}
	if got != want || got < 100 {
		t.Fatalf("%d certificates in the bundle, want the store's %d unconstrained roots (%d constrained left out)", got, want, constrained)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("a CertPool takes none of the bundle")
	}
}
