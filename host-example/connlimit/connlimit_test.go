package connlimit

import (
	"bufio"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends one request on c and reports whether an answer came back.
func get(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Idle connections from one client stop at its cap; other clients are still served, and a
// closed connection frees its place.
func TestPerClientAndTotalCaps(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trusted := netip.MustParseAddr("127.0.0.9")
	l := New(ln, 6, 3, func(a netip.Addr) bool { return a == trusted })
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	defer srv.Close()
	addr := ln.Addr().String()

	var idle []net.Conn
	for i := 0; i < 3; i++ {
		c := dialFrom(t, "127.0.0.1", addr)
		if !get(c) {
			t.Fatalf("connection %d within the cap not served", i)
		}
		idle = append(idle, c)
	}
	if get(dialFrom(t, "127.0.0.1", addr)) {
		t.Fatal("a fourth connection from one client was served")
	}
	if !get(dialFrom(t, "127.0.0.2", addr)) {
		t.Fatal("another client was refused")
	}
	before := l.Open()
	idle[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for l.Open() >= before && time.Now().Before(deadline) { // the server notices the close
		time.Sleep(10 * time.Millisecond)
	}
	if !get(dialFrom(t, "127.0.0.1", addr)) {
		t.Fatal("a freed place was not reused")
	}
	// The trusted proxy has no per-client cap, only the total.
	for i := 0; l.Open() < 6; i++ {
		if !get(dialFrom(t, "127.0.0.9", addr)) {
			t.Fatalf("trusted proxy connection %d refused below the total", i)
		}
	}
	if get(dialFrom(t, "127.0.0.9", addr)) {
		t.Fatal("total cap not applied")
	}
}
