package openid

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plexlogin/plexlogin/host-example/settings"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// ClientStore is what the clients need of the host's store (*store.Store is one).
type ClientStore interface {
	// OIDCClientByID reads a client.
	OIDCClientByID(ctx context.Context, id string) (*store.OIDCClient, error)
	// OIDCClients lists the clients.
	OIDCClients(ctx context.Context) ([]*store.OIDCClient, error)
	// PutOIDCClient creates or replaces a client.
	PutOIDCClient(ctx context.Context, c store.OIDCClient) error
	// DeleteOIDCClient removes a client and ends its tokens.
	DeleteOIDCClient(ctx context.Context, id string) error
	// SeenNames are the groups and attribute names logins have given.
	SeenNames(ctx context.Context) (groups, attributes []string, err error)
	// AddEvent records an event.
	AddEvent(ctx context.Context, e store.Event) error
	// Changes announces changes of clients (store.OIDCClients).
	Changes() *store.Changes
	// FirstSigningKey stores k unless alg has a key that is not retired (a client's own
	// algorithm gets its key when the client is saved).
	FirstSigningKey(ctx context.Context, k store.SigningKey) (bool, error)
	// SigningKeys lists the keys retired after since and the active ones, newest first.
	SigningKeys(ctx context.Context, since time.Time) ([]store.SigningKey, error)
}

// Clients are the registered OpenID Connect clients: the admin's create, save, delete and
// list (the checks, the secret, the event), and the provider's reads through a copy in memory.
type Clients struct {
	st    ClientStore
	cache *clientCache
	// defaultAlg is the provider's default signing algorithm (New tells it; "": RS256).
	defaultAlg string
}

// NewClients returns the clients of st.
func NewClients(st ClientStore) *Clients {
	return &Clients{st: st, cache: &clientCache{st: st}}
}

// ErrReadOnly is a client of the clients file: it is changed there, not by the admin.
var ErrReadOnly = errors.New("the application comes from the clients file")

// ClientInput is what the admin typed for a client.
type ClientInput struct {
	// ID and Public are a new client's; Save keeps the stored ones.
	ID     string
	Public bool
	Name   string
	// RedirectURIs and PostLogoutURIs are texts of one URI a line.
	RedirectURIs, PostLogoutURIs string
	// LaunchURL is where a person opens the application from the portal ("": not shown there).
	LaunchURL string
	// AllowedGroups and ReleaseAttributes are the values given: each a name, or a text of
	// names one a line.
	AllowedGroups, ReleaseAttributes []string
	// Refresh offers refresh tokens.
	Refresh bool
	// NewSecret replaces a confidential client's secret (Save).
	NewSecret bool
	// IDTokenAlg is the algorithm its id_tokens are signed with ("": the default).
	IDTokenAlg string
}

// ClientForm is what a client's form shows: the client, the problems the checks found, and
// the groups and attributes logins have given, to pick from.
type ClientForm struct {
	Client *store.OIDCClient
	// Problems are what the checks refused, in words (none for a form not yet sent).
	Problems []string
	// Groups and Attributes are the names logins gave (none when they cannot be read).
	Groups, Attributes []string
	// Algorithms are the signing algorithms offered, DefaultAlg the one a client without its own gets.
	Algorithms []string
	DefaultAlg string
}

// InvalidClient is the error of a client the checks refused: its form again, with the problems.
type InvalidClient struct{ ClientForm }

func (e *InvalidClient) Error() string {
	return "application " + e.Client.ID + " refused: " + strings.Join(e.Problems, "; ")
}

// ClientSaved is a client just saved: its new secret, shown once ("" for none), and the
// clients as they are now.
type ClientSaved struct {
	Client  *store.OIDCClient
	Secret  string
	Clients []*store.OIDCClient
}

// List is every client, the clients file's too.
func (c *Clients) List(ctx context.Context) ([]*store.OIDCClient, error) {
	list, err := c.st.OIDCClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the applications: %w", err)
	}
	return list, nil
}

// Get is the client of id that the admin may change (store.ErrNotFound: none; ErrReadOnly:
// one of the clients file).
func (c *Clients) Get(ctx context.Context, id string) (*store.OIDCClient, error) {
	cl, err := c.st.OIDCClientByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("application %s: %w", id, err)
	}
	if cl.Origin == "file" {
		return nil, fmt.Errorf("application %s: %w", id, ErrReadOnly)
	}
	return cl, nil
}

// Form is the form of the client of id ("": a new one), as Get refuses it.
func (c *Clients) Form(ctx context.Context, id string) (*ClientForm, error) {
	cl := &store.OIDCClient{}
	if id != "" {
		var err error
		if cl, err = c.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	return c.form(ctx, cl, nil), nil
}

// form is cl's form with problems.
func (c *Clients) form(ctx context.Context, cl *store.OIDCClient, problems []string) *ClientForm {
	groups, attrs, _ := c.st.SeenNames(ctx) // none seen: the text fields alone
	def := c.defaultAlg
	if def == "" {
		def = RS256
	}
	return &ClientForm{Client: cl, Problems: problems, Groups: groups, Attributes: attrs, Algorithms: Algorithms, DefaultAlg: def}
}

// Create registers a client (the event admin_client_created); a confidential one gets a
// 256-bit secret, shown once. A client the checks refuse, or whose id is taken, is an
// *InvalidClient.
func (c *Clients) Create(ctx context.Context, in ClientInput) (*ClientSaved, error) {
	cl := &store.OIDCClient{ID: strings.TrimSpace(in.ID), Public: in.Public, Origin: "ui"}
	in.apply(cl)
	secret := ""
	if !cl.Public {
		secret = newSecret(cl)
	}
	problems := CheckClient(cl)
	if _, err := c.st.OIDCClientByID(ctx, cl.ID); err == nil {
		problems = append(problems, "client_id: "+cl.ID+" is taken")
	}
	return c.put(ctx, cl, problems, secret, store.EventAdminClientCreated)
}

// Save changes the client of id (the event admin_client_changed), with a new secret when
// asked; refused as Get refuses, or as an *InvalidClient.
func (c *Clients) Save(ctx context.Context, id string, in ClientInput) (*ClientSaved, error) {
	cl, err := c.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	in.apply(cl)
	secret := ""
	if in.NewSecret && !cl.Public {
		secret = newSecret(cl)
	}
	return c.put(ctx, cl, CheckClient(cl), secret, store.EventAdminClientChanged)
}

// put stores a checked client and records event, or answers its problems.
func (c *Clients) put(ctx context.Context, cl *store.OIDCClient, problems []string, secret string, event store.EventKind) (*ClientSaved, error) {
	if len(problems) > 0 {
		return nil, &InvalidClient{*c.form(ctx, cl, problems)}
	}
	if cl.IDTokenAlg != "" { // its key is in the JWKS before its first token
		if err := EnsureKey(ctx, c.st, cl.IDTokenAlg); err != nil {
			return nil, fmt.Errorf("save application %s: its %s signing key: %w", cl.ID, cl.IDTokenAlg, err)
		}
	}
	if err := c.st.PutOIDCClient(ctx, *cl); err != nil {
		return nil, fmt.Errorf("save application %s: %w", cl.ID, err)
	}
	_ = c.st.AddEvent(ctx, store.Event{Kind: event, Detail: "client " + cl.ID})
	list, err := c.List(ctx)
	if err != nil {
		return nil, err
	}
	return &ClientSaved{Client: cl, Secret: secret, Clients: list}, nil
}

// Delete removes the client of id and ends its tokens (the event admin_client_deleted);
// refused as Get refuses.
func (c *Clients) Delete(ctx context.Context, id string) error {
	cl, err := c.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := c.st.DeleteOIDCClient(ctx, cl.ID); err != nil {
		return fmt.Errorf("delete application %s: %w", cl.ID, err)
	}
	_ = c.st.AddEvent(ctx, store.Event{Kind: store.EventAdminClientDeleted, Detail: "client " + cl.ID})
	return nil
}

// apply puts what the admin typed into cl (its id, kind and secret stay).
func (in ClientInput) apply(cl *store.OIDCClient) {
	cl.Name = strings.TrimSpace(in.Name)
	cl.RedirectURIs = settings.Lines(in.RedirectURIs)
	cl.PostLogoutURIs = settings.Lines(in.PostLogoutURIs)
	cl.LaunchURL = strings.TrimSpace(in.LaunchURL)
	cl.AllowedGroups = names(in.AllowedGroups)
	cl.ReleaseAttributes = names(in.ReleaseAttributes)
	cl.IDTokenAlg = strings.TrimSpace(in.IDTokenAlg)
	cl.GrantTypes = []string{GrantCode}
	if in.Refresh {
		cl.GrantTypes = append(cl.GrantTypes, GrantRefresh)
	}
}

// names are the names of values (each a name, or names one a line), each once.
func names(values []string) []string {
	var out []string
	for _, v := range values {
		for _, n := range settings.Lines(v) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// newSecret gives cl a new 256-bit secret, stores its hash and answers it.
func newSecret(cl *store.OIDCClient) string {
	secret := store.RandomID(32)
	cl.SecretSHA256 = HashSecret(secret)
	return secret
}
