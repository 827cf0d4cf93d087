// Command mockplugin serves the mock source as a plugin process.
package main

import (
	"github.com/plexlogin/plexlogin/shared/mock"
	"github.com/plexlogin/plexlogin/shared/pluginrpc"
)

func main() { pluginrpc.Serve(mock.New()) }
