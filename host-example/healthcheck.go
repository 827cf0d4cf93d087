package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// healthTimeout bounds the whole healthcheck: a container runtime's own timeout is longer.
const healthTimeout = 5 * time.Second

// healthcheckCommand asks the local host's /healthz (on -listen, HOST_LISTEN, as serve reads
// it; an address on every interface is asked on loopback) and fails unless it answers 200:
// a container's healthcheck, where there is no curl.
func healthcheckCommand(args []string, _ io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	ef := newEnvFlags(fs, usage)
	listen := fs.String("listen", defaultListen, "the address host-example serves on (as serve's -listen)")
	ef.bind("listen", "HOST_LISTEN")
	if err := ef.parse(args); err != nil {
		return err
	}
	u := proxyURL(*listen)
	if u == nil {
		return usageErrorf("-listen %q is not host:port", *listen)
	}
	u.Path = "/healthz"
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	// Straight to the host, never through an HTTP_PROXY of the environment.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 256))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", u, res.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "%s: %s\n", u, strings.TrimSpace(string(body)))
	return nil
}
