package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/plexlogin/plexlogin/host-example/openid"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The admin's applications page: OpenID Connect clients (openid.Clients decides). Clients of
// the clients file show read-only.

// clientsPage is clients.html's data: the clients, a new secret shown once, and a notice.
type clientsPage struct {
	Head
	Clients       []*store.OIDCClient
	Secret, Flash string
	// Issuer is what an application is configured with.
	Issuer string
}

// clientPage is client.html's data: a client's form.
type clientPage struct {
	Head
	New    bool
	Client *store.OIDCClient
	Errors []string
	// Refresh is set when the client may use refresh tokens.
	Refresh bool
	// Groups and Attributes offer the names logins have given.
	Groups, Attributes pickList
	// IconForm uploads the application's icon.
	IconForm iconForm
	// Algorithms are the id_token signing algorithms offered; DefaultAlg is the provider's.
	Algorithms []string
	DefaultAlg string
}

func (s *clientPages) clientsPage(w http.ResponseWriter, r *http.Request) error {
	flash, _ := s.takeFlash(w, r)
	clients, err := s.clients.List(r.Context())
	if err != nil {
		return err
	}
	s.renderClients(w, r, clients, "", flash)
	return nil
}

// renderClients shows the list of clients (with a new secret, once).
func (s *clientPages) renderClients(w http.ResponseWriter, r *http.Request, clients []*store.OIDCClient, secret, flash string) {
	s.render(w, http.StatusOK, "clients.html", &clientsPage{Head: Head{Session: sessionOf(r)}, Clients: clients, Secret: secret, Flash: flash,
		Issuer: strings.TrimRight(s.cfg.PublicURL.String(), "/")})
}

func (s *clientPages) newClientPage(w http.ResponseWriter, r *http.Request) error {
	f, err := s.clients.Form(r.Context(), "")
	if err != nil {
		return err
	}
	s.renderClient(w, r, http.StatusOK, f, true, "Add an application")
	return nil
}

func (s *clientPages) editClientPage(w http.ResponseWriter, r *http.Request) error {
	f, err := s.clients.Form(r.Context(), r.PathValue("id"))
	if err != nil {
		return s.clientRefused(w, r, err)
	}
	s.renderClient(w, r, http.StatusOK, f, false, f.Client.Name)
	return nil
}

// renderClient shows a client's form, its allowed groups and released attributes offered
// from those logins have produced (the others, typed, in the text beside them).
func (s *clientPages) renderClient(w http.ResponseWriter, r *http.Request, status int, f *openid.ClientForm, isNew bool, title string) {
	c := f.Client
	var icon iconForm
	if !isNew {
		icon = iconFormOf(r.Context(), s.portal, store.ClientIcon, c.ID)
	}
	s.render(w, status, "client.html", &clientPage{Head: Head{Title: title, Session: sessionOf(r)}, New: isNew, Client: c, Errors: f.Problems,
		Refresh: slices.Contains(c.GrantTypes, openid.GrantRefresh),
		Groups:  pickListOf(f.Groups, c.AllowedGroups), Attributes: pickListOf(f.Attributes, c.ReleaseAttributes), IconForm: icon,
		Algorithms: f.Algorithms, DefaultAlg: f.DefaultAlg})
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

// clientInput is what the form says of a client.
func clientInput(r *http.Request) openid.ClientInput {
	return openid.ClientInput{ID: r.FormValue("client_id"), Public: r.FormValue("public") != "", Name: r.FormValue("name"),
		RedirectURIs: r.FormValue("redirect_uris"), PostLogoutURIs: r.FormValue("post_logout_uris"), LaunchURL: r.FormValue("launch_url"),
		AllowedGroups: r.PostForm["allowed_groups"], ReleaseAttributes: r.PostForm["release_attributes"],
		Refresh: r.FormValue("refresh") != "", NewSecret: r.FormValue("new_secret") != "", IDTokenAlg: r.FormValue("id_token_signed_response_alg")}
}

// createClient registers a client; a confidential one gets a 256-bit secret, shown once.
func (s *clientPages) createClient(w http.ResponseWriter, r *http.Request) error {
	saved, err := s.clients.Create(r.Context(), clientInput(r))
	if err != nil {
		return s.clientRefused(w, r, err)
	}
	s.renderClients(w, r, saved.Clients, saved.Secret, "Added "+saved.Client.Name+".")
	return nil
}

func (s *clientPages) saveClient(w http.ResponseWriter, r *http.Request) error {
	saved, err := s.clients.Save(r.Context(), r.PathValue("id"), clientInput(r))
	if err != nil {
		return s.clientRefused(w, r, err)
	}
	s.renderClients(w, r, saved.Clients, saved.Secret, "Saved "+saved.Client.Name+".")
	return nil
}

func (s *clientPages) deleteClient(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.clients.Delete(r.Context(), id); err != nil {
		return s.clientRefused(w, r, err)
	}
	s.redirectFlash(w, r, "/admin/clients", "Deleted "+id+".", "info")
	return nil
}

// clientRefused answers what openid.Clients refused: a client of the clients file, or a form
// the checks refused; any other error goes on to handle.
func (s *clientPages) clientRefused(w http.ResponseWriter, r *http.Request, err error) error {
	var invalid *openid.InvalidClient
	switch {
	case errors.Is(err, openid.ErrReadOnly):
		s.message(w, r, http.StatusForbidden, "Read-only application", "This application comes from the clients file; change it there.", "/admin/clients")
	case errors.As(err, &invalid):
		s.renderClient(w, r, http.StatusUnprocessableEntity, &invalid.ClientForm, r.PathValue("id") == "", "Application")
	default:
		return err
	}
	return nil
}
