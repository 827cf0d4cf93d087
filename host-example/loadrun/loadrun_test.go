package loadrun

import (
	"context"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/host-example/hosttest"
)

func TestMain(m *testing.M) { hosttest.Main(m) }

// The short load run asserts correctness only; latency and memory are reported.
func TestShortLoadRun(t *testing.T) {
	rep, err := Run(context.Background(), Options{PluginDir: hosttest.PluginDir(), Logins: 200, Concurrency: 100, Latency: 50 * time.Millisecond,
		MaxDuration: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	if rep.Logins != 200 || rep.WrongAdmits != 0 || rep.DuplicateUsers != 0 || rep.UntypedErrors != 0 || rep.TypedErrors != 0 {
		t.Fatalf("incorrect run: %+v", rep)
	}
	if rep.Admitted != 160 || rep.Denied != 40 || rep.UsersStored != 6 {
		t.Fatalf("admitted %d denied %d stored %d, want 160/40/6", rep.Admitted, rep.Denied, rep.UsersStored)
	}
}

// The short fault run: plex.tv failures and plugin kills; every login ends admitted,
// refused or with a typed "try again" page, and nobody is wrongly admitted or duplicated.
func TestShortFaultRun(t *testing.T) {
	rep, err := Run(context.Background(), Options{PluginDir: hosttest.PluginDir(), Logins: 300, Concurrency: 40, Latency: 10 * time.Millisecond,
		MaxDuration: 60 * time.Second, Faults: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	if rep.WrongAdmits != 0 || rep.DuplicateUsers != 0 || rep.UntypedErrors != 0 {
		t.Fatalf("incorrect fault run: %+v", rep)
	}
	if n := rep.ErrorKinds["member denied"]; n != 0 {
		t.Fatalf("%d members refused instead of told to retry", n)
	}
	if rep.PluginKills > 0 && rep.PluginRestarts == 0 {
		t.Fatal("plugin killed but never restarted")
	}
	if rep.Admitted == 0 {
		t.Fatal("nobody got in during the fault run")
	}
}
