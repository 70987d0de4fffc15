// Command cairn backs up the disks of virtual machines into deduplicated,
// compressed and encrypted vaults, and restores them. Run "cairn --help"
// for the commands, and "cairn demo" to see it work.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cairn-vm/cairn/internal/cairn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one kills at once.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, newGlobalOptions(os.Stdin, os.Stdout, os.Stderr, os.Getenv), os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit codes, as the root command's help lists them.
const (
	exitOK          = 0
	exitOther       = 1
	exitInvalid     = 2
	exitPassphrase  = 3
	exitNotFound    = 4
	exitConflict    = 5
	exitDamage      = 6
	exitUnsupported = 7
	exitInterrupted = 130
)

// exitCode maps an error to the process's exit code by its kind. It is the
// only place that does.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	switch cairn.KindOf(err) {
	case cairn.Invalid:
		return exitInvalid
	case cairn.Permission:
		return exitPassphrase
	case cairn.NotExist:
		return exitNotFound
	case cairn.Conflict, cairn.Exist:
		return exitConflict
	case cairn.Corrupt:
		return exitDamage
	case cairn.Unsupported:
		return exitUnsupported
	case cairn.Canceled:
		return exitInterrupted
	default:
		return exitOther
	}
}
