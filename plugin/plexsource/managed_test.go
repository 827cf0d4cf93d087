package plexsource

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
	"github.com/plexlogin/plexlogin/plugin/plextv"
	"github.com/plexlogin/plexlogin/shared/source"
)

// A managed profile (reached only by switching with its Home PIN) has no username and
// no email: nothing may crash, and the identity has no email.
func TestManagedProfileIdentity(t *testing.T) {
	sim := plexsim.NewDefault()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	p := New(Options{BaseURL: srv.URL, AppURL: srv.URL})
	owner := sim.Token("owner")
	cfg, _ := json.Marshal(map[string]any{"access_mode": "members", "owner_token": owner,
		"allowed_servers": []map[string]string{{"machine_id": plexsim.ServerLivingRoom, "name": "Living Room"}}})
	inst := source.Instance{ID: "s", ConfigVersion: 1, Config: cfg}
	in, err := p.instance(inst)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := in.client.SwitchHomeUser(ctx, owner, "60718293a4b5c6d7", "0000"); !errors.Is(err, plextv.ErrHomePIN) {
		t.Fatalf("wrong profile PIN: %v", err)
	}
	kid, err := in.client.SwitchHomeUser(ctx, owner, "60718293a4b5c6d7", "1234")
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.login(ctx, in, inst, string(kid.AuthToken), nil)
	if err != nil {
		t.Fatalf("managed profile login: %v", err)
	}
	if id.Subject != "3002" || id.Email != "" || id.EmailVerified || id.PreferredUsername != "Kid" {
		t.Fatalf("identity %+v", id)
	}
	groups := map[string]bool{}
	for _, g := range id.Groups {
		groups[g] = true
	}
	if !groups["plex-home"] || !groups["plex-managed"] {
		t.Fatalf("groups %v", id.Groups)
	}
}

func TestConfigMigratesVersion1(t *testing.T) {
	out, err := New(Options{}).ValidateConfig(context.Background(), source.Instance{Config: json.RawMessage(
		`{"schema_version":1,"allowed_server_ids":["` + plexsim.ServerCabin + `"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	_ = json.Unmarshal(out, &c)
	if c.SchemaVersion != SchemaVersion || len(c.AllowedServers) != 1 || c.AllowedServers[0].MachineID != plexsim.ServerCabin || c.ClientIdentifier == "" {
		t.Fatalf("not migrated: %s", out)
	}
	again, _ := New(Options{}).ValidateConfig(context.Background(), source.Instance{Config: out})
	var c2 Config
	_ = json.Unmarshal(again, &c2)
	if c2.ClientIdentifier != c.ClientIdentifier {
		t.Fatal("client identifier regenerated on a second validation")
	}
}
