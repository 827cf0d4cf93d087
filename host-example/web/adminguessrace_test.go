package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/plexlogin/plexlogin/host-example/app"
)

// post sends form as b would, from any goroutine: it answers the status, or 0 on an error.
func (b *browser) post(path string, form url.Values) int {
	req, _ := http.NewRequest("POST", b.h.host.URL+path, strings.NewReader(form.Encode()))
	for k, v := range b.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.Client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// concurrently posts each browser's form at once and counts the answers by status.
func concurrently(bs []*browser, path string, forms []url.Values) map[int]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	got := map[int]int{}
	start := make(chan struct{})
	for i := range bs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			st := bs[i].post(path, forms[i])
			mu.Lock()
			got[st]++
			mu.Unlock()
		}(i)
	}
	close(start)
	wg.Wait()
	return got
}

// Wrong admin passwords sent all at once from many addresses are checked no more often than
// the global backoff allows one after another: a failure's token is taken before the check,
// not after it.
func TestConcurrentAdminGuessesKeepTheGlobalBackoff(t *testing.T) {
	h := newHarness(t, func(c *app.Config) { c.TrustedProxies = trustLoopback })
	const n = 60
	bs, forms := make([]*browser, n), make([]url.Values, n)
	for i := range bs {
		bs[i] = h.browser()
		bs[i].Header.Set("X-Forwarded-For", fmt.Sprintf("10.1.%d.%d", i/200, i%200+1))
		p := bs[i].Do("GET", "/admin/login", nil)
		forms[i] = url.Values{"csrf": {p.CSRF()}, "password": {fmt.Sprintf("guess-%d-xxxxxx", i)}}
	}
	got := concurrently(bs, "/admin/login", forms)
	// The global bucket holds 20 (adminFailuresAllBurst); a few more may refill meanwhile.
	if got[http.StatusUnauthorized] > 22 {
		t.Fatalf("%d wrong passwords checked at once from %d addresses (the global backoff allows 20): %v", got[http.StatusUnauthorized], n, got)
	}
}
