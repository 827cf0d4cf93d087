package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/pquerna/otp/totp"

	"github.com/plexlogin/plexlogin/host-example/app"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

func TestBootstrapFileIsStrict(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "b.json")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	list, err := app.ReadBootstrap(write(`[{"plugin":"plex","slug":"plex","name":"Plex","enabled":true,"config":{"a":1}}]`))
	if err != nil || len(list) != 1 || !list[0].Enabled || string(list[0].Config) != `{"a":1}` {
		t.Fatalf("good file: %+v %v", list, err)
	}
	if _, err := app.ReadBootstrap(write(`[{"plugin":"plex","slug":"plex","name":"Plex","enabeld":true}]`)); err == nil || !strings.Contains(err.Error(), "enabeld") {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := app.ReadBootstrap(write(`[{"plugin":"plex","name":"Plex"}]`)); err == nil || !strings.Contains(err.Error(), "slug") {
		t.Fatalf("missing slug: %v", err)
	}
}

func TestPluginsDirIsNotTheWorkingDirectory(t *testing.T) {
	exe, data, cwd := t.TempDir(), t.TempDir(), t.TempDir()
	t.Chdir(cwd)
	for _, d := range []string{filepath.Join(cwd, "plugins"), filepath.Join(data, "plugins"), filepath.Join(exe, "extra")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ flag, want string }{
		{"", exe},                                   // beside the executable
		{"extra", filepath.Join(exe, "extra")},      // relative: beside the executable first
		{"plugins", filepath.Join(data, "plugins")}, // then the data folder, never ./plugins
		{cwd, cwd},                                  // absolute: as it is
	} {
		got, err := pluginsDir(c.flag, exe, data)
		if err != nil || got != c.want {
			t.Errorf("-plugins %q: %q %v, want %q", c.flag, got, err, c.want)
		}
	}
	if _, err := pluginsDir("missing", exe, data); err == nil || !strings.Contains(err.Error(), "looked in") {
		t.Errorf("missing folder: %v", err)
	}
}

func TestResetAdminPassword(t *testing.T) {
	data := t.TempDir()
	var out strings.Builder
	if err := resetPasswordCommand([]string{"-data", data}, strings.NewReader("a-new-password\n"), &out); err == nil {
		t.Fatal("a data folder without a database was accepted (a typo in -data would create one)")
	}
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := st.CreateSession(ctx, 0, true, time.Hour); err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Setenv("HOST_ADMIN_PASSWORD", "")
	if err := resetPasswordCommand([]string{"-data", data}, strings.NewReader("short\n"), &out); err == nil {
		t.Fatal("a short password was accepted")
	}
	if err := resetPasswordCommand([]string{"-data", data}, strings.NewReader("a-new-password\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 admin sessions ended") {
		t.Fatalf("output: %s", out.String())
	}
	st, err = store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !host.NewAdmin(st, nil).CheckPassword(ctx, "a-new-password") || host.NewAdmin(st, nil).CheckPassword(ctx, "short") {
		t.Fatal("the new password does not work")
	}
}

// reset-admin-password is the break-glass: it only opens the database (no plugin, no
// plex.tv), turns a local password that was off on again and removes its TOTP.
func TestResetAdminPasswordTurnsThePasswordOnWithoutTOTP(t *testing.T) {
	data := t.TempDir()
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := host.NewAdmin(st, nil).SetPassword(ctx, "an-old-password"); err != nil {
		t.Fatal(err)
	}
	key, _, err := host.NewAdmin(st, nil).BeginTOTP(ctx, "example.test", "session-a", time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	if ok, err := host.NewAdmin(st, nil).ConfirmTOTP(ctx, "session-a", code, time.Now()); !ok || err != nil {
		t.Fatalf("confirm: %v %v", ok, err)
	}
	_ = host.NewAdmin(st, nil).SetGrants(ctx, []host.Grant{{SourceID: "plex", Group: "admins"}})
	_ = host.NewAdmin(st, nil).RecordSourceSignIn(ctx, host.SourceAdminSignIn{SourceID: "plex", Group: "admins", Name: "olivia", At: time.Now()})
	if err := host.NewAdmin(st, nil).TurnOffPassword(ctx, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Setenv("HOST_ADMIN_PASSWORD", "")
	var out strings.Builder
	if err := resetPasswordCommand([]string{"-data", data}, strings.NewReader("a-new-password\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "without a TOTP code") || !strings.Contains(out.String(), "\n  "+host.RecoveryPath) {
		t.Fatalf("output: %s", out.String())
	}
	// With the public URL the link is printed whole; a bad one is refused before anything changes.
	out.Reset()
	t.Setenv("HOST_PUBLIC_URL", "https://id.example.test/")
	if err := resetPasswordCommand([]string{"-data", data}, strings.NewReader("a-new-password\n"), &out); err != nil ||
		!strings.Contains(out.String(), "\n  https://id.example.test"+host.RecoveryPath) {
		t.Fatalf("with HOST_PUBLIC_URL: %v %s", err, out.String())
	}
	if err := resetPasswordCommand([]string{"-data", data, "-public-url", "id.example.test"}, strings.NewReader("another-password\n"), &out); err == nil ||
		!strings.Contains(err.Error(), "-public-url") {
		t.Fatalf("a public URL that is not absolute: %v", err)
	}
	st, err = store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if on, _ := host.NewAdmin(st, nil).TOTPOn(ctx); on || !host.NewAdmin(st, nil).PasswordOn(ctx) || !host.NewAdmin(st, nil).CheckPassword(ctx, "a-new-password") {
		t.Fatalf("after the reset: TOTP on %v, password on %v", on, host.NewAdmin(st, nil).PasswordOn(ctx))
	}
}

// Every flag of the server has an environment variable, and -h lists both.
func TestEveryFlagHasAVariable(t *testing.T) {
	var out strings.Builder
	f, err := parseServeTo([]string{"-h"}, &out)
	if f != nil || !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	help := out.String()
	for _, want := range []string{"-listen  (HOST_LISTEN)", "-data  (HOST_DATA_DIR)", "-plugins  (HOST_PLUGINS_DIR)",
		"-session-lifetime  (HOST_SESSION_LIFETIME)", "-max-conns  (HOST_MAX_CONNS)", "-log-level  (HOST_LOG_LEVEL)",
		"HOST_ADMIN_PASSWORD, HOST_ADMIN_PASSWORD_FILE"} {
		if !strings.Contains(help, want) {
			t.Errorf("-h does not list %q:\n%s", want, help)
		}
	}
	t.Setenv("HOST_MAX_CONNS", "17")
	t.Setenv("HOST_SESSION_LIFETIME", "3h")
	f, err = parseServe([]string{"-session-lifetime", "2h"})
	if err != nil || f.maxConns != 17 || f.lifetime != 2*time.Hour {
		t.Fatalf("variables then flags: %+v %v", f, err)
	}
	t.Setenv("HOST_MAX_CONNS", "many")
	if _, err := parseServe(nil); err == nil || !strings.Contains(err.Error(), "HOST_MAX_CONNS") {
		t.Fatalf("a bad variable: %v", err)
	}
}

// A secret comes from its variable, else from the file its _FILE variable names.
func TestSecretFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(path, []byte("from-a-file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOST_ADMIN_PASSWORD", "")
	t.Setenv("HOST_ADMIN_PASSWORD_FILE", path)
	if v, err := secret("HOST_ADMIN_PASSWORD"); err != nil || v != "from-a-file-secret" {
		t.Fatalf("from the file: %q %v", v, err)
	}
	t.Setenv("HOST_ADMIN_PASSWORD", "from-the-variable")
	if v, _ := secret("HOST_ADMIN_PASSWORD"); v != "from-the-variable" {
		t.Fatalf("the variable wins: %q", v)
	}
	t.Setenv("HOST_ADMIN_PASSWORD", "")
	t.Setenv("HOST_ADMIN_PASSWORD_FILE", filepath.Join(t.TempDir(), "missing"))
	if _, err := secret("HOST_ADMIN_PASSWORD"); err == nil || !strings.Contains(err.Error(), "HOST_ADMIN_PASSWORD_FILE") {
		t.Fatalf("a missing file: %v", err)
	}
}

// A client secret of the clients file may come from a _FILE variable; one that cannot be
// read says which variable, not just that the secret is empty.
func TestClientSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	clients := filepath.Join(dir, "clients.json")
	if err := os.WriteFile(clients, []byte(`[{"client_id":"app","client_secret_env":"APP_SECRET","name":"App",
		"redirect_uris":["https://app.example.test/cb"],"grant_types":["authorization_code"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("a-client-secret-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("APP_SECRET", "")
	t.Setenv("APP_SECRET_FILE", secretFile)
	f := &serveFlags{listen: "127.0.0.1:1", dataDir: dir, clientsFile: clients, forwardCache: time.Minute, rememberLifetime: host.DefaultRememberLifetime}
	cfg, err := f.config(nil)
	if err != nil || len(cfg.FileClients) != 1 || cfg.FileClients[0].ID != "app" {
		t.Fatalf("clients with a secret from a file: %+v %v", cfg.FileClients, err)
	}
	t.Setenv("APP_SECRET_FILE", filepath.Join(dir, "missing"))
	if _, err := f.config(nil); err == nil || !strings.Contains(err.Error(), "APP_SECRET_FILE") {
		t.Fatalf("an unreadable secret file: %v", err)
	}
}

// The log format and the metrics address are checked: json or text, and never the public port.
func TestLogFormatAndMetricsListenChecked(t *testing.T) {
	if _, err := parseServe([]string{"-log-format", "xml"}); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Fatalf("a bad log format: %v", err)
	}
	if _, err := parseServe([]string{"-listen", "127.0.0.1:9", "-metrics-listen", "127.0.0.1:9"}); err == nil ||
		!strings.Contains(err.Error(), "never served on the public port") {
		t.Fatalf("metrics on the public port: %v", err)
	}
	t.Setenv("HOST_METRICS_LISTEN", "127.0.0.1:9100")
	t.Setenv("HOST_LOG_FORMAT", "json")
	if f, err := parseServe(nil); err != nil || f.metricsListen != "127.0.0.1:9100" || f.logFormat != "json" {
		t.Fatalf("from the environment: %+v %v", f, err)
	}
}

// -forward-auth-listen is never the public port nor the metrics', is set by its variable, and
// the address the admin page shows a proxy is the listener's, loopback for every interface.
func TestForwardAuthListenChecked(t *testing.T) {
	for _, args := range [][]string{
		{"-listen", "127.0.0.1:9", "-forward-auth-listen", "127.0.0.1:9"},
		{"-metrics-listen", "127.0.0.1:9", "-forward-auth-listen", "127.0.0.1:9"},
	} {
		if _, err := parseServe(args); err == nil || !strings.Contains(err.Error(), "-forward-auth-listen must differ") {
			t.Errorf("%v: %v", args, err)
		}
	}
	t.Setenv("HOST_FORWARD_AUTH_LISTEN", "127.0.0.1:9091")
	if f, err := parseServe(nil); err != nil || f.forwardAuthListen != "127.0.0.1:9091" {
		t.Fatalf("from the environment: %+v %v", f, err)
	}
	for addr, want := range map[string]string{"127.0.0.1:9091": "http://127.0.0.1:9091", "10.0.0.5:8080": "http://10.0.0.5:8080",
		"0.0.0.0:9091": "http://127.0.0.1:9091", "[::]:9091": "http://127.0.0.1:9091", "[::1]:9091": "http://[::1]:9091"} {
		if got := proxyURL(addr); got == nil || got.String() != want {
			t.Errorf("proxyURL(%q) = %v, want %s", addr, got, want)
		}
	}
}

// -remember-lifetime (30 days) and -idle-timeout (off) reach the app's config, from their
// variables too; an idle timeout under 5 minutes or a remember lifetime under an hour is refused.
func TestRememberLifetimeAndIdleTimeout(t *testing.T) {
	f, err := parseServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := f.config(hclog.NewNullLogger()); err != nil || cfg.RememberLifetime != 30*24*time.Hour || cfg.IdleTimeout != 0 {
		t.Fatalf("the defaults: %v %v %v", cfg.RememberLifetime, cfg.IdleTimeout, err)
	}
	for _, args := range [][]string{{"-idle-timeout", "1m"}, {"-remember-lifetime", "10m"}} {
		f, err := parseServe(args)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.config(hclog.NewNullLogger()); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	t.Setenv("HOST_REMEMBER_LIFETIME", "168h")
	t.Setenv("HOST_IDLE_TIMEOUT", "30m")
	f, err = parseServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := f.config(hclog.NewNullLogger()); err != nil || cfg.RememberLifetime != 168*time.Hour || cfg.IdleTimeout != 30*time.Minute {
		t.Fatalf("from the environment: %v %v %v", cfg.RememberLifetime, cfg.IdleTimeout, err)
	}
}
