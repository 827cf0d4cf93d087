package mappings

import (
	"context"
	"testing"
)

func BenchmarkCompileDefaults(b *testing.B) {
	sets := MustDefault("plex")
	for i := 0; i < b.N; i++ {
		if _, errs := decl.Compile(sets); errs != nil {
			b.Fatal(errs)
		}
	}
}

func BenchmarkEvalDefaults(b *testing.B) {
	p, errs := decl.Compile(MustDefault("plex"))
	if errs != nil {
		b.Fatal(errs)
	}
	in := Input{Vars: map[string]any{"user": personas["owner"]}, Source: Source{ID: "s", Slug: "plex", Name: "Plex"}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Eval(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalDefaultsParallel8(b *testing.B) {
	p, errs := decl.Compile(MustDefault("plex"))
	if errs != nil {
		b.Fatal(errs)
	}
	in := Input{Vars: map[string]any{"user": personas["friend"]}}
	b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 goroutines
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Eval(context.Background(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
