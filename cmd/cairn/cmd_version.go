package main

import (
	"context"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/vault"
)

// version is cairn's version; release builds set it with
// -ldflags "-X main.version=v1.2.3".
var version = ""

// versionString returns the version: the one set at build time, else the
// module version Go recorded, else "devel".
func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func newVersionCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print cairn's version and the vault format it reads and writes",
		Example: `  cairn version`,
		Args:    wantArgs(),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runVersion(g)
		}),
	}
}

// versionResult is the JSON output of "version".
type versionResult struct {
	Version     string `json:"version"`
	VaultFormat int    `json:"vaultFormat"`
	Go          string `json:"go"`
	Platform    string `json:"platform"`
}

func runVersion(g *globalOptions) error {
	r := versionResult{Version: versionString(), VaultFormat: vault.FormatVersion, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if g.JSON {
		return g.printJSON(r)
	}
	g.printf("cairn %s (vault format %d; %s, %s)\n", r.Version, r.VaultFormat, r.Go, r.Platform)
	return nil
}
