package hosttest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FreePort is a loopback port for a server the test starts itself (nginx, Caddy,
// oauth2-proxy). It lies below the kernel's ephemeral range, so the port of an outgoing
// connection or of another test's ":0" listener cannot take it between this check and the
// server's bind (a port from ":0" can be, and was, taken in that gap).
func FreePort(tb testing.TB) string {
	tb.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 12000 {
				low = n
			}
		}
	}
	for range 200 {
		p := strconv.Itoa(10000 + rand.IntN(low-10000))
		if l, err := net.Listen("tcp", "127.0.0.1:"+p); err == nil {
			l.Close()
			return p
		}
	}
	tb.Fatal(fmt.Errorf("no free loopback port below %d", low))
	return ""
}
