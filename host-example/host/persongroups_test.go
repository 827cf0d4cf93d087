package host_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// A group the admin gives is kept across the person's logins and admits to apps (the
// profile's apps: the one gate); a name apps could not receive whole is refused. Taking away
// the admin-set group the last source admin signed in with, while the local password is off,
// is refused, and so is turning off their source.
func TestAdminGroupKeptAndTheLastWayIn(t *testing.T) {
	w := newPeopleWorld(t)
	ctx := context.Background()
	adm := host.NewAdmin(w.st, nil)
	for _, bad := range []string{"a,b", "tab\there", "zero\u200bwidth", " "} {
		if _, err := w.people.ChangeAdminGroup(ctx, w.frank, host.GroupChange{Add: bad}, host.Proof{}); !errors.Is(err, host.ErrBadGroup) {
			t.Errorf("the group %q: %v, want ErrBadGroup", bad, err)
		}
	}
	if changed, err := w.people.ChangeAdminGroup(ctx, w.frank, host.GroupChange{Add: "staff"}, host.Proof{}); err != nil || !changed {
		t.Fatalf("give staff: %v %v", changed, err)
	}
	if _, err := w.st.FinishLogin(ctx, store.User{SourceID: w.src.ID, Subject: "42", Username: "frank", Groups: []string{"friends"}},
		store.Event{SourceID: w.src.ID, Kind: store.EventLoginAllowed, Subject: "42"}, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	frank, _ := w.people.Get(ctx, w.frank.ID)
	if !frank.HasGroupFrom("staff", store.FromAdmin) || !frank.HasGroupFrom("friends", w.src.ID) {
		t.Fatalf("after a login: %+v", frank.Memberships)
	}
	prof, err := w.people.Profile(ctx, frank)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(prof.Apps, func(a host.App) bool { return a.Name == "Books" }) {
		t.Fatalf("the staff's app does not admit frank: %+v", prof.Apps)
	}
	if changed, _ := w.people.ChangeAdminGroup(ctx, frank, host.GroupChange{Add: "staff"}, host.Proof{}); changed {
		t.Fatal("giving a group given already changed something")
	}

	// Frank signed in to the admin through a grant of the admin-set "ops"; the password is off.
	if err := adm.SetPassword(ctx, "a-password-0123"); err != nil {
		t.Fatal(err)
	}
	if err := adm.SetGrants(ctx, []host.Grant{{SourceID: store.FromAdmin, Group: "ops"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	fresh := host.Proof{SessionID: "s1", UserID: frank.ID, AuthTime: now, Now: now}
	var refused *host.ErrProof
	if _, err := w.people.ChangeAdminGroup(ctx, frank, host.GroupChange{Add: "ops"}, fresh); !errors.As(err, &refused) {
		t.Fatalf("a granted group given without the password (a sign-in through a source proves only while it is off): %v", err)
	}
	proof := host.Proof{Attempt: host.Attempt{Client: "client", ClientIP: "192.0.2.9"}, SessionID: "s0", Password: "a-password-0123", Now: now}
	if _, err := w.people.ChangeAdminGroup(ctx, frank, host.GroupChange{Add: "ops"}, proof); err != nil {
		t.Fatalf("give the granted ops with the password: %v", err)
	}
	frank, _ = w.people.Get(ctx, frank.ID)
	if !host.IsSourceAdmin(frank, adm.Grants(ctx)) {
		t.Fatal("the grant of the admin-set ops does not admit frank")
	}
	if err := adm.RecordSourceSignIn(ctx, host.SourceAdminSignIn{UserID: frank.ID, SourceID: store.FromAdmin, Group: "ops", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := adm.TurnOffPassword(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.people.ChangeAdminGroup(ctx, frank, host.GroupChange{Remove: "ops"}, fresh); !errors.Is(err, host.ErrLastWayIn) {
		t.Fatalf("taking away the last way in: %v, want ErrLastWayIn", err)
	}
	if err := adm.CheckWayInKept(ctx, w.src.ID, nil); !errors.Is(err, host.ErrLastWayIn) {
		t.Fatalf("turning off the source of the last way in: %v, want ErrLastWayIn", err)
	}
	if changed, err := w.people.ChangeAdminGroup(ctx, frank, host.GroupChange{Remove: "staff"}, host.Proof{}); err != nil || !changed {
		t.Fatalf("take staff away (no grant names it): %v %v", changed, err)
	}
}
