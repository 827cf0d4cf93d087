package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/dbunavailable"
	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's applications page: OpenID Connect clients. Clients of the clients file show read-only.

func (s *clientPages) clientsPage(w http.ResponseWriter, r *http.Request) {
	flash, _ := s.takeFlash(w, r)
	s.renderClients(w, r, "", flash)
}

func (s *clientPages) renderClients(w http.ResponseWriter, r *http.Request, secret, flash string) {
	clients, err := s.store.OIDCClients(r.Context())
	if err != nil {
		dbunavailable.Answer(w)
		return
	}
	s.render(w, http.StatusOK, "clients.html", map[string]any{"Clients": clients, "Secret": secret, "Flash": flash,
		"Issuer": strings.TrimRight(s.cfg.PublicURL.String(), "/"), "Session": sessionOf(r), "Title": "Applications"})
}

func (s *clientPages) newClientPage(w http.ResponseWriter, r *http.Request) {
	s.renderClient(w, r, http.StatusOK, &store.OIDCClient{}, true, nil, "Add an application")
}

func (s *clientPages) editClientPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.uiClient(w, r)
	if !ok {
		return
	}
	s.renderClient(w, r, http.StatusOK, c, false, nil, c.Name)
}

// renderClient shows a client's form, its allowed groups and released attributes offered
// from those logins have produced (the others, typed, in the text beside them).
func (s *clientPages) renderClient(w http.ResponseWriter, r *http.Request, status int, c *store.OIDCClient, isNew bool, errs []string, title string) {
	groups, attrs, _ := s.store.SeenNames(r.Context()) // none seen: the text fields alone
	s.render(w, status, "client.html", map[string]any{"New": isNew, "Client": c, "Errors": errs,
		"Refresh": slices.Contains(c.GrantTypes, openid.GrantRefresh), "Session": sessionOf(r), "Title": title,
		"Groups": pickListOf(groups, c.AllowedGroups), "Attributes": pickListOf(attrs, c.ReleaseAttributes)})
}

// pickList is a list of names to pick from (Seen, the chosen ones checked) and the chosen
// names that are not among them (Other).
type pickList struct {
	Seen  []pick
	Other []string
}

// pick is a name offered with a checkbox.
type pick struct {
	Name    string
	Checked bool
}

// pickListOf offers the seen names with the chosen ones checked.
func pickListOf(seen, chosen []string) pickList {
	var l pickList
	for _, n := range seen {
		l.Seen = append(l.Seen, pick{Name: n, Checked: slices.Contains(chosen, n)})
	}
	for _, n := range chosen {
		if !slices.Contains(seen, n) {
			l.Other = append(l.Other, n)
		}
	}
	return l
}

// formNames are the names a form field gives, its values (checkboxes, a text of one name a
// line) together, each once.
func formNames(r *http.Request, field string) []string {
	var out []string
	for _, v := range r.PostForm[field] {
		for _, n := range settings.Lines(v) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// uiClient is the client of the path, refusing a file client (read-only here).
func (s *clientPages) uiClient(w http.ResponseWriter, r *http.Request) (*store.OIDCClient, bool) {
	c, err := s.store.OIDCClientByID(r.Context(), r.PathValue("id"))
	if _, ok := loaded(w, r, c, err); !ok {
		return nil, false
	}
	if c.Origin == "file" {
		s.message(w, r, http.StatusForbidden, "Read-only application", "This application comes from the clients file; change it there.", "/admin/clients")
		return nil, false
	}
	return c, true
}

// formClient reads the form into c.
func formClient(r *http.Request, c *store.OIDCClient) {
	c.Name = strings.TrimSpace(r.FormValue("name"))
	c.RedirectURIs = settings.Lines(r.FormValue("redirect_uris"))
	c.PostLogoutURIs = settings.Lines(r.FormValue("post_logout_uris"))
	c.AllowedGroups = formNames(r, "allowed_groups")
	c.ReleaseAttributes = formNames(r, "release_attributes")
	c.GrantTypes = []string{openid.GrantCode}
	if r.FormValue("refresh") != "" {
		c.GrantTypes = append(c.GrantTypes, openid.GrantRefresh)
	}
}

// createClient registers a client; a confidential one gets a 256-bit secret, shown once.
func (s *clientPages) createClient(w http.ResponseWriter, r *http.Request) {
	c := &store.OIDCClient{ID: strings.TrimSpace(r.FormValue("client_id")), Public: r.FormValue("public") != "", Origin: "ui"}
	formClient(r, c)
	secret := ""
	if !c.Public {
		secret = store.RandomID(32)
		c.SecretSHA256 = openid.HashSecret(secret)
	}
	errs := openid.CheckClient(c)
	if _, err := s.store.OIDCClientByID(r.Context(), c.ID); err == nil {
		errs = append(errs, "client_id: "+c.ID+" is taken")
	}
	s.storeClient(w, r, c, true, errs, secret, "admin_client_created", "Added "+c.Name+".")
}

// storeClient saves a checked client and shows the list (with a new secret, once), or the
// form again with its errors.
func (s *clientPages) storeClient(w http.ResponseWriter, r *http.Request, c *store.OIDCClient, isNew bool, errs []string, secret, event, flash string) {
	if len(errs) > 0 {
		s.renderClient(w, r, http.StatusUnprocessableEntity, c, isNew, errs, "Application")
		return
	}
	if err := s.store.PutOIDCClient(r.Context(), *c); err != nil {
		dbunavailable.Answer(w)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventKind(event), Detail: "client " + c.ID})
	s.renderClients(w, r, secret, flash)
}

func (s *clientPages) saveClient(w http.ResponseWriter, r *http.Request) {
	c, ok := s.uiClient(w, r)
	if !ok {
		return
	}
	formClient(r, c)
	secret := ""
	if r.FormValue("new_secret") != "" && !c.Public {
		secret = store.RandomID(32)
		c.SecretSHA256 = openid.HashSecret(secret)
	}
	s.storeClient(w, r, c, false, openid.CheckClient(c), secret, "admin_client_changed", "Saved "+c.Name+".")
}

func (s *clientPages) deleteClient(w http.ResponseWriter, r *http.Request) {
	c, ok := s.uiClient(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteOIDCClient(r.Context(), c.ID); err != nil {
		dbunavailable.Answer(w)
		return
	}
	_ = s.store.AddEvent(r.Context(), store.Event{Kind: store.EventAdminClientDeleted, Detail: "client " + c.ID})
	s.redirectFlash(w, r, "/admin/clients", "Deleted "+c.ID+".", "info")
}
