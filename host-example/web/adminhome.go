package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/plexlogin/plexlogin/host-example/buildinfo"
	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin home (what is going on: each source's health, the last day's sign-ins and
// refusals, the apps, warnings that need action) and the technical page (the plugins).

// overviewRoutes are the admin pages of this file, the person pages and a source's deletion.
func overviewRoutes(s *adminPages, src *sourcePages, people *peoplePages) map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /admin/technical":                         s.technicalPage,
		"GET /admin/users/{id}":                        s.handle(people.personPage),
		"GET /admin/users/{id}/delete":                 s.handle(people.deleteUserPage),
		"POST /admin/users/{id}/delete":                s.handle(people.deleteUser),
		"POST /admin/users/{id}/grants/{grant}":        s.handle(people.revokeGrant),
		"POST /admin/users/{id}/sessions/{kind}/{ref}": s.handle(people.endSession),
		"POST /admin/users/{id}/signout":               s.handle(people.signOutEverywhere),
		"POST /admin/users/{id}/groups":                s.handle(people.changeGroup),
		"POST /admin/users/{id}/display":               s.handle(people.setDisplay),
		"POST /admin/sources/{id}/sync":                s.handle(src.setSync),
		"GET /admin/sources/{id}/delete":               s.handle(src.deleteSourcePage),
		"POST /admin/sources/{id}/delete":              s.handle(src.deleteSource),
	}
}

// pluginState is a loaded plugin and whether its process answers now.
type pluginState struct {
	*host.Plugin
	Running  bool
	Restarts int
}

// pluginStates pings every loaded plugin (2 s each at most).
func (s *adminPages) pluginStates(ctx context.Context) map[string]pluginState {
	out := map[string]pluginState{}
	for _, id := range s.plugins.IDs() {
		p := s.plugins.Get(id)
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		out[id] = pluginState{Plugin: p, Running: p.Process.Ping(pctx) == nil, Restarts: p.Process.Restarts()}
		cancel()
	}
	return out
}

// sourceStatus is one source as the home page shows it.
type sourceStatus struct {
	*store.Source
	// Plugin is its plugin's state; nil when the plugin is not loaded.
	Plugin *pluginState
	Health []host.Health
	// LastLogin is its newest successful sign-in, if any.
	LastLogin *store.Event
	// SignIns, Refused and Failed count the last day's sign-ins, refusals (by the source's
	// rules or an app's groups) and logins that did not complete.
	SignIns, Refused, Failed int
}

// warning is something on the home page that needs the admin.
type warning struct {
	Text, Link, LinkText string
}

// dayCounts are the last day's events of a source, as sign-ins, refusals and failures.
func dayCounts(n map[store.EventKind]int) (signIns, refused, failed int) {
	return n[store.EventLoginAllowed], n[store.EventLoginDenied] + n[store.EventOIDCDenied], n[store.EventLoginFailed]
}

// homePage is admin.html's data.
type homePage struct {
	Head
	Sources []sourceStatus
	// Total sums the sources' counts of the last day.
	Total    sourceStatus
	Warnings []warning
	// Clients and Rules are the OpenID Connect applications and the protected apps.
	Clients      []*store.OIDCClient
	Rules        []store.ForwardRule
	PluginStates map[string]pluginState
	Flash        string
	FlashLevel   string
	// WaysInChanged are the changes of the admin's ways in of the last day.
	WaysInChanged []store.Event
	// FirstRun offers the first-run guide (steps are left).
	FirstRun bool
}

func (s *adminPages) adminHome(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	srcs, err := s.sources.List(ctx)
	if err != nil {
		return err
	}
	counts, err := s.events.Counts(ctx, time.Now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	apps, _ := s.people.Apps(ctx) // none shown when they cannot be read
	plugins := s.pluginStates(ctx)
	var rows []sourceStatus
	var total sourceStatus
	for _, src := range srcs {
		row := sourceStatus{Source: src}
		if p, ok := plugins[src.PluginID]; ok {
			row.Plugin = &p
			row.Health = s.sources.Health(ctx, src)
		}
		if e, err := s.events.Last(ctx, src.ID, store.EventLoginAllowed); err == nil {
			row.LastLogin = e
		}
		row.SignIns, row.Refused, row.Failed = dayCounts(counts[src.ID])
		total.SignIns, total.Refused, total.Failed = total.SignIns+row.SignIns, total.Refused+row.Refused, total.Failed+row.Failed
		rows = append(rows, row)
	}
	warnings := append(homeWarnings(rows, plugins), s.credentialWarnings(ctx, srcs)...)
	if why := s.adm.GrantsUnconfirmed(ctx); why != "" {
		warnings = append([]warning{{Text: "Admin grants need confirming: " + why + ".", Link: "/admin/security#source-admins", LinkText: "Security"}}, warnings...)
	}
	guide, err := s.firstRun.Progress(ctx)
	if err != nil {
		return err
	}
	flash, level := s.takeFlash(w, r)
	s.render(w, http.StatusOK, "admin.html", &homePage{FirstRun: guide.Offered(), Head: Head{Session: sessionOf(r)}, Sources: rows, Total: total, Warnings: warnings,
		Clients: apps.Clients, Rules: apps.Rules, PluginStates: plugins, Flash: flash, FlashLevel: level, WaysInChanged: s.waysInChanges(r)})
	return nil
}

// homeWarnings are what needs the admin: no source, a source never configured, turned off,
// without its plugin or failing a health check, and a plugin that restarted or does not answer.
func homeWarnings(rows []sourceStatus, plugins map[string]pluginState) []warning {
	var out []warning
	if len(rows) == 0 {
		out = append(out, warning{Text: "No source yet: nobody can sign in. Add one below.", Link: "#sources", LinkText: "Sources"})
	}
	for _, row := range rows {
		link := "/admin/sources/" + row.ID
		switch {
		case row.Config == nil:
			out = append(out, warning{Text: row.Name + " was never configured: finish its settings, or delete it.", Link: link, LinkText: "Settings"})
		case !row.Enabled:
			out = append(out, warning{Text: row.Name + " is turned off: nobody can sign in with it.", Link: link, LinkText: "Settings"})
		}
		if row.Plugin == nil {
			out = append(out, warning{Text: fmt.Sprintf("The plugin %q of %s is not loaded: nobody can sign in with it.", row.PluginID, row.Name),
				Link: "/admin/technical", LinkText: "Plugins"})
		}
		for _, h := range row.Health {
			if h.Renewal {
				continue // credentialWarnings says it
			}
			switch h.State {
			case host.HealthRevoked:
				out = append(out, warning{Text: fmt.Sprintf("%s: the check “%s” fails at its last run. Sign-ins and re-validation that need it fail: run it on the source's page and fix what it says.",
					row.Name, h.Title), Link: link, LinkText: "Settings"})
			case host.HealthUnknown:
				out = append(out, warning{Text: fmt.Sprintf("%s: the check “%s” could not run at its last try (the plugin or upstream did not answer).",
					row.Name, h.Title), Link: link, LinkText: "Settings"})
			}
		}
	}
	for _, id := range sortedKeys(plugins) {
		p := plugins[id]
		if !p.Running {
			out = append(out, warning{Text: fmt.Sprintf("The plugin %s does not answer.", p.Desc.Name), Link: "/admin/technical", LinkText: "Plugins"})
		}
		if p.Restarts > 0 {
			out = append(out, warning{Text: fmt.Sprintf("The plugin %s was restarted %d× since the host started (its process ended): see the host's log for why.",
				p.Desc.Name, p.Restarts), Link: "/admin/technical", LinkText: "Plugins"})
		}
	}
	return out
}

// sortedKeys are the keys of plugins, sorted.
func sortedKeys(plugins map[string]pluginState) []string { return slices.Sorted(maps.Keys(plugins)) }

// technicalPage is technical.html's data.
type technicalPage struct {
	Head
	// Build is this host-example's version, commit and Go release.
	Build   buildinfo.Info
	Plugins []pluginState
}

// technicalPage shows this build of the host, and lists the plugins: version, process,
// restarts, capabilities and environment.
func (s *adminPages) technicalPage(w http.ResponseWriter, r *http.Request) {
	states := s.pluginStates(r.Context())
	var rows []pluginState
	for _, id := range sortedKeys(states) {
		rows = append(rows, states[id])
	}
	s.render(w, http.StatusOK, "technical.html", &technicalPage{Head: Head{Title: "Technical", Session: sessionOf(r)},
		Build: buildinfo.Get(), Plugins: rows})
}
