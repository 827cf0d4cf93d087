package loader_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
	"github.com/plexlogin/plexlogin/shared/pluginrpc"
	"github.com/plexlogin/plexlogin/shared/source"
)

var mockManifest string

func TestMain(m *testing.M) {
	if manifest := os.Getenv(hostHelperEnv); manifest != "" {
		runHostHelper(manifest)
	}
	loadertest.Main(m, func(dir string) (err error) {
		mockManifest, err = loadertest.BuildMock(dir)
		return err
	})
}

func start(t *testing.T, opts loader.Options) *loader.Plugin {
	t.Helper()
	p, err := loader.Load(mockManifest, opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func validInstance(t *testing.T, p source.Source) source.Instance {
	t.Helper()
	cfg, err := p.ValidateConfig(context.Background(), source.Instance{ID: "a", ConfigVersion: 1, Config: json.RawMessage(`{"api_key":"k"}`)})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	return source.Instance{ID: "a", ConfigVersion: 1, Config: cfg}
}

func TestEveryCallOverGRPC(t *testing.T) {
	ctx := context.Background()
	p := start(t, loader.Options{})
	if err := p.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	d, err := p.Describe(ctx)
	if err != nil || d.ID != "mock" || !d.Has(source.CapActions) {
		t.Fatalf("describe: %+v %v", d, err)
	}
	inst := validInstance(t, p)
	var cfg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(inst.Config, &cfg); err != nil || len(cfg.ClientID) != 32 {
		t.Fatalf("generated client id missing from normalized config: %s", inst.Config)
	}
	st, err := p.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: "http://127.0.0.1:9/cb"})
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	code := strings.SplitN(st.RedirectURL, "code=", 2)[1]
	id, err := p.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, CallbackQuery: map[string]string{"code": code, "user": "bob"}})
	if err != nil || id.Subject != "mock-bob" || !id.Decision.Allowed || string(id.RevalidationState) != "bob" {
		t.Fatalf("complete: %+v %v", id, err)
	}
	if _, err := p.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, CallbackQuery: map[string]string{"code": code}}); source.KindOf(err) != source.KindReplayed {
		t.Fatalf("second completion: %v, want replayed", err)
	}
	st, _ = p.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: "http://127.0.0.1:9/cb"})
	code = strings.SplitN(st.RedirectURL, "code=", 2)[1]
	id, err = p.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, CallbackQuery: map[string]string{"code": code, "step": "1", "user": "dan"}})
	if err != nil || id.Step == nil || len(id.Step.Choices) != 2 || !id.Step.Fields[0].Secret || id.Subject != "" {
		t.Fatalf("step: %+v %v", id, err)
	}
	again, err := p.ContinueLogin(ctx, inst, source.ContinueLogin{State: id.Step.State, Choice: "blue", Values: map[string]string{"code": "1"}})
	if err != nil || again.Step == nil || again.Step.Error == "" {
		t.Fatalf("wrong code: %+v %v", again, err)
	}
	done, err := p.ContinueLogin(ctx, inst, source.ContinueLogin{State: again.Step.State, Choice: "blue", Values: map[string]string{"code": "42"}})
	if err != nil || done.Subject != "mock-dan" || done.Groups[len(done.Groups)-1] != "colour-blue" {
		t.Fatalf("step answered: %+v %v", done, err)
	}
	if _, err := p.PasswordLogin(ctx, inst, source.Credentials{Login: "otp-user", Password: "secret"}); source.KindOf(err) != source.KindSecondFactorRequired {
		t.Fatalf("password without otp: %v", err)
	}
	if id, err := p.PasswordLogin(ctx, inst, source.Credentials{Login: "otp-user", Password: "secret", OTP: "000000"}); err != nil || id.Subject != "mock-otp-user" {
		t.Fatalf("password with otp: %v", err)
	}
	rv, err := p.Revalidate(ctx, inst, source.RevalidateRequest{Subject: "mock-x", State: []byte("revoked")})
	if err != nil || rv.Status != source.RevalidationRevoked {
		t.Fatalf("revalidate: %+v %v", rv, err)
	}
	res, err := p.RunAction(ctx, inst, source.ActionRequest{ActionID: "connect", CallbackURL: "http://127.0.0.1:9/action"})
	if err != nil || res.Redirect == nil {
		t.Fatalf("action step 1: %+v %v", res, err)
	}
	nonce := strings.SplitN(res.Redirect.URL, "code=", 2)[1]
	res, err = p.RunAction(ctx, inst, source.ActionRequest{ActionID: "connect", State: res.Redirect.State, CallbackQuery: map[string]string{"code": nonce}})
	if err != nil || res.Choices == nil || len(res.Choices.Options) != 2 || string(res.Choices.Patch) != `{"api_key":"from-connect"}` {
		t.Fatalf("action step 2: %+v %v", res, err)
	}
	pr, err := p.PreviewMapping(ctx, inst, source.PreviewRequest{Mappings: json.RawMessage(`{"groups":["x"]}`), Sample: json.RawMessage(`{"user":"carol"}`)})
	if err != nil || pr.Identity.Subject != "mock-carol" || len(pr.Identity.Groups) != 2 {
		t.Fatalf("preview: %+v %v", pr, err)
	}
}

func TestKillBetweenBeginAndComplete(t *testing.T) {
	ctx := context.Background()
	p := start(t, loader.Options{})
	inst := validInstance(t, p)
	st, err := p.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: "http://127.0.0.1:9/cb"})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	if pid == 0 {
		t.Fatal("no pid")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	code := strings.SplitN(st.RedirectURL, "code=", 2)[1]
	id, err := p.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, CallbackQuery: map[string]string{"code": code}})
	if err != nil {
		t.Fatalf("complete after kill -9: %v", err)
	}
	if id.Subject != "mock-alice" {
		t.Fatalf("subject %q", id.Subject)
	}
	if p.Restarts() != 1 || p.Pid() == pid || p.Pid() == 0 {
		t.Fatalf("restarts %d, pid %d (was %d)", p.Restarts(), p.Pid(), pid)
	}
}

func TestKillWithoutNoticeRetriesOnTransportError(t *testing.T) {
	// Kill the process and call at once, before go-plugin notices the exit: the call fails on
	// the transport, and the loader must restart and retry.
	ctx := context.Background()
	p := start(t, loader.Options{})
	pid := p.Pid()
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if err := p.Ping(ctx); err != nil {
		t.Fatalf("ping after kill: %v", err)
	}
	if p.Pid() == pid {
		t.Fatal("still the old process")
	}
}

func copyManifest(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(mockManifest)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, _ := json.Marshal(m)
	path := filepath.Join(filepath.Dir(mockManifest), "edited-"+t.Name()+".json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestChecksumMismatchRefused(t *testing.T) {
	path := copyManifest(t, func(m map[string]any) {
		sums := m["checksums"].(map[string]any)
		for k := range sums {
			sums[k] = strings.Repeat("0", 64)
		}
	})
	_, err := loader.Load(path, loader.Options{})
	if err == nil {
		t.Fatal("loaded a plugin whose checksum does not match")
	}
	if !strings.Contains(err.Error(), "mock-source_") || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("error does not name the file and the mismatch: %v", err)
	}
}

func TestManifestWithoutChecksumRefused(t *testing.T) {
	path := copyManifest(t, func(m map[string]any) { delete(m, "checksums") })
	_, err := loader.Load(path, loader.Options{})
	if err == nil || !strings.Contains(err.Error(), "no checksum") {
		t.Fatalf("got %v, want a refusal for the missing checksum", err)
	}
}

func TestHostEnvironmentNotInherited(t *testing.T) {
	t.Setenv("HOST_ONLY_SECRET", "hunter2")
	t.Setenv(loadertest.MockEnv, "http://127.0.0.1:1") // declared by the mock's manifest
	t.Setenv("PLEX_TV_URL", "http://127.0.0.1:2")      // another plugin's variable, not declared
	t.Setenv("MOCK_UNDECLARED", "x")                   // under the mock's prefix, not declared
	p := start(t, loader.Options{})
	inst := validInstance(t, p)
	for name, want := range map[string]string{"HOST_ONLY_SECRET": "<unset>", loadertest.MockEnv: "http://127.0.0.1:1",
		"PLEX_TV_URL": "<unset>", "MOCK_UNDECLARED": "<unset>"} {
		res, err := p.RunAction(context.Background(), inst, source.ActionRequest{ActionID: "env", Input: json.RawMessage(`{"name":"` + name + `"}`)})
		if err != nil || res.Message == nil {
			t.Fatalf("env action: %v", err)
		}
		if res.Message.Text != want {
			t.Errorf("%s in plugin = %q, want %q", name, res.Message.Text, want)
		}
	}
}

func TestManifestEnvDeclarationsChecked(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"PLEX_TV_URL"}, `"PLEX_TV_URL" is not under the plugin's prefix MOCK_`},
		{[]string{"HOST_ADMIN_PASSWORD"}, `"HOST_ADMIN_PASSWORD" belongs to the host or the loader`},
		{[]string{"FEDSOURCE_PLUGIN_COOKIE"}, `"FEDSOURCE_PLUGIN_COOKIE" belongs to the host or the loader`},
		{[]string{"PATH"}, `"PATH" belongs to the host or the loader`},
		{[]string{"MOCK_A=B"}, `"MOCK_A=B" is not a valid environment variable name`},
		{[]string{""}, `"" is not a valid environment variable name`},
		{[]string{"MOCK_"}, `"MOCK_" is not under the plugin's prefix MOCK_`},
		{[]string{"MOCK_A", "MOCK_A"}, `"MOCK_A" is declared twice`},
	} {
		path := copyManifest(t, func(m map[string]any) { m["env"] = tc.env })
		_, err := loader.ReadManifest(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %q: got %v, want an error with %s", tc.env, err, tc.want)
		}
		m := loadertest.Manifest("mock", "mock-source")
		m.Env = tc.env
		if _, err := loader.WriteSigned(&m, t.TempDir()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %q: WriteSigned got %v, want an error with %s", tc.env, err, tc.want)
		}
	}
	m, err := loader.ReadManifest(mockManifest)
	if err != nil || !slices.Equal(m.Env, []string{loadertest.MockEnv}) {
		t.Fatalf("mock manifest env = %v (%v), want [%s]", m.Env, err, loadertest.MockEnv)
	}
}

// A manifest built in code is held to ReadManifest's rules before its plugin starts.
func TestStartChecksTheManifest(t *testing.T) {
	good, err := loader.ReadManifest(mockManifest)
	if err != nil {
		t.Fatal(err)
	}
	for want, edit := range map[string]func(m *loader.Manifest){
		`"PLEX_TV_URL" is not under the plugin's prefix MOCK_`: func(m *loader.Manifest) { m.Env = []string{"PLEX_TV_URL"} },
		`must be a bare file name`:                             func(m *loader.Manifest) { m.Executable = "../mock-source" },
	} {
		m := *good
		edit(&m)
		if p, err := loader.Start(&m, loader.Options{}); err == nil || !strings.Contains(err.Error(), want) {
			if p != nil {
				p.Close()
			}
			t.Errorf("got %v, want an error with %s", err, want)
		}
	}
}

func executable(t *testing.T) string {
	m, err := loader.ReadManifest(mockManifest)
	if err != nil {
		t.Fatal(err)
	}
	return m.ExecutablePath()
}

func TestRunByHandRefuses(t *testing.T) {
	cmd := exec.Command(executable(t))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want exit status 1", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout not empty: %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "This binary is a plugin") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

var handshakeRE = regexp.MustCompile(`^1\|1\|(unix|tcp)\|[^|]+\|grpc\|`)

func handshakeLine(t *testing.T, env ...string) string {
	t.Helper()
	cmd := exec.Command(executable(t))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), pluginrpc.MagicCookieKey + "=" + pluginrpc.MagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS=1"}, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading handshake: %v", err)
	}
	return strings.TrimRight(line, "\n")
}

func TestHandshakeLine(t *testing.T) {
	line := handshakeLine(t)
	if !handshakeRE.MatchString(line) {
		t.Fatalf("handshake %q does not match %s", line, handshakeRE)
	}
}

func TestHandshakeOffersServerCertificateForMTLS(t *testing.T) {
	// With a client certificate in the environment (as the host's AutoMTLS sets it) the
	// plugin answers with its own certificate as the handshake's sixth field.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	line := handshakeLine(t, "PLUGIN_CLIENT_CERT="+string(pemCert))
	parts := strings.Split(line, "|")
	if len(parts) < 6 || parts[5] == "" {
		t.Fatalf("no server certificate in handshake %q", line)
	}
	raw, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		t.Fatalf("certificate field: %v", err)
	}
	if _, err := x509.ParseCertificate(raw); err != nil {
		t.Fatalf("certificate does not parse: %v", err)
	}
}
