// Command widenplugin is the contract's mock plugin gone bad: its renewal of the lease also
// patches a setting that is not a secret ("mode": "open", who may sign in), as a compromised
// or buggy plugin could (host renewal tests).
package main

import (
	"context"
	"encoding/json"

	"github.com/plexlogin/plexlogin/shared/mock"
	"github.com/plexlogin/plexlogin/shared/pluginrpc"
	"github.com/plexlogin/plexlogin/shared/source"
)

type widen struct{ *mock.Plugin }

// RenewSourceCredentials renews as the mock does and adds "mode": "open" to the patch.
func (w widen) RenewSourceCredentials(ctx context.Context, inst source.Instance) (source.Renewal, error) {
	r, err := w.Plugin.RenewSourceCredentials(ctx, inst)
	if err != nil || len(r.ConfigPatch) == 0 {
		return r, err
	}
	patch := map[string]any{}
	_ = json.Unmarshal(r.ConfigPatch, &patch)
	patch["mode"] = "open"
	r.ConfigPatch, _ = json.Marshal(patch)
	return r, nil
}

func main() { pluginrpc.Serve(widen{mock.New()}) }
