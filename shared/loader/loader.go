package loader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/plexlogin/plexlogin/shared/pluginrpc"
	"github.com/plexlogin/plexlogin/shared/source"
)

// DefaultEnvAllowList is the loader's own part of the host environment every plugin sees; a
// plugin also sees the variables its manifest declares (Manifest.Env), and nothing else of the host's.
var DefaultEnvAllowList = []string{"PATH", "HOME", "TMPDIR", "FEDSOURCE_LOG_LEVEL"}

// Options tune a Plugin.
type Options struct {
	// Logger receives the plugin's logs; default a null logger.
	Logger hclog.Logger
	// EnvAllowList names the host variables passed to the plugin besides the ones its manifest
	// declares (Manifest.Env); default DefaultEnvAllowList.
	EnvAllowList []string
	// ExtraEnv is added to the plugin's environment as KEY=VALUE (for tests and the demo).
	ExtraEnv []string
	// StartTimeout bounds the handshake; default 10s.
	StartTimeout time.Duration
}

// StartTimings splits a plugin start into its parts.
type StartTimings struct {
	Checksum  time.Duration
	Handshake time.Duration
}

// Plugin is a started plugin behind the contract; it implements source.Full, restarting
// the process and retrying a call once when the process has died.
type Plugin struct {
	Manifest *Manifest
	opts     Options

	mu       sync.Mutex
	client   *plugin.Client
	src      source.Full
	restarts int
	timings  StartTimings
	// runDir is the host-owned 0700 folder holding the verified copy that runs.
	runDir string
	copyOf string
}

// beforeExec, when set (tests), runs between the checksum check and the start.
var beforeExec func(original string)

var _ source.Full = (*Plugin)(nil)

// Load reads the manifest at path and starts its plugin.
func Load(path string, opts Options) (*Plugin, error) {
	m, err := ReadManifest(path)
	if err != nil {
		return nil, err
	}
	return Start(m, opts)
}

// Start starts the plugin of a manifest, holding one built in code to ReadManifest's rules.
func Start(m *Manifest, opts Options) (*Plugin, error) {
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("manifest of %q: %w", m.ID, err)
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.EnvAllowList == nil {
		opts.EnvAllowList = DefaultEnvAllowList
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	p := &Plugin{Manifest: m, opts: opts}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.startLocked(); err != nil {
		if p.runDir != "" {
			os.RemoveAll(p.runDir)
		}
		return nil, err
	}
	return p, nil
}

// checkSum hashes r (copying it to w) and compares with want.
func checkSum(r io.Reader, path, want string, w io.Writer) error {
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(h, w), r); err != nil {
		return fmt.Errorf("plugin executable %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("plugin executable %s: sha256 %s does not match the manifest's %s: refusing to start it", path, got, want)
	}
	return nil
}

// privateCopy copies the executable at path into the host-owned 0700 folder dir, hashing
// the very bytes it copies: what runs is what was verified, whatever happens to path later.
func privateCopy(path, want, dir string) (string, error) {
	if err := notWritableByOthers(path); err != nil {
		return "", err
	}
	src, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("plugin executable: %w", err)
	}
	defer src.Close()
	dst, err := os.CreateTemp(dir, filepath.Base(path)+"-*")
	if err != nil {
		return "", fmt.Errorf("plugin copy: %w", err)
	}
	err = checkSum(src, path, want, dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(dst.Name(), 0o700)
	}
	if err != nil {
		os.Remove(dst.Name())
		return "", err
	}
	return dst.Name(), nil
}

// env is the plugin's environment: the allow-listed and declared host variables that are
// set, then ExtraEnv.
func (p *Plugin) env() []string {
	var env []string
	for _, k := range slices.Concat(p.opts.EnvAllowList, p.Manifest.Env) {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, p.opts.ExtraEnv...)
}

func (p *Plugin) startLocked() error {
	m := p.Manifest
	want, err := m.Checksum()
	if err != nil {
		return err
	}
	path := m.ExecutablePath()
	t0 := time.Now()
	if p.runDir == "" {
		if p.runDir, err = os.MkdirTemp("", "fedsource-"+m.ID+"-"); err != nil {
			return fmt.Errorf("plugin run folder: %w", err)
		}
	}
	run, err := privateCopy(path, want, p.runDir)
	if err != nil {
		return err
	}
	if p.copyOf != "" {
		os.Remove(p.copyOf) // the previous process is gone
	}
	p.copyOf = run
	if beforeExec != nil {
		beforeExec(path)
	}
	sum, _ := hex.DecodeString(want)
	t1 := time.Now()
	versions := map[int]plugin.PluginSet{}
	for _, v := range m.Handshake.ProtocolVersions {
		if set, ok := pluginrpc.VersionedPlugins(nil)[v]; ok {
			versions[v] = set
		}
	}
	if len(versions) == 0 {
		return fmt.Errorf("plugin %q speaks protocol versions %v; this host speaks %d", m.ID, m.Handshake.ProtocolVersions, source.ProtocolVersion)
	}
	cmd := exec.Command(run)
	cmd.Env = p.env()
	dieWithHost(cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  uint(source.ProtocolVersion),
			MagicCookieKey:   m.Handshake.MagicCookieKey,
			MagicCookieValue: m.Handshake.MagicCookieValue,
		},
		VersionedPlugins: versions,
		Cmd:              cmd,
		SkipHostEnv:      true,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           exitLogger{p.opts.Logger.Named(m.ID)},
		StartTimeout:     p.opts.StartTimeout,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return fmt.Errorf("start plugin %q (%s): %w", m.ID, path, err)
	}
	raw, err := rpc.Dispense(pluginrpc.PluginName)
	if err != nil {
		client.Kill()
		return fmt.Errorf("dispense plugin %q: %w", m.ID, err)
	}
	src, ok := raw.(source.Full)
	if !ok {
		client.Kill()
		return fmt.Errorf("plugin %q: unexpected client type %T", m.ID, raw)
	}
	p.client, p.src = client, src
	p.timings = StartTimings{Checksum: t1.Sub(t0), Handshake: time.Since(t1)}
	return nil
}

// Timings reports how long the last start took, by part.
func (p *Plugin) Timings() StartTimings {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.timings
}

// Restarts counts how often the plugin process was started again.
func (p *Plugin) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Pid is the process id of the running plugin, 0 when none runs.
func (p *Plugin) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil || p.client.Exited() {
		return 0
	}
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Kill stops the plugin process; later calls start it again.
func (p *Plugin) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		p.client.Kill()
	}
}

// current returns a live client: the running one unless it has exited or is the stale one a
// call just failed on, in which case it starts a new process (another caller may have done so already).
func (p *Plugin) current(stale source.Full) (source.Full, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil && !p.client.Exited() && (stale == nil || p.src != stale) {
		return p.src, nil
	}
	if p.client != nil {
		p.client.Kill()
	}
	p.restarts++
	p.opts.Logger.Warn("plugin process gone, starting it again", "plugin", p.Manifest.ID, "restarts", p.restarts)
	if err := p.startLocked(); err != nil {
		return nil, err
	}
	return p.src, nil
}

func (p *Plugin) live() source.Full {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil || p.client.Exited() {
		return nil
	}
	return p.src
}

// call runs fn against the plugin; if the process is gone or the transport fails, it starts
// a new process (checksum checked again) and retries once.
func call[T any](p *Plugin, fn func(source.Full) (T, error)) (T, error) {
	src := p.live()
	if src == nil {
		var err error
		if src, err = p.current(nil); err != nil {
			var zero T
			return zero, unavailable(err)
		}
	}
	out, err := fn(src)
	if err == nil || !pluginrpc.IsTransport(err) {
		return out, err
	}
	src2, rerr := p.current(src)
	if rerr != nil {
		var zero T
		return zero, unavailable(errors.Join(err, rerr))
	}
	out, err = fn(src2)
	if err != nil && pluginrpc.IsTransport(err) {
		// Died again: tell the caller to try later rather than fail untyped.
		return out, unavailable(err)
	}
	return out, err
}

func unavailable(err error) error {
	return &source.Error{Kind: source.KindUpstreamUnavailable, ReasonCode: "plugin_unavailable", Retryable: true,
		UserText: "The login service is restarting. Please try again.", AdminDetail: err.Error()}
}

// Close kills the plugin process and removes its private copy.
func (p *Plugin) Close() {
	p.Kill()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runDir != "" {
		os.RemoveAll(p.runDir)
		p.runDir, p.copyOf = "", ""
	}
}

// Ping is a no-op round trip.
func (p *Plugin) Ping(ctx context.Context) error {
	_, err := call(p, func(s source.Full) (struct{}, error) { return struct{}{}, s.Ping(ctx) })
	return err
}

// Describe tells who the plugin is.
func (p *Plugin) Describe(ctx context.Context) (source.Descriptor, error) {
	return call(p, func(s source.Full) (source.Descriptor, error) { return s.Describe(ctx) })
}

// ValidateConfig checks and normalizes a config.
func (p *Plugin) ValidateConfig(ctx context.Context, inst source.Instance) (json.RawMessage, error) {
	return call(p, func(s source.Full) (json.RawMessage, error) { return s.ValidateConfig(ctx, inst) })
}

// ConfigWarnings lists warnings about a valid config; none (ErrUnimplemented) from a plugin
// that does not give any.
func (p *Plugin) ConfigWarnings(ctx context.Context, inst source.Instance) ([]source.FieldError, error) {
	return call(p, func(s source.Full) ([]source.FieldError, error) {
		w, ok := s.(source.Warner)
		if !ok {
			return nil, source.ErrUnimplemented
		}
		return w.ConfigWarnings(ctx, inst)
	})
}

// RevokeCredential signs a handed-over credential out upstream (ErrUnimplemented from a
// plugin that cannot).
func (p *Plugin) RevokeCredential(ctx context.Context, inst source.Instance, c source.Credential) error {
	_, err := call(p, func(s source.Full) (struct{}, error) {
		r, ok := s.(source.CredentialRevoker)
		if !ok {
			return struct{}{}, source.ErrUnimplemented
		}
		return struct{}{}, r.RevokeCredential(ctx, inst, c)
	})
	return err
}

// RenewSourceCredentials renews a source's expiring credentials (ErrUnimplemented from a
// plugin that has none to renew, or is older than contract 1.4).
func (p *Plugin) RenewSourceCredentials(ctx context.Context, inst source.Instance) (source.Renewal, error) {
	return call(p, func(s source.Full) (source.Renewal, error) {
		r, ok := s.(source.Renewer)
		if !ok {
			return source.Renewal{}, source.ErrUnimplemented
		}
		return r.RenewSourceCredentials(ctx, inst)
	})
}

// BeginLogin starts a redirect login.
func (p *Plugin) BeginLogin(ctx context.Context, inst source.Instance, req source.BeginLogin) (source.LoginStart, error) {
	return call(p, func(s source.Full) (source.LoginStart, error) { return s.BeginLogin(ctx, inst, req) })
}

// CompleteLogin finishes a redirect login.
func (p *Plugin) CompleteLogin(ctx context.Context, inst source.Instance, req source.CompleteLogin) (source.Identity, error) {
	return call(p, func(s source.Full) (source.Identity, error) { return s.CompleteLogin(ctx, inst, req) })
}

// ContinueLogin answers a login step.
func (p *Plugin) ContinueLogin(ctx context.Context, inst source.Instance, req source.ContinueLogin) (source.Identity, error) {
	return call(p, func(s source.Full) (source.Identity, error) { return s.ContinueLogin(ctx, inst, req) })
}

// PasswordLogin logs in with credentials.
func (p *Plugin) PasswordLogin(ctx context.Context, inst source.Instance, cred source.Credentials) (source.Identity, error) {
	return call(p, func(s source.Full) (source.Identity, error) { return s.PasswordLogin(ctx, inst, cred) })
}

// Revalidate re-checks an earlier identity.
func (p *Plugin) Revalidate(ctx context.Context, inst source.Instance, req source.RevalidateRequest) (source.Revalidation, error) {
	return call(p, func(s source.Full) (source.Revalidation, error) { return s.Revalidate(ctx, inst, req) })
}

// RunAction runs an admin action.
func (p *Plugin) RunAction(ctx context.Context, inst source.Instance, req source.ActionRequest) (source.ActionResult, error) {
	return call(p, func(s source.Full) (source.ActionResult, error) { return s.RunAction(ctx, inst, req) })
}

// PreviewMapping evaluates draft mappings.
func (p *Plugin) PreviewMapping(ctx context.Context, inst source.Instance, req source.PreviewRequest) (source.PreviewResult, error) {
	return call(p, func(s source.Full) (source.PreviewResult, error) { return s.PreviewMapping(ctx, inst, req) })
}

// String names the plugin.
func (p *Plugin) String() string {
	return strings.TrimSpace(p.Manifest.ID + " " + p.Manifest.Info.Version)
}
