package plexsource

import (
	"context"
	"fmt"
	"strings"

	"github.com/plexlogin/plexlogin/shared/source"
)

// ConfigWarnings warns about allowed servers that none of the owner accounts has: a
// well-formed machine ID saves, but nobody can be let in through it. Without an owner token,
// or when plex.tv cannot be asked, there is nothing to compare with and no warning.
func (p *Plex) ConfigWarnings(ctx context.Context, inst source.Instance) ([]source.FieldError, error) {
	in, err := p.instance(inst)
	if err != nil {
		return nil, err
	}
	tokens := in.cfg.ownerTokens()
	if len(tokens) == 0 || len(in.cfg.AllowedServers) == 0 {
		return nil, nil
	}
	known := map[string]bool{}
	for _, tok := range tokens {
		rs, err := in.client.Resources(ctx, tok)
		if err != nil {
			return nil, nil // unknown: no warning rather than a wrong one
		}
		for _, r := range rs {
			if r.IsServer() {
				known[strings.ToLower(string(r.ClientIdentifier))] = true
			}
		}
	}
	var out []source.FieldError
	for i, s := range in.cfg.AllowedServers {
		if !known[strings.ToLower(s.MachineID)] {
			name := s.Name
			if name == "" {
				name = s.MachineID
			}
			out = append(out, source.FieldError{Field: fmt.Sprintf("allowed_servers.%d.machine_id", i),
				Message: fmt.Sprintf("%s is not a server of the owner account: nobody can be let in through it. Use \"Sign in to Plex to load servers\" to pick from the owner's servers.", name)})
		}
	}
	return out, nil
}
