package openid

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/plexlogin/plexlogin/host-example/host"
	"github.com/plexlogin/plexlogin/host-example/store"
)

// The two ways on from a refusal: sign in with another account for the same authorization
// request, or go back to the application with access_denied.
const (
	OtherAccountPath = LoginPath + "/other"
	BackToAppPath    = LoginPath + "/back"
)

// appName is what the pages call a client: its name, else its id.
func appName(c *store.OIDCClient) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// AppName names the application of an authorization step (returnPath is LoginPath?id=…),
// "" for any other path or an unknown request.
func (p *Provider) AppName(ctx context.Context, returnPath string) string {
	u, err := url.Parse(returnPath)
	if err != nil || u.Path != LoginPath {
		return ""
	}
	row, err := p.opts.Store.AuthRequestByID(ctx, u.Query().Get("id"))
	if err != nil {
		return ""
	}
	c, err := p.storage.clients.byID(ctx, row.ClientID)
	if err != nil {
		return ""
	}
	return appName(c)
}

// refuse tells a signed-in user that c's allowed groups do not admit them, with two ways on:
// another account, or back to the application (which learns access_denied).
func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, id string, c *store.OIDCClient) {
	name := appName(c)
	fields := map[string]string{"id": id}
	p.opts.Pages.Offer(w, r, http.StatusForbidden, "No access to "+name,
		fmt.Sprintf("Your account may not use %s. Ask the administrator to add you to one of its groups, or sign in with another account.", name),
		[]host.Way{{ID: "other-account", Label: "Use another account", Action: OtherAccountPath, Fields: fields},
			{ID: "back-to-app", Label: "Back to " + name, Action: BackToAppPath, Fields: fields, Secondary: true}})
}

// refusedRequest is the open authorization request a refusal's button names, when the POST
// carries the CSRF token and this browser started the request; otherwise it tells the person
// why not and answers nil.
func (p *Provider) refusedRequest(w http.ResponseWriter, r *http.Request) (*authRequest, *store.OIDCClient) {
	if !p.opts.Pages.CheckCSRF(r) {
		p.opts.Pages.Message(w, r, http.StatusForbidden, "Please start again", "This request did not come from this site's page.")
		return nil, nil
	}
	row, err := p.opts.Store.AuthRequestByID(r.Context(), r.FormValue("id"))
	if err != nil || !p.boundTo(r, row) || row.Done {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Sign-in request expired",
			"This sign-in request expired, was already used or was started in another browser. Go back to the application and try again.")
		return nil, nil
	}
	ar, err := p.storage.authRequestOf(r.Context(), row)
	if err != nil {
		p.opts.Pages.Message(w, r, http.StatusInternalServerError, "Something went wrong", "The sign-in request could not be read.")
		return nil, nil
	}
	c, err := p.storage.clients.byID(r.Context(), ar.ClientID)
	if err != nil {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Unknown application", "The application of this sign-in request is no longer registered.")
		return nil, nil
	}
	return ar, c
}

// otherAccount signs the person out here and sends them to sign in again for the same request.
func (p *Provider) otherAccount(w http.ResponseWriter, r *http.Request) {
	ar, _ := p.refusedRequest(w, r)
	if ar == nil {
		return
	}
	if u, _, ok := p.opts.Sessions.SignedIn(r); ok {
		p.opts.Sessions.EndUserSession(r, u.ID)
	}
	http.Redirect(w, r, p.opts.Pages.LoginURL(LoginPath+"?id="+url.QueryEscape(ar.ID)), http.StatusSeeOther)
}

// backToApp ends the request and answers the application at its redirect URI, when that is
// still one the authorization request would accept (the library's own matcher: a public
// client's loopback URI on any port, RFC 8252 §7.3), with error=access_denied and its state
// (RFC 6749 4.1.2.1).
func (p *Provider) backToApp(w http.ResponseWriter, r *http.Request) {
	ar, c := p.refusedRequest(w, r)
	if ar == nil {
		return
	}
	if op.ValidateAuthReqRedirectURI(client{c: c, login: p.storage.login}, ar.RedirectURI, ar.ResponseType) != nil {
		p.opts.Pages.Message(w, r, http.StatusBadRequest, "Unknown application address",
			"The address this sign-in request came from is no longer registered for "+appName(c)+". Open the application again.")
		return
	}
	if err := p.opts.Store.DeleteAuthRequest(r.Context(), ar.ID); err != nil {
		p.opts.Logger.Error("end refused authorization request", "error", err)
	}
	op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("this account may not use the application"), p.op)
}
