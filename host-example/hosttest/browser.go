package hosttest

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

// Upstream is the simulated identity upstream a source's logins go to: the simulator and
// its address.
type Upstream struct {
	Sim *plexsim.Sim
	URL string
}

// Browser is the tests' browser without JavaScript: it keeps cookies, sends Header with
// every request, answers a redirect instead of following it (Follow follows them), and keeps
// the last page, whose CSRF token Submit sends.
type Browser struct {
	// Client sends the requests; its Jar keeps the cookies.
	Client *http.Client
	// Header is sent with every request.
	Header http.Header
	// Base is put before a URL that starts with "/".
	Base string
	// Stay tells whether Follow goes on to next (an absolute URL); nil: while it is on Base.
	Stay func(next string) bool
	// Remember ticks "Keep me signed in on this device" on the sign-in form StartLogin sends.
	Remember bool

	t    testing.TB
	up   Upstream
	mu   sync.Mutex // guards last: a test may send from several goroutines
	last Page
}

// Page is one answer, read whole.
type Page struct {
	Status int
	Body   string
	// Location is the Location header as sent.
	Location string
	// Redirect is Location resolved against the request's URL ("" without a Location).
	Redirect string
	Header   http.Header
}

// NewBrowser is a browser of the host at base, with no cookies, whose logins go to up.
func NewBrowser(t testing.TB, base string, up Upstream) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, Base: base, up: up, Header: http.Header{}, Client: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Via is a browser with b's cookies, Base and upstream (and no Header) that sends every
// request, whatever its URL's host, to addr: a proxy's or one replica's address.
func (b *Browser) Via(addr string) *Browser {
	return &Browser{t: b.t, Base: b.Base, Stay: b.Stay, up: b.up, Header: http.Header{}, Client: ClientVia(addr, b.Client.Jar)}
}

// ClientVia is an HTTP client that sends every request, whatever its URL's host, to addr,
// keeps cookies in jar (nil: none) and does not follow redirects.
func ClientVia(addr string, jar http.CookieJar) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}}
}

// Do sends one request (form, when set, is its urlencoded body) and answers the page.
func (b *Browser) Do(method, u string, form url.Values) Page {
	b.t.Helper()
	p, err := b.Try(method, u, form)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	return p
}

// Try is Do that answers the error instead of failing the test.
func (b *Browser) Try(method, u string, form url.Values) (Page, error) {
	if strings.HasPrefix(u, "/") {
		u = b.Base + u
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return Page{}, err
	}
	for k, v := range b.Header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	p := Page{Status: resp.StatusCode, Body: string(data), Location: resp.Header.Get("Location"), Header: resp.Header}
	if p.Location != "" {
		if l, err := resp.Request.URL.Parse(p.Location); err == nil {
			p.Redirect = l.String()
		}
	}
	b.mu.Lock()
	b.last = p
	b.mu.Unlock()
	return p, nil
}

// Get GETs u.
func (b *Browser) Get(u string) Page {
	b.t.Helper()
	return b.Do(http.MethodGet, u, nil)
}

// PostForm POSTs form to u as it is.
func (b *Browser) PostForm(u string, form url.Values) Page {
	b.t.Helper()
	return b.Do(http.MethodPost, u, form)
}

// Upload POSTs a multipart form to u: fields (the CSRF token of the last page unless they
// hold one) and one file in field, named name, of the declared contentType.
func (b *Browser) Upload(u string, fields url.Values, field, name, contentType string, data []byte) Page {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if fields.Get("csrf") == "" {
		_ = w.WriteField("csrf", b.CSRF())
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, name))
	h.Set("Content-Type", contentType)
	part, _ := w.CreatePart(h)
	_, _ = part.Write(data)
	_ = w.Close()
	if strings.HasPrefix(u, "/") {
		u = b.Base + u
	}
	req, err := http.NewRequest(http.MethodPost, u, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range b.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("upload to %s: %v", u, err)
	}
	defer resp.Body.Close()
	data, _ = io.ReadAll(resp.Body)
	p := Page{Status: resp.StatusCode, Body: string(data), Location: resp.Header.Get("Location"), Header: resp.Header}
	b.mu.Lock()
	b.last = p
	b.mu.Unlock()
	return p
}

// Submit POSTs form to u with the CSRF token of the last page (form is not changed).
func (b *Browser) Submit(u string, form url.Values) Page {
	b.t.Helper()
	f := url.Values{"csrf": {b.CSRF()}}
	for k, v := range form {
		f[k] = v
	}
	return b.PostForm(u, f)
}

// Last is the last page answered.
func (b *Browser) Last() Page {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// CSRF is the CSRF token of the last page ("" without one).
func (b *Browser) CSRF() string { return b.Last().CSRF() }

// Follow GETs u and the redirects it answers while they Stay; it answers the first page
// that is no redirect to follow.
func (b *Browser) Follow(u string) Page {
	b.t.Helper()
	for range 20 {
		p := b.Get(u)
		if p.Redirect == "" || !b.stays(p.Redirect) {
			return p
		}
		u = p.Redirect
	}
	b.t.Fatalf("redirect loop from %s", u)
	return Page{}
}

// stays tells whether Follow goes on to next.
func (b *Browser) stays(next string) bool {
	if b.Stay != nil {
		return b.Stay(next)
	}
	return strings.HasPrefix(next, b.Base+"/")
}

// StartLogin presses "Sign in with" the source slug on the login page last (sending its CSRF
// token and return address); it answers the upstream's address the host sent the browser to.
func (b *Browser) StartLogin(last Page, slug string) string {
	b.t.Helper()
	csrf := last.CSRF()
	if csrf == "" {
		b.t.Fatalf("no login form: %d %.500s", last.Status, last.Body)
	}
	form := url.Values{"csrf": {csrf}, "return": {last.Field("return")}}
	if b.Remember {
		form.Set("remember", "1")
	}
	p := b.PostForm("/login/"+slug, form)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Redirect, b.up.URL+"/auth#?") {
		b.t.Fatalf("begin login: %d %s %.500s", p.Status, p.Location, p.Body)
	}
	return p.Redirect
}

// Approve approves, as persona at the upstream, the login the host sent the browser to at
// auth; it answers the address the upstream sends the browser back to.
func (b *Browser) Approve(auth, persona string) string {
	b.t.Helper()
	code, back, err := plexsim.ForwardURL(auth)
	if err != nil || code == "" {
		b.t.Fatalf("no login at the upstream: %s %v", auth, err)
	}
	if err := b.up.Sim.Claim(code, persona); err != nil {
		b.t.Fatal(err)
	}
	return back
}

// SignIn signs in on the login page last with the source slug as persona and answers the
// page after the way back, its redirects followed while they Stay.
func (b *Browser) SignIn(last Page, slug, persona string) Page {
	b.t.Helper()
	return b.Follow(b.Approve(b.StartLogin(last, slug), persona))
}

// Login opens the login page, signs in with the source slug as persona and answers the
// first answer of the way back (not followed).
func (b *Browser) Login(slug, persona string) Page {
	b.t.Helper()
	return b.Get(b.Approve(b.StartLogin(b.Get("/login"), slug), persona))
}

// AdminLogin signs in to the admin pages with password.
func (b *Browser) AdminLogin(password string) {
	b.t.Helper()
	b.Get("/admin/login")
	if p := b.Submit("/admin/login", url.Values{"password": {password}}); p.Status != http.StatusSeeOther || p.Location != "/admin" {
		b.t.Fatalf("admin login: %d %s %.500s", p.Status, p.Location, p.Body)
	}
}

// CSRF is the page's CSRF token ("" without one).
func (p Page) CSRF() string {
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		return m[1]
	}
	return ""
}

// csrfRE finds a form's CSRF token.
var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// Field is the value of the page's first form field name, unescaped ("" without one).
func (p Page) Field(name string) string {
	re := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`)
	if m := re.FindStringSubmatch(p.Body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}
