//go:build !linux

package loader

import "os/exec"

// dieWithHost relies on the plugin's own parent watch (pluginrpc.Serve) where the kernel
// offers no parent-death signal.
func dieWithHost(*exec.Cmd) {}
