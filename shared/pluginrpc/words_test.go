package pluginrpc

import (
	"context"
	"testing"

	pb "github.com/plexlogin/plexlogin/shared/gen/fedsourcev1"
	"github.com/plexlogin/plexlogin/shared/mock"
	"github.com/plexlogin/plexlogin/shared/source"
)

// withKind is the mock declaring a credential kind, in the words of contract 1.5.
type withKind struct{ *mock.Plugin }

func (p withKind) Describe(ctx context.Context) (source.Descriptor, error) {
	d, err := p.Plugin.Describe(ctx)
	d.CredentialKinds = []source.CredentialKind{{Kind: "mock.token", App: "Mock Web", StorageKey: "k", StartPath: "/", ConfigField: "f",
		Description: "d", Name: "mock token", Upstream: "mock.example"}}
	return d, err
}

// describes14 is a plugin of contract 1.4: its credential kind and schema carry no words.
type describes14 struct {
	pb.UnimplementedFederatedSourceServer
}

func (describes14) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{Id: "old", ProtocolVersion: 1, ConfigSchemaJson: `{"type":"object","properties":{}}`,
		CredentialKinds: []*pb.CredentialKind{{Kind: "old.token", App: "Old Web"}}}, nil
}

// TestWordsSurviveTheWire: a credential kind's name and upstream and the schema's attribute
// words cross the wire (contract 1.5); a 1.4 plugin's kind and schema, without them, still
// read as words a host can put in a sentence.
func TestWordsSurviveTheWire(t *testing.T) {
	ctx := context.Background()
	d, err := dial(t, NewGRPCServer(withKind{mock.New()})).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := d.Kind("mock.token")
	if !ok || k.Title() != "mock token" || k.SignedOut() != "at mock.example" {
		t.Fatalf("the kind's words lost on the wire: %+v", d.CredentialKinds)
	}
	if p, err := source.ParseSchema(d.ConfigSchema); err != nil || p.AttributeTitles()["greeting"] != "Greeting after login" {
		t.Fatalf("the attribute words lost on the wire: %v %s", err, d.ConfigSchema)
	}

	d, err = dial(t, describes14{}).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k, ok = d.Kind("old.token")
	if !ok || k.Title() != "credential old.token" || k.SignedOut() != "upstream" {
		t.Fatalf("a 1.4 kind: %+v, %q, %q", k, k.Title(), k.SignedOut())
	}
	if p, err := source.ParseSchema(d.ConfigSchema); err != nil || len(p.AttributeTitles()) != 0 {
		t.Fatalf("a 1.4 schema: %v %v", err, p)
	}
}
