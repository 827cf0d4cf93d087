// Package plextv is a client of the plex.tv API as "Log in with Plex" needs it: PINs,
// accounts, resources, the owner's share and Home lists, and password sign-in.
// Tokens travel only in the X-Plex-Token header; errors never carry a URL, a token or a PIN id.
package plextv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Default base URLs of the real plex.tv.
const (
	DefaultBaseURL = "https://plex.tv"
	DefaultAppURL  = "https://app.plex.tv"
	// DefaultClientsURL is where the device-key (JWT) endpoints live: only at
	// clients.plex.tv/api/v2/auth/* (plex-api.md §1.1).
	DefaultClientsURL = "https://clients.plex.tv"
)

// Identity is what the client tells plex.tv about itself in X-Plex-* headers.
type Identity struct {
	ClientID string
	Product  string
	Version  string
	Device   string
	Platform string
}

// Options configure a Client. Zero values take the defaults.
type Options struct {
	BaseURL string
	// ClientsURL is the base of the device-key endpoints and of PINs carrying a key;
	// default BaseURL when that was set (a simulator serves every host name alike), else
	// DefaultClientsURL.
	ClientsURL string
	// HTTPClient is shared between clients; default one with sane transport limits.
	HTTPClient *http.Client
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
	// MaxBody caps a response body; default 4 MiB.
	MaxBody int64
	// Retries on 429, 5xx and network errors for idempotent calls; default 2.
	Retries int
	// Backoff is the base of the jittered exponential backoff; default 250ms.
	Backoff time.Duration
	// Observe, when set, is told each request's endpoint name (for counting).
	Observe func(endpoint string)
}

// Client talks to one plex.tv base URL as one client identifier.
type Client struct {
	base    *url.URL
	clients *url.URL
	id      Identity
	opts    Options
}

var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:               http.ProxyFromEnvironment,
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConns:        100,
	MaxIdleConnsPerHost: 32,
	IdleConnTimeout:     90 * time.Second,
	TLSHandshakeTimeout: 5 * time.Second,
	ForceAttemptHTTP2:   true,
}}

// New returns a client; id.ClientID and id.Product are required.
func New(id Identity, opts Options) (*Client, error) {
	if opts.ClientsURL == "" {
		opts.ClientsURL = opts.BaseURL
	}
	if opts.ClientsURL == "" {
		opts.ClientsURL = DefaultClientsURL
	}
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("plex.tv base URL %q is not an absolute http(s) URL", opts.BaseURL)
	}
	cu, err := url.Parse(opts.ClientsURL)
	if err != nil || (cu.Scheme != "https" && cu.Scheme != "http") || cu.Host == "" {
		return nil, fmt.Errorf("clients.plex.tv base URL %q is not an absolute http(s) URL", opts.ClientsURL)
	}
	if id.ClientID == "" || id.Product == "" {
		return nil, errors.New("plex.tv client needs a client identifier and a product name")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = defaultHTTP
	}
	hc := *opts.HTTPClient
	hc.CheckRedirect = sameOriginRedirects
	opts.HTTPClient = &hc
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 4 << 20
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	} else if opts.Retries == 0 {
		opts.Retries = 2
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 250 * time.Millisecond
	}
	return &Client{base: u, clients: cu, id: id, opts: opts}, nil
}

// ClientID is the X-Plex-Client-Identifier the client sends.
func (c *Client) ClientID() string { return c.id.ClientID }

// request describes one call. Path may contain ids; Op is its redacted name.
type request struct {
	method   string
	path     string
	op       string
	endpoint string
	query    url.Values
	form     url.Values
	token    string
	json     bool
	retry    bool
	accept   []int
	// product overrides the client's X-Plex-Product for this call.
	product string
	// clients sends the call to the clients base URL (device-key endpoints).
	clients bool
	// body is a JSON request body.
	body []byte
}

func (c *Client) do(ctx context.Context, r request) ([]byte, error) {
	attempts := 1
	if r.retry {
		attempts += c.opts.Retries
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			// Full jitter: sleep a random time up to base * 2^i.
			d := time.Duration(rand.Int64N(int64(c.opts.Backoff) << i))
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, &Error{Op: r.op, kind: ErrUnavailable, cause: ctx.Err()}
			case <-t.C:
			}
		}
		body, err := c.once(ctx, r)
		if err == nil {
			return body, nil
		}
		last = err
		var pe *Error
		if !errors.As(err, &pe) || !(errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRateLimited)) || ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, last
}

func (c *Client) once(ctx context.Context, r request) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	u := *c.base
	if r.clients {
		u = *c.clients
	}
	u.Path = strings.TrimRight(u.Path, "/") + r.path
	if r.query != nil {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	} else if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, &Error{Op: r.op, kind: ErrMalformed, cause: errors.New("cannot build request")}
	}
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.json {
		req.Header.Set("Accept", "application/json")
	} else {
		req.Header.Set("Accept", "application/xml")
	}
	h := req.Header
	h.Set("X-Plex-Client-Identifier", c.id.ClientID)
	h.Set("X-Plex-Product", c.id.Product)
	if r.product != "" {
		h.Set("X-Plex-Product", r.product)
	}
	if c.id.Version != "" {
		h.Set("X-Plex-Version", c.id.Version)
	}
	if c.id.Device != "" {
		h.Set("X-Plex-Device", c.id.Device)
		h.Set("X-Plex-Device-Name", c.id.Device)
	}
	if c.id.Platform != "" {
		h.Set("X-Plex-Platform", c.id.Platform)
	}
	if r.token != "" {
		h.Set("X-Plex-Token", r.token)
	}
	if c.opts.Observe != nil {
		c.opts.Observe(r.endpoint)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if errors.Is(err, errCrossHostRedirect) {
		return nil, &Error{Op: r.op, kind: ErrMalformed, cause: errCrossHostRedirect}
	}
	if err != nil {
		return nil, &Error{Op: r.op, kind: ErrUnavailable, cause: netCause(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxBody+1))
	if err != nil {
		return nil, &Error{Op: r.op, Status: resp.StatusCode, kind: ErrUnavailable, cause: netCause(err)}
	}
	if int64(len(data)) > c.opts.MaxBody {
		return nil, &Error{Op: r.op, Status: resp.StatusCode, kind: ErrTooLarge, Message: fmt.Sprintf("more than %d bytes", c.opts.MaxBody)}
	}
	for _, ok := range r.accept {
		if resp.StatusCode == ok {
			return data, nil
		}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil
	}
	ae := decodeError(data)
	msg := ae.Message
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return nil, &Error{Op: r.op, Status: resp.StatusCode, Code: ae.Code, Message: msg, kind: classify(resp.StatusCode, ae.Code, ae.Message)}
}

// errCrossHostRedirect refuses a redirect that would carry the token or a sign-in form elsewhere.
var errCrossHostRedirect = errors.New("plex.tv redirected to another host; not followed")

// sameOriginRedirects follows at most 3 redirects, and only to the same scheme and host:
// a redirect elsewhere would carry X-Plex-Token (or re-post a sign-in form) to that host.
func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
		return errCrossHostRedirect
	}
	if len(via) >= 3 {
		return errors.New("too many redirects")
	}
	return nil
}

// netCause keeps the reason of a transport error without the URL it was for.
func netCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, errCrossHostRedirect) {
		return errCrossHostRedirect
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("timed out")
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("canceled")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timed out")
	}
	return errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
}

func malformed(op string, err error) error {
	return &Error{Op: op, kind: ErrMalformed, cause: err}
}

// fetch runs one request and decodes its answer; a body that does not decode is ErrMalformed.
func fetch[T any](ctx context.Context, c *Client, r request, decode func([]byte) (T, error)) (T, error) {
	var zero T
	data, err := c.do(ctx, r)
	if err != nil {
		return zero, err
	}
	v, err := decode(data)
	if err != nil {
		return zero, malformed(r.op, err)
	}
	return v, nil
}

// CreatePIN creates a strong PIN owned by this client identifier; product, when set, is
// the app name Plex shows the person who approves it.
func (c *Client) CreatePIN(ctx context.Context, product string) (PIN, error) {
	return fetch(ctx, c, request{method: http.MethodPost, path: "/api/v2/pins", op: "POST /api/v2/pins", endpoint: "pins.create",
		query: url.Values{"strong": {"true"}}, json: true, retry: true, product: product}, func(b []byte) (PIN, error) {
		p, err := DecodePIN(b)
		if err == nil && p.Code == "" {
			err = errors.New("pin has no code")
		}
		return p, err
	})
}

// CheckPIN reads a PIN once; Token() is "" while it is pending. ErrNotFound means expired
// or created by another client identifier.
func (c *Client) CheckPIN(ctx context.Context, id int64) (PIN, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/v2/pins/" + strconv.FormatInt(id, 10), op: "GET /api/v2/pins/{id}",
		endpoint: "pins.check", json: true, retry: true}, func(b []byte) (PIN, error) {
		p, err := DecodePIN(b)
		if err == nil && int64(p.ID) != id {
			err = errors.New("answer is for another pin")
		}
		return p, err
	})
}

// User returns the account of a token.
func (c *Client) User(ctx context.Context, token string) (*User, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/v2/user", op: "GET /api/v2/user", endpoint: "user", token: token,
		json: true, retry: true}, DecodeUser)
}

// Resources lists the devices a token can access.
func (c *Client) Resources(ctx context.Context, token string) ([]Resource, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/v2/resources", op: "GET /api/v2/resources", endpoint: "resources",
		token: token, query: url.Values{"includeHttps": {"1"}, "includeRelay": {"1"}}, json: true, retry: true}, DecodeResources)
}

// SharedUsers lists the owner's friends and shares (/api/users, XML only).
func (c *Client) SharedUsers(ctx context.Context, ownerToken string) ([]SharedUser, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/users", op: "GET /api/users", endpoint: "users", token: ownerToken,
		retry: true}, DecodeSharedUsers)
}

// HomeUsers lists the Plex Home of the token's account (/api/home/users, XML only).
func (c *Client) HomeUsers(ctx context.Context, token string) ([]HomeUser, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/home/users", op: "GET /api/home/users", endpoint: "home.users",
		token: token, retry: true}, DecodeHomeUsers)
}

// SharedServers lists the shares of one of the owner's servers (XML only).
func (c *Client) SharedServers(ctx context.Context, ownerToken, machineID string) ([]SharedServer, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/servers/" + url.PathEscape(machineID) + "/shared_servers",
		op: "GET /api/servers/{machineId}/shared_servers", endpoint: "shared_servers", token: ownerToken, retry: true}, DecodeSharedServers)
}

// Friends reads the retired /api/v2/friends; plex.tv answers ErrGone now.
func (c *Client) Friends(ctx context.Context, ownerToken string) ([]Friend, error) {
	return fetch(ctx, c, request{method: http.MethodGet, path: "/api/v2/friends", op: "GET /api/v2/friends", endpoint: "friends",
		token: ownerToken, json: true, retry: true}, DecodeFriends)
}

// SignIn logs in with a login and password, and a verification code for 2FA accounts.
// It is never retried: a retry could count as another failure towards a lockout.
func (c *Client) SignIn(ctx context.Context, login, password, code string) (*User, error) {
	form := url.Values{"login": {login}, "password": {password}, "rememberMe": {"false"}}
	if code != "" {
		form.Set("verificationCode", code)
	}
	return fetch(ctx, c, request{method: http.MethodPost, path: "/api/v2/users/signin", op: "POST /api/v2/users/signin", endpoint: "signin",
		form: form, json: true}, DecodeUser)
}

// SwitchHomeUser switches to a Home user (by uuid) with the Home PIN; the answer carries that user's token.
func (c *Client) SwitchHomeUser(ctx context.Context, token, uuid, pin string) (*User, error) {
	q := url.Values{"includeProviders": {"0"}, "includeSettings": {"0"}, "includeSharedSettings": {"0"}}
	if pin != "" {
		q.Set("pin", pin)
	}
	return fetch(ctx, c, request{method: http.MethodPost, path: "/api/v2/home/users/" + url.PathEscape(uuid) + "/switch",
		op: "POST /api/v2/home/users/{uuid}/switch", endpoint: "switch", token: token, query: q, json: true}, DecodeUser)
}

// SignOut invalidates token at plex.tv (DELETE /api/v2/users/signout). A token plex.tv
// already refuses answers ErrUnauthorized or ErrInvalidToken (see IsRevokedToken).
func (c *Client) SignOut(ctx context.Context, token string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/api/v2/users/signout", op: "DELETE /api/v2/users/signout",
		endpoint: "signout", token: token, json: true, retry: true})
	return err
}

// AuthURL is the app.plex.tv address a browser is sent to for a PIN.
func AuthURL(appURL, clientID, code, product, forwardURL string) string {
	q := url.Values{}
	q.Set("clientID", clientID)
	q.Set("code", code)
	q.Set("context[device][product]", product)
	q.Set("forwardUrl", forwardURL)
	// url.Values sorts keys; plex.tv reads the fragment as a query string, any order.
	return strings.TrimRight(appURL, "/") + "/auth#?" + q.Encode()
}
