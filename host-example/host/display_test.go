package host_test

import (
	"context"
	"errors"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's display edit is cleaned and checked: a picture only an http(s) address, an
// e-mail apps can receive.
func TestSetDisplayRefusals(t *testing.T) {
	w := newPeopleWorld(t)
	ctx := context.Background()
	for _, d := range []store.Display{{Picture: "javascript:alert(1)"}, {Picture: "/relative.png"}, {Email: "a b@example.org"}, {Email: "nobody"}} {
		if _, err := w.people.SetDisplay(ctx, w.frank, d); !errors.Is(err, host.ErrBadPicture) && !errors.Is(err, host.ErrBadEmail) {
			t.Errorf("%+v: %v, want a refusal", d, err)
		}
	}
	if changed, err := w.people.SetDisplay(ctx, w.frank, store.Display{Name: " Frank F. ", Picture: "https://example.org/f.png"}); err != nil || !changed {
		t.Fatalf("a good edit: %v %v", changed, err)
	}
	if u, _ := w.people.Get(ctx, w.frank.ID); u.Name != "Frank F." || u.Picture != "https://example.org/f.png" {
		t.Fatalf("after the edit: %+v", u)
	}
}
