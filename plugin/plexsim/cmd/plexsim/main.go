// Command plexsim serves the simulated plex.tv and app.plex.tv on one address.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/plexlogin/plexlogin/plugin/plexsim"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:32499", "address to serve on")
	latency := flag.Duration("latency", 0, "delay every API answer by this much")
	ownerToken := flag.String("owner-token", "", "also accept this token as the owner persona's (for a pre-configured demo)")
	publicURL := flag.String("public-url", "", "base URL clients reach this sim at (default http://<listen>); resources point at its simulated servers there")
	flag.Parse()
	sim := plexsim.NewDefault()
	sim.SetLatency(*latency)
	if *publicURL == "" {
		host, port, err := net.SplitHostPort(*addr)
		if err != nil {
			log.Fatalf("-listen %q: %v", *addr, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		*publicURL = "http://" + net.JoinHostPort(host, port)
	}
	sim.SetPublicURL(*publicURL)
	if *ownerToken != "" {
		sim.AddToken("owner", *ownerToken)
	}
	srv := &http.Server{Addr: *addr, Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("simulated plex.tv on http://%s, public URL %s (app page at /auth, Plex Web at /web/, servers under %s{machineID}/, personas at /__sim/personas)", *addr, *publicURL, plexsim.PMSPrefix)
	log.Fatal(srv.ListenAndServe())
}
