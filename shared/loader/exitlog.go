package loader

import "github.com/hashicorp/go-hclog"

// exitLogger is the logger go-plugin reports a plugin's exit on. An exit by SIGTERM is a
// stop, not a failure: a service manager stopping the host (systemd signals the whole
// cgroup, kill -TERM -PGID the process group) stops its plugins with the same signal, and a
// clean stop logs at info. (SIGINT, a terminal's Ctrl-C, does not stop a plugin: go-plugin's
// server ignores it and the host stops the plugin itself.) Any other exit with an error stays an error; a
// plugin stopped while its host goes on is still restarted, with the loader's warning.
type exitLogger struct{ hclog.Logger }

// exitMessage is go-plugin's line for a plugin process that ended.
const exitMessage = "plugin process exited"

// Error logs a signalled exit at info, anything else at error.
func (l exitLogger) Error(msg string, args ...any) {
	if msg == exitMessage && stoppedBySignal(args) {
		l.Logger.Info(msg, args...)
		return
	}
	l.Logger.Error(msg, args...)
}

// stoppedBySignal reports whether the key/value pairs carry the error of a process ended by
// SIGTERM (os/exec's "signal: terminated").
func stoppedBySignal(args []any) bool {
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "error" {
			return args[i+1] == "signal: terminated"
		}
	}
	return false
}
