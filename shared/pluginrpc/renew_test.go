package pluginrpc

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/plexlogin/plexlogin/shared/gen/fedsourcev1"
	"github.com/plexlogin/plexlogin/shared/mock"
	"github.com/plexlogin/plexlogin/shared/source"
)

// dial serves srv in process and returns a host-side client of it.
func dial(t *testing.T, srv pb.FederatedSourceServer) *Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	pb.RegisterFederatedSourceServer(s, srv)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///buf", grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return lis.Dial() }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return NewClient(pb.NewFederatedSourceClient(conn))
}

// older is a plugin built against contract 1.3: its generated server lacks RenewSourceCredentials.
type older struct {
	pb.UnimplementedFederatedSourceServer
}

// TestRenewFromOlderPlugins: a plugin of contract 1.3, or one without the call, answers
// unimplemented, which a host reads as "nothing to renew".
func TestRenewFromOlderPlugins(t *testing.T) {
	ctx := context.Background()
	for name, srv := range map[string]pb.FederatedSourceServer{
		"1.3 plugin":          older{},
		"source without call": NewGRPCServer(sourceOnly{mock.New()}),
	} {
		_, err := dial(t, srv).RenewSourceCredentials(ctx, source.Instance{ID: "x", Config: []byte(`{"api_key":"k"}`)})
		if source.KindOf(err) != source.KindUnimplemented {
			t.Errorf("%s: got %v, want unimplemented", name, err)
		}
	}
}

// sourceOnly hides every optional call of its Source.
type sourceOnly struct{ source.Source }

// TestRenewalSurvivesTheWire: the patch, the next call, each credential with its expiry and
// its own error, and the expired-credentials mark of an error.
func TestRenewalSurvivesTheWire(t *testing.T) {
	ctx := context.Background()
	c := dial(t, NewGRPCServer(mock.New()))
	exp := time.Now().Add(time.Minute)
	inst := source.Instance{ID: "x", Config: []byte(`{"api_key":"k","lease":"` + mock.Lease(exp) + `"}`)}
	got, err := c.RenewSourceCredentials(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ConfigPatch) == 0 || got.RenewAfter.IsZero() || len(got.Credentials) != 1 || got.Credentials[0].ExpiresAt.IsZero() ||
		got.Credentials[0].RenewedAt.IsZero() || got.Credentials[0].Field != "lease" {
		t.Fatalf("renewal lost on the wire: %+v", got)
	}
	inst.Config = []byte(`{"api_key":"k","lease":"revoked"}`)
	got, err = c.RenewSourceCredentials(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Credentials) != 1 || !got.Credentials[0].Refused() || got.Credentials[0].Err.ReasonCode != "lease_refused" {
		t.Fatalf("a refused credential lost its error on the wire: %+v", got)
	}
	err = errorFromStatus(errorToStatus(source.ExpiredSourceCredentials("later", "expired")))
	if !source.SourceCredentialsExpired(err) || source.KindOf(err) != source.KindUpstreamUnavailable {
		t.Fatalf("the expired-credentials mark lost on the wire: %v", err)
	}
}
