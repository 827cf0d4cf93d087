package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// sendTimeout bounds one delivery (connecting, sending, the answer's head).
const sendTimeout = 10 * time.Second

// newClient is the HTTP client of deliveries: no redirect is followed (a target answers
// where it is), and an HTTP_PROXY of the environment is used as for any outgoing request.
func newClient() *http.Client {
	return &http.Client{Timeout: sendTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// post sends req to target URL u; any answer but 2xx is an error. The error never holds the
// URL (a Discord webhook's URL is its secret).
func post(ctx context.Context, client *http.Client, u string, req Request) error {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(req.Body))
	if err != nil {
		return errors.New("the URL is not valid")
	}
	hr.Header = req.Header.Clone()
	hr.Header.Set("User-Agent", "host-example-notify/1")
	res, err := client.Do(hr)
	if err != nil {
		return noAnswer(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		// The code in the standard's words, not the status line's own: a target is any
		// address the host reaches, and the page shows no more of its answer than its status.
		return fmt.Errorf("the target answered %d %s", res.StatusCode, http.StatusText(res.StatusCode))
	}
	return nil
}

// noAnswer is why a delivery got no HTTP answer, in words that hold nothing the target
// sent: a service that is no HTTP server (an SSH banner, a database's error) would otherwise
// have its first line shown on the page. Nor do they hold the URL's path or query.
func noAnswer(err error) error {
	var (
		ne   net.Error
		dns  *net.DNSError
		op   *net.OpError
		cert *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &dns):
		return fmt.Errorf("no answer: %w", dns)
	case errors.As(err, &cert):
		return errors.New("no answer: the target's TLS certificate is not trusted for its address")
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer within %s", sendTimeout)
	case errors.As(err, &op):
		return fmt.Errorf("no answer: %w", op) // the address and what the system said
	}
	return errors.New("no HTTP answer: the connection closed, or what came back was not HTTP")
}
