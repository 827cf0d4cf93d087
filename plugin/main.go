// Command plex-source is the Plex federated-source plugin. Run it through a host;
// run by hand it says so and exits.
package main

import (
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/plexlogin/plexlogin/plugin/plexsource"
	"github.com/plexlogin/plexlogin/shared/pluginrpc"
)

func main() {
	logger := hclog.New(&hclog.LoggerOptions{Name: "plex", Output: os.Stderr, JSONFormat: true,
		Level: hclog.LevelFromString(os.Getenv("FEDSOURCE_LOG_LEVEL"))})
	pluginrpc.Serve(plexsource.New(plexsource.Options{
		BaseURL: os.Getenv("PLEX_TV_URL"),
		AppURL:  os.Getenv("PLEX_APP_URL"),
		// The device-key endpoints: PLEX_CLIENTS_URL, else PLEX_TV_URL (a simulator serves
		// every host name alike), else https://clients.plex.tv.
		ClientsURL: os.Getenv("PLEX_CLIENTS_URL"),
		Logger:     logger,
	}))
}
