package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/vault"
)

// verifyOptions are the flags of "verify".
type verifyOptions struct {
	ReadData bool
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Check a vault for damage",
		Long: `Check the vault in DIR: every restore point and manifest opens and agrees
with itself, and every chunk they name exists. With --read-data, every
chunk is also read back, decrypted, decompressed and checked against its
hash, which reads the whole vault.

Damage is reported per restore point; the exit code is then 6. Chunks that
no restore point uses (left by forget or by interrupted backups) are not
damage: 'cairn prune' removes them.`,
		Example: `  cairn verify /srv/vault
  cairn verify /srv/vault --read-data --json`,
		Args: wantArgs("DIR"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runVerify(ctx, opts, g, args[0])
		}),
	}
	cmd.Flags().BoolVar(&opts.ReadData, "read-data", false, "read back and check every chunk's content")
	return cmd
}

// verifyResult is the JSON output of "verify".
type verifyResult struct {
	OK bool `json:"ok"`
	*vault.VerifyReport
}

func runVerify(ctx context.Context, opts verifyOptions, g *globalOptions, dir string) error {
	return g.withVault(ctx, dir, func(v *vault.Vault) error {
		prog := g.newProgress()
		const item = "chunks"
		var once sync.Once
		started := false
		vopts := vault.VerifyOptions{ReadData: opts.ReadData}
		vopts.Progress = func(_, total int64) {
			once.Do(func() {
				started = true
				startCount(prog, item, total)
			})
			prog.Add(item, 1)
		}
		rep, err := v.Verify(ctx, vopts)
		once.Do(func() {})
		if started {
			prog.Done(item)
		}
		prog.Close()
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if g.JSON {
			if err := g.printJSON(verifyResult{OK: rep.OK(), VerifyReport: rep}); err != nil {
				return err
			}
		} else {
			printVerify(g, rep, opts.ReadData)
		}
		if !rep.OK() {
			return damageError(rep)
		}
		return nil
	})
}

func printVerify(g *globalOptions, rep *vault.VerifyReport, readData bool) {
	for _, p := range rep.Points {
		state := "ok     "
		if p.Damaged {
			state = "DAMAGED"
		} else if g.Quiet {
			continue
		}
		vm := p.VM
		if vm == "" {
			vm = "?"
		}
		fmt.Fprintf(g.stdout, "%s  %s  %s  %s\n", state, p.ID, p.Time, vm)
		for _, pr := range p.Problems {
			fmt.Fprintf(g.stdout, "         %s\n", pr)
		}
	}
	for _, pr := range rep.VaultProblems {
		fmt.Fprintf(g.stdout, "vault problem: %s\n", pr)
	}
	g.printf("%s; %d chunks, %d referenced, %d missing, %d damaged\n",
		plural(len(rep.Points), "restore point"), rep.Chunks, rep.Referenced, rep.Missing, rep.Damaged)
	if readData {
		g.printf("read %d chunks back (%s of data)\n", rep.ChunksRead, ui.Bytes(rep.BytesRead))
	} else {
		g.printf("chunk contents were not read: use --read-data to check them too\n")
	}
	if rep.Unreferenced > 0 {
		g.printf("%d chunks are used by no restore point: 'cairn prune' removes them\n", rep.Unreferenced)
	}
	for _, l := range rep.StaleLocks {
		g.warnf("stale %s lock %s (host %s, pid %d, last refreshed %s): its process is probably gone; 'cairn prune' removes it",
			l.Kind, l.ID, l.Host, l.PID, localTime(l.Refreshed))
	}
	if rep.OK() {
		g.printf("no damage found\n")
	}
}

// damageError is the error verify returns when it found damage.
func damageError(rep *vault.VerifyReport) error {
	ids := rep.DamagedPoints()
	var what []string
	if len(ids) > 0 {
		label := "damaged restore point"
		if len(ids) > 1 {
			label += "s"
		}
		what = append(what, label+" "+strings.Join(ids, ", "))
	}
	if len(rep.VaultProblems) > 0 {
		what = append(what, plural(len(rep.VaultProblems), "vault problem"))
	}
	return cairn.E(cairn.Corrupt, fmt.Errorf("damage found: %s", strings.Join(what, "; ")))
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
