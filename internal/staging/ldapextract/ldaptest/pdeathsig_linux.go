package ldaptest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills slapd when the test binary dies without
// running its cleanups (a timeout, a kill), so that no server is left behind.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
