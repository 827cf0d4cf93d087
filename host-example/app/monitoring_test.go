package app_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// monitoringDir holds the dashboard and the alerts the docs ship.
const monitoringDir = "../../docs/monitoring"

// promtool is Debian's promtool (package prometheus): the test skips without it, and fails
// under CI=1, where .ci/run installs it.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is missing (apt-get install prometheus): the alerts cannot be checked")
		}
		t.Skip("promtool is missing (apt-get install prometheus)")
	}
	return path
}

// runPromtool runs promtool with args in dir and fails the test on an error.
func runPromtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("promtool %s: %s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
}

// The alerts are valid rules, and their unit tests (alerts_test.yml) pass: each fires when it
// should and stays quiet beside it.
func TestAlertRules(t *testing.T) {
	runPromtool(t, monitoringDir, "check", "rules", "alerts.yml")
	runPromtool(t, monitoringDir, "test", "rules", "alerts_test.yml")
}

// dashboardQueries are the PromQL expressions of the dashboard's panels, with Grafana's
// variables given values.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(monitoringDir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	vars := strings.NewReplacer("$instance", ".*", "$__rate_interval", "5m", "$__range", "1h")
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, vars.Replace(tg.Expr))
		}
	}
	if len(out) < 10 {
		t.Fatalf("the dashboard has %d queries", len(out))
	}
	return out
}

// Every query of the dashboard is PromQL that Prometheus parses (promtool reads them as
// recording rules).
func TestDashboardQueriesParse(t *testing.T) {
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, q := range dashboardQueries(t) {
		e, _ := json.Marshal(q) // a JSON string is a YAML string
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %s\n", i, e)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard.yml"), []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, dir, "check", "rules", "dashboard.yml")
}

// metricName is a name of the host's metrics (or of Go's and the process's) in a text.
var metricName = regexp.MustCompile(`\b(?:hostexample|go|process)_[a-z0-9_]*[a-z0-9]\b`)

// Every metric the dashboard, the alerts, their tests and docs/monitoring.md name is one a
// running host exports (a histogram by its _bucket, _sum and _count series).
func TestMonitoringNamesExportedMetrics(t *testing.T) {
	h, _ := signedInHost(t, nil) // a sign-in: its histogram has a series
	// Two families show only when their event happened: a hand-over of a credential (the Plex
	// Web bridge, tested in forwardauth), and the change feed of a shared database
	// (PostgreSQL, tested in store). Their names come from the host's registry all the same.
	h.App.Metrics.HandedOver("test.kind", "yes")
	h.App.Metrics.WatchFeed(func() bool { return true })
	types := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`).FindAllStringSubmatch(scrape(t, h), -1) {
		types[m[1]] = m[2]
	}
	exported := func(name string) bool {
		if types[name] != "" {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && (types[base] == "histogram" || (suffix != "_bucket" && types[base] == "summary")) {
				return true
			}
		}
		return false
	}
	for _, file := range []string{"monitoring/grafana-dashboard.json", "monitoring/alerts.yml", "monitoring/alerts_test.yml", "monitoring.md"} {
		b, err := os.ReadFile(filepath.Join(monitoringDir, "..", file))
		if err != nil {
			t.Fatal(err)
		}
		names := metricName.FindAllString(string(b), -1)
		if len(names) < 5 {
			t.Errorf("docs/%s names %d metrics", file, len(names))
		}
		for _, n := range names {
			if !exported(n) {
				t.Errorf("docs/%s names %s, which the host does not export", file, n)
			}
		}
	}
	for _, want := range []string{"hostexample_signin_seconds", "hostexample_rate_limited_total", "hostexample_live_sessions"} {
		if types[want] == "" {
			t.Errorf("%s not exported", want)
		}
	}
}
