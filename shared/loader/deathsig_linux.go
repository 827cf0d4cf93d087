package loader

import (
	"os/exec"
	"syscall"
)

// dieWithHost has the kernel kill the plugin when the host dies (even by SIGKILL).
func dieWithHost(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
