// Package pluginrpc is the go-plugin glue of the contract: the handshake, the
// versioned plugin sets, Serve for plugin binaries, and the gRPC adapters.
package pluginrpc

import (
	"context"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/plexlogin/plexlogin/shared/gen/fedsourcev1"
	"github.com/plexlogin/plexlogin/shared/source"
)

// PluginName is the name the source is dispensed under.
const PluginName = "source"

// MagicCookieKey and MagicCookieValue guard against running a plugin by hand.
const (
	MagicCookieKey   = "FEDSOURCE_PLUGIN_COOKIE"
	MagicCookieValue = "6b3c1a0e-federated-source-v1"
)

// Handshake is the go-plugin handshake every source plugin and host share.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  source.ProtocolVersion,
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}

// GRPCPlugin is the go-plugin Plugin of the contract (gRPC only).
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is set on the plugin side only.
	Impl source.Source
}

// GRPCServer registers the implementation on the plugin's gRPC server.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterFederatedSourceServer(s, NewGRPCServer(p.Impl))
	return nil
}

// GRPCClient returns the host-side client.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(pb.NewFederatedSourceClient(c)), nil
}

// exitWithParent exits the process once its parent is no longer ppid.
func exitWithParent(ppid int, every time.Duration) {
	if ppid <= 1 {
		return // started by init: nothing to watch
	}
	go func() {
		for range time.Tick(every) {
			if os.Getppid() != ppid {
				os.Exit(0)
			}
		}
	}()
}

// VersionedPlugins returns the plugin sets by protocol version; impl is nil on the host side.
func VersionedPlugins(impl source.Source) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {PluginName: &GRPCPlugin{Impl: impl}},
	}
}

// Serve runs impl as a plugin process; it never writes to stdout except the handshake.
// The process exits when its host is gone (re-parented), so decrypted configs do not
// outlive the host.
func Serve(impl source.Source) {
	exitWithParent(os.Getppid(), time.Second)
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.LevelFromString(os.Getenv("FEDSOURCE_LOG_LEVEL")),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(impl),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           logger,
	})
}
