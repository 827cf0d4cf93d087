package sourcetest

import (
	"context"
	"testing"

	"github.com/plexlogin/plexlogin/shared/source"
)

// testGlobalSubject (contract 1.6): a plugin that declares its subjects global gives the
// same subject for the same upstream account through two sources of its own; the fixture
// comes only with the declaration.
func testGlobalSubject(t *testing.T, ctx context.Context, f Fixtures, d source.Descriptor, inst source.Instance) {
	if !d.Has(source.CapGlobalSubject) {
		if f.OtherSource != nil {
			t.Errorf("the fixtures give another source but the plugin does not declare %q", source.CapGlobalSubject)
		}
		return
	}
	if f.OtherSource == nil || f.Login == nil {
		t.Fatalf("the plugin declares %q but the fixtures give no OtherSource or Login", source.CapGlobalSubject)
	}
	other, err := f.OtherSource(ctx, f.Source, inst)
	if err != nil {
		t.Fatalf("the other source: %v", err)
	}
	if other.ID == inst.ID || string(other.Config) == string(inst.Config) {
		t.Fatalf("the other source must be another instance with its own config (id %q)", other.ID)
	}
	one, err := f.Login(ctx, f.Source, inst, nil)
	if err != nil {
		t.Fatalf("login through the first source: %v", err)
	}
	two, err := f.Login(ctx, f.Source, other, nil)
	if err != nil {
		t.Fatalf("login through the other source: %v", err)
	}
	if one.Subject == "" || one.Subject != two.Subject {
		t.Errorf("declared %q, but one account has the subjects %q and %q in two sources", source.CapGlobalSubject, one.Subject, two.Subject)
	}
}
