package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("no answer: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("the target answered %s", res.Status)
	}
	return nil
}
