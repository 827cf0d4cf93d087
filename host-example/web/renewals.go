package web

import (
	"context"
	"fmt"
	"time"

	"github.com/plexlogin/plexlogin/host-example/store"
)

// What the admin home says of sources' expiring credentials (the source page shows them
// with the "renewals" template, from host.Sources.Renewals).

// credentialWarnings are the home page's warnings of credentials the admin must look at:
// refused by the upstream, expired, or with less than 2/7 of their life left.
func (s *adminPages) credentialWarnings(ctx context.Context, srcs []*store.Source) []warning {
	var out []warning
	for _, src := range srcs {
		for _, c := range s.sources.Renewals(ctx, src, time.Now()).NeedsAdmin() {
			text := ""
			switch {
			case c.Refused:
				text = fmt.Sprintf("%s: %s was not renewed: %s", src.Name, c.Label, c.Error)
			case c.Expired:
				text = fmt.Sprintf("%s: %s expired at %s UTC and was not renewed: sign-ins and checks that need it fail.", src.Name, c.Label,
					c.ExpiresAt.UTC().Format("2006-01-02 15:04"))
			default:
				text = fmt.Sprintf("%s: %s expires at %s UTC and was not renewed yet.", src.Name, c.Label, c.ExpiresAt.UTC().Format("2006-01-02 15:04"))
				if c.Error != "" {
					text += " Last try: " + c.Error
				}
			}
			out = append(out, warning{Text: text, Link: "/admin/sources/" + src.ID + "#credentials", LinkText: "Credentials"})
		}
	}
	return out
}
