package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/app"
)

// An admin password from the environment follows the rules of the setup page: long enough,
// and no longer than bcrypt reads.
func TestAdminPasswordFromTheEnvironmentIsChecked(t *testing.T) {
	pub, _ := url.Parse("http://127.0.0.1:1")
	for pw, want := range map[string]string{"short": "at least", strings.Repeat("x", 73): "at most 72 bytes"} {
		_, err := app.New(context.Background(), app.Config{PublicURL: pub, DataDir: t.TempDir(), AdminPassword: pw})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), pw) {
			t.Errorf("password of %d bytes: %v", len(pw), err)
		}
	}
	a, err := app.New(context.Background(), app.Config{PublicURL: pub, DataDir: t.TempDir(), AdminPassword: "long-enough-password"})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}
