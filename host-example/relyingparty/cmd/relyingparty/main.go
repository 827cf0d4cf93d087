// Command relyingparty is the demo's application that logs in through host-example.
//
//	RP_CLIENT_SECRET=… relyingparty -listen 127.0.0.1:8082 -issuer http://127.0.0.1:8080 -client-id demo-app
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/plexlogin/plexlogin/host-example/relyingparty"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8082", "address to listen on")
	public := flag.String("public-url", "", "the app's public URL (default http://<listen>)")
	issuer := flag.String("issuer", "http://127.0.0.1:8080", "the OpenID Connect provider")
	clientID := flag.String("client-id", "demo-app", "the app's client id")
	flag.Parse()
	if *public == "" {
		*public = "http://" + *listen
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app, err := relyingparty.New(ctx, relyingparty.Config{Issuer: *issuer, ClientID: *clientID,
		ClientSecret: os.Getenv("RP_CLIENT_SECRET"), PublicURL: *public})
	if err != nil {
		fmt.Fprintln(os.Stderr, "relyingparty:", err)
		os.Exit(1)
	}
	fmt.Printf("Demo app: %s\n", *public)
	srv := &http.Server{Addr: *listen, Handler: app.Handler(), ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "relyingparty:", err)
		os.Exit(1)
	}
}
