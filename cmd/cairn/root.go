package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
)

const rootLong = `cairn backs up the disks of virtual machines into a vault: a directory of
deduplicated, compressed and encrypted chunks. Each backup makes a restore
point holding every disk of one VM at one moment; any restore point restores
byte for byte on its own. Incremental backups read only what a change map
names, or read everything and store only new chunks.

Every command but 'demo' and 'version' takes the vault directory as its
first argument, except those of the server: 'serve' runs it on a data
directory (--data), and 'token', 'project', 'vm' and 'catalog' work on that
directory or, with --server URL --token T, through a running server.

Passphrase: a vault is sealed by a passphrase, taken from the file given by
--password-file, else from the CAIRN_PASSWORD environment variable, else
asked on the terminal (twice for 'vault init'), without echo.

Output: people get tables and summaries on stdout and progress bars on
stderr when stderr is a terminal. With --json, commands print one JSON
document on stdout and progress as JSON lines on stderr (unless
--no-progress); errors and warnings stay one-line text on stderr, starting
with "cairn:" and "warning:".

Exit codes:
  0    success
  1    other error (e.g. reading or writing failed)
  2    invalid input or usage
  3    wrong passphrase, or a token the server refuses
  4    not found: the vault, a restore point, a disk or a disk image
  5    busy or conflict: another operation holds the vault, or the target
       already exists (restore without --overwrite, init of an existing vault)
  6    damage found (verify) or a corrupted object met (restore)
  7    unsupported: the vault's format is newer than this cairn; upgrade cairn
  130  interrupted by SIGINT or SIGTERM`

const rootExample = `  export CAIRN_PASSWORD='correct horse battery staple'
  cairn vault init /srv/vault
  cairn backup /srv/vault --vm web --disk os=web-os.raw --disk data0=web-data.raw
  cairn backup /srv/vault --vm web --disk os=web-os.raw --disk data0=web-data.raw --changes os=os-dirty.json
  cairn list /srv/vault
  cairn restore /srv/vault latest --to ./out/
  cairn verify /srv/vault --read-data
  cairn forget /srv/vault --keep-daily 14 --keep-weekly 8 --prune
  cairn demo`

// newRootCommand builds the command tree around g.
func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:           "cairn",
		Short:         "Back up and restore the disks of virtual machines",
		Long:          rootLong,
		Example:       rootExample,
		SilenceErrors: true,
		SilenceUsage:  true,
		// No completion command: it would only add noise to the list.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	f := root.PersistentFlags()
	f.BoolVar(&g.JSON, "json", false, "print one JSON document on stdout, progress as JSON lines on stderr")
	f.BoolVarP(&g.Quiet, "quiet", "q", false, "print only errors, warnings and what scripts need")
	f.BoolVar(&g.NoProgress, "no-progress", false, "show no progress (bars or JSON lines)")
	f.StringVar(&g.PasswordFile, "password-file", "", "read the vault passphrase from `FILE` (one trailing newline is ignored)")
	g.clientFlags(f)

	root.AddCommand(
		newVaultCommand(g),
		newBackupCommand(g),
		newListCommand(g),
		newRestoreCommand(g),
		newVerifyCommand(g),
		newForgetCommand(g),
		newPruneCommand(g),
		newDemoCommand(g),
		newVersionCommand(g),
		newServeCommand(g),
		newTokenCommand(g),
		newCredentialCommand(g),
		newProjectCommand(g),
		newVMCommand(g),
		newCatalogCommand(g),
	)
	return root
}

// run executes the command line args and returns the exit code. An error
// is written to stderr as one line.
func run(ctx context.Context, g *globalOptions, args []string) int {
	root := newRootCommand(g)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		err = cairn.E(cairn.Canceled, fmt.Errorf("interrupted: %w", err))
	case !g.started:
		// Cobra failed before the command ran: a usage error.
		path := "cairn"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		err = cairn.E(cairn.Invalid, fmt.Errorf("%w (see '%s --help')", err, path))
	}
	fmt.Fprintf(g.stderr, "cairn: %s\n", oneLine(err.Error()))
	return exitCode(err)
}

// oneLine joins the lines of a multi-line message.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// action adapts a command's run function to cobra: it marks the command as
// started (errors before that are usage errors) and passes the context.
func action(g *globalOptions, fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		g.started = true
		return fn(cmd.Context(), args)
	}
}

// wantArgs checks a command's positional arguments against their names.
func wantArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return fmt.Errorf("missing argument %s (usage: %s)", names[len(args)], cmd.UseLine())
		}
		if len(args) > len(names) {
			return fmt.Errorf("unexpected argument %q (usage: %s)", args[len(names)], cmd.UseLine())
		}
		return nil
	}
}
