package containertest

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// compose is what the test reads of docs/container/compose.yaml.
type compose struct {
	Services map[string]struct {
		Image       string
		Environment map[string]string
		Volumes     []string
		Secrets     []string
		Ports       []string
		Networks    []string
		Healthcheck struct{ Test []string }
	}
	Networks map[string]struct {
		IPAM struct {
			Config []struct{ Subnet string }
		} `yaml:"ipam"`
	}
	Secrets map[string]struct{ File string }
}

// hostVariables are the HOST_* variables host-example reads: the names in its command's
// source (envflags binds each flag to one; secrets also come from NAME_FILE).
func hostVariables(t *testing.T) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(moduleRoot(), "host-example", "*.go"))
	vars := map[string]bool{}
	re := regexp.MustCompile(`"(HOST_[A-Z0-9_]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			vars[string(m[1])] = true
		}
	}
	if !vars["HOST_PUBLIC_URL"] || !vars["HOST_ADMIN_PASSWORD"] {
		t.Fatalf("no HOST_* variables found in host-example's source: %v", vars)
	}
	return vars
}

// TestComposeExample parses docs/container/compose.yaml: every HOST_* it sets is one
// host-example reads; every path it mounts in a container, and every file it mounts from
// beside it, is one docs/container.md names (and the files exist); host-example publishes no
// port and trusts exactly the subnet of the network it shares with Caddy, which the app is
// not on; its healthcheck is the image's; and the Caddyfile is one Caddy reads.
func TestComposeExample(t *testing.T) {
	dir := filepath.Join(moduleRoot(), "docs", "container")
	b, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join(moduleRoot(), "docs", "container.md"))
	if err != nil {
		t.Fatal(err)
	}
	named := func(p string) bool { return strings.Contains(string(doc), "`"+p+"`") }

	vars := hostVariables(t)
	hx, ok := c.Services["host-example"]
	if !ok {
		t.Fatal("no host-example service")
	}
	for _, name := range []string{"host-example", "caddy"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("no %s service", name)
		}
	}
	for svc, s := range c.Services {
		for v := range s.Environment {
			if strings.HasPrefix(v, "HOST_") && !vars[v] && !vars[strings.TrimSuffix(v, "_FILE")] {
				t.Errorf("%s sets %s, which host-example does not read", svc, v)
			}
		}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) < 2 {
				t.Errorf("%s: volume %q has no container path", svc, v)
				continue
			}
			if !named(parts[1]) {
				t.Errorf("%s mounts %s, which docs/container.md does not name", svc, parts[1])
			}
			if strings.HasPrefix(parts[0], "./") {
				if _, err := os.Stat(filepath.Join(dir, parts[0])); err != nil {
					t.Errorf("%s mounts %s, which is not beside compose.yaml: %v", svc, parts[0], err)
				}
				if !named(parts[0]) {
					t.Errorf("%s mounts %s, which docs/container.md does not name", svc, parts[0])
				}
			}
		}
		for _, s := range s.Secrets {
			if p := "/run/secrets/" + s; !named(p) {
				t.Errorf("%s mounts the secret %s, which docs/container.md does not name", svc, p)
			}
		}
	}
	for name, s := range c.Secrets {
		if !named(s.File) {
			t.Errorf("secret %s comes from %s, which docs/container.md does not name", name, s.File)
		}
	}
	if len(hx.Ports) > 0 {
		t.Errorf("host-example publishes %v: only Caddy should reach it", hx.Ports)
	}
	if !slices.Equal(hx.Healthcheck.Test, []string{"CMD", "/app/host-example", "healthcheck"}) {
		t.Errorf("healthcheck %v is not the image's", hx.Healthcheck.Test)
	}
	for _, v := range []string{"HOST_PUBLIC_URL", "HOST_COOKIE_DOMAIN", "HOST_TRUSTED_PROXIES"} {
		if hx.Environment[v] == "" {
			t.Errorf("host-example sets no %s", v)
		}
	}

	// The trusted proxies are the subnet of the one network host-example shares with Caddy, and
	// no other service is on it.
	if len(hx.Networks) != 1 {
		t.Fatalf("host-example is on %v, want one network, shared with Caddy only", hx.Networks)
	}
	edge := hx.Networks[0]
	var subnets []string
	for _, cfg := range c.Networks[edge].IPAM.Config {
		subnets = append(subnets, cfg.Subnet)
	}
	if got := strings.Split(hx.Environment["HOST_TRUSTED_PROXIES"], ","); !slices.Equal(got, subnets) {
		t.Errorf("HOST_TRUSTED_PROXIES %v, want the subnet of %s: %v", got, edge, subnets)
	}
	for _, s := range subnets {
		if _, err := netip.ParsePrefix(s); err != nil {
			t.Errorf("subnet %q: %v", s, err)
		}
	}
	for svc, s := range c.Services {
		if on := slices.Contains(s.Networks, edge); on != (svc == "host-example" || svc == "caddy") {
			t.Errorf("%s on %s: %v; want only host-example and Caddy there", svc, edge, on)
		}
	}

	caddy, err := exec.LookPath("caddy")
	if err != nil {
		if os.Getenv("CI") == "1" {
			t.Fatalf("CI=1 and no caddy to read the Caddyfile: %v", err)
		}
		t.Skipf("caddy is not installed: the Caddyfile is not checked (%v)", err)
	}
	if out, err := exec.Command(caddy, "adapt", "--config", filepath.Join(dir, "Caddyfile")).CombinedOutput(); err != nil {
		t.Errorf("caddy adapt docs/container/Caddyfile: %v: %s", err, out)
	}
}
