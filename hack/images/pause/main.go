// Command pause is PID 1 of every pod sandbox on the test bed (the image containerd pins as its sandbox
// image): it holds the pod's namespaces open until the runtime stops it.
//
// As PID 1 it inherits every orphan of the pod's shared PID namespace, and nobody else will wait for them:
// it reaps them, or they pile up as zombies. The kernel drops SIGTERM and SIGINT sent to a PID 1 that has no
// handler for them, so they are handled explicitly, and stopping is a clean exit 0.
package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Buffered: SIGCHLDs that arrive while reaping may be dropped, and that is fine because one reap pass
	// collects every child that has exited so far.
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reapExited()
	}
}

// reapExited waits for every child that has already exited, without blocking on those still running.
func reapExited() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
	}
}
