package main_test

import (
	"sort"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
)

// BenchmarkLoginCalls runs full PIN logins through the plugin process against the simulator
// and reports plex.tv requests per login by endpoint, cold (owner lists cached, resources
// asked) and warm (a fresh owner share list stands in for resources).
func BenchmarkLoginCalls(b *testing.B) {
	for _, tc := range []struct{ name, extra string }{
		{"cold", ""},
		{"warm", `,"member_cache_freshness_seconds":600`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b)
			inst := e.membersConfig(tc.extra)
			if _, err := e.login(inst, "friend"); err != nil { // fills the owner-side cache
				b.Fatal(err)
			}
			e.sim.ResetCounts()
			samples := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := e.login(inst, "friend"); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
			}
			b.StopTimer()
			total := 0
			for ep, n := range e.sim.Counts() {
				b.ReportMetric(float64(n)/float64(b.N), ep+"/login")
				total += n
			}
			b.ReportMetric(float64(total)/float64(b.N), "plextv-calls/login")
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkStart splits a plugin start into checksum, exec→handshake and first call,
// and reports the idle RSS of the process.
func BenchmarkStart(b *testing.B) { loadertest.BenchStart(b, manifestPath) }
