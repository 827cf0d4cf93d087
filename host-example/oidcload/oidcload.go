// Package oidcload measures the OpenID Connect provider's token endpoint under an open-loop
// load at a fixed rate: refresh-token grants (rotation included) or code exchanges, with the
// achieved rate, errors and latency percentiles.
package oidcload

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options of a run.
type Options struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Grant is "refresh_token" or "authorization_code".
	Grant string
	// Rate is requests per second; Duration how long to send.
	Rate     int
	Duration time.Duration
	// Codes or RefreshTokens feed the requests (a code once; a refresh family continues with each answer).
	Codes         []string
	RefreshTokens []string
}

// Result is what a run measured.
type Result struct {
	Sent, OK, Errors, Starved int
	Achieved                  float64
	P50, P99, Max             time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("sent %d, ok %d, errors %d, starved %d; %.0f ok/s; p50 %v, p99 %v, max %v",
		r.Sent, r.OK, r.Errors, r.Starved, r.Achieved, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

// RunN sends n requests, conc at a time (closed loop: benchmarks).
func RunN(ctx context.Context, o Options, n, conc int) (Result, error) {
	o.Rate, o.Duration = 0, 0
	return run(ctx, o, n, conc)
}

// Run sends requests at the fixed rate (open loop: a slow answer does not slow the sender).
func Run(ctx context.Context, o Options) (Result, error) {
	return run(ctx, o, 0, 0)
}

// run is open loop at o.Rate for o.Duration, or (n > 0) closed loop: n requests, conc at a time.
func run(ctx context.Context, o Options, n, conc int) (Result, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	ready := make(chan string, len(o.RefreshTokens)+len(o.Codes))
	for _, t := range o.RefreshTokens {
		ready <- t
	}
	for _, c := range o.Codes {
		ready <- c
	}
	var mu sync.Mutex
	var lat []time.Duration
	var ok, errs, starved, sent atomic.Int64
	var wg sync.WaitGroup
	var interval time.Duration
	var slots chan struct{}
	if n > 0 {
		slots = make(chan struct{}, conc)
	} else {
		interval = time.Second / time.Duration(o.Rate)
	}
	start := time.Now()
	next := start
	for ctx.Err() == nil {
		var cred string
		if n > 0 {
			if int(sent.Load()) >= n {
				break
			}
			slots <- struct{}{}
			cred = <-ready
		} else {
			if time.Since(start) >= o.Duration {
				break
			}
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			select {
			case cred = <-ready:
			default:
				starved.Add(1)
				continue
			}
		}
		sent.Add(1)
		wg.Add(1)
		go func(cred string) {
			defer wg.Done()
			if slots != nil {
				defer func() { <-slots }()
			}
			form := url.Values{"grant_type": {o.Grant}}
			if o.Grant == "refresh_token" {
				form.Set("refresh_token", cred)
			} else {
				form.Set("code", cred)
				form.Set("redirect_uri", "http://127.0.0.1:9/callback")
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.TokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(o.ClientID), url.QueryEscape(o.ClientSecret))
			t0 := time.Now()
			resp, err := client.Do(req)
			d := time.Since(t0)
			if err != nil {
				errs.Add(1)
				return
			}
			var body struct {
				RefreshToken string `json:"refresh_token"`
				IDToken      string `json:"id_token"`
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &body) != nil || body.IDToken == "" {
				errs.Add(1)
				return
			}
			ok.Add(1)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
			if body.RefreshToken != "" {
				ready <- body.RefreshToken
			}
		}(cred)
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := Result{Sent: int(sent.Load()), OK: int(ok.Load()), Errors: int(errs.Load()), Starved: int(starved.Load())}
	r.Achieved = float64(r.OK) / elapsed.Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if n := len(lat); n > 0 {
		r.P50, r.P99, r.Max = lat[n/2], lat[n*99/100], lat[n-1]
	}
	return r, nil
}
