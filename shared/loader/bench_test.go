package loader_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/shared/loader"
	"github.com/plexlogin/plexlogin/shared/loader/loadertest"
	"github.com/plexlogin/plexlogin/shared/mock"
	"github.com/plexlogin/plexlogin/shared/source"
)

// reportPercentiles adds p50 and p99 of the samples (benchstat compares means only).
func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(d[(len(d)*99)/100].Nanoseconds()), "p99-ns")
}

func BenchmarkPingOverPlugin(b *testing.B) {
	p, err := loader.Load(mockManifest, loader.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := p.Ping(ctx); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

func loginLoop(b *testing.B, s source.Source) {
	ctx := context.Background()
	cfg, err := s.ValidateConfig(ctx, source.Instance{ID: "b", Config: json.RawMessage(`{"api_key":"k"}`)})
	if err != nil {
		b.Fatal(err)
	}
	inst := source.Instance{ID: "b", ConfigVersion: 1, Config: cfg}
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		st, err := s.BeginLogin(ctx, inst, source.BeginLogin{CallbackURL: "http://127.0.0.1:9/cb"})
		if err != nil {
			b.Fatal(err)
		}
		code := strings.SplitN(st.RedirectURL, "code=", 2)[1]
		if _, err := s.CompleteLogin(ctx, inst, source.CompleteLogin{State: st.State, CallbackQuery: map[string]string{"code": code}}); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkLogin compares begin+complete over the plugin boundary with the same code in-process.
func BenchmarkLogin(b *testing.B) {
	b.Run("in-process", func(b *testing.B) { loginLoop(b, mock.New()) })
	b.Run("plugin", func(b *testing.B) {
		p, err := loader.Load(mockManifest, loader.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		loginLoop(b, p)
	})
}

// BenchmarkStart splits a plugin start into checksum, exec→handshake and first call,
// and reports the idle RSS of the process.
func BenchmarkStart(b *testing.B) { loadertest.BenchStart(b, mockManifest) }
