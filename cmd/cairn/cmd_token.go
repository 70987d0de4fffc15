package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// newTokenCommand returns the "token" command group.
func newTokenCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and delete the server's bearer tokens",
		Long: `Manage the bearer tokens of cairn serve. A token is scoped to one project:
it never reaches another project's records. Only the hash of a token is
stored; its secret is shown once, when it is made.

Locally (--data DIR, the default ./cairn-data) the commands work on the
data directory as its administrator; with --server URL they go through the
server with --token (CAIRN_SERVER, CAIRN_TOKEN).`,
		RunE: groupRunE,
	}
	cmd.AddCommand(newTokenCreateCommand(g), newTokenListCommand(g), newTokenDeleteCommand(g))
	return cmd
}

// groupRunE is the RunE of a command group: an unknown subcommand is an
// error rather than a silent help text.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}

// tokenCreateOptions are the flags of "token create".
type tokenCreateOptions struct {
	dataOptions
	Name  string
	Admin bool
	TTL   time.Duration
}

func newTokenCreateCommand(g *globalOptions) *cobra.Command {
	var opts tokenCreateOptions
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Make a token and print its secret, once",
		Long: `Make a bearer token of a project and print its secret. The secret is shown
this once: keep it. With --quiet only the secret is printed, for scripts.

An admin token may also make projects and tokens of other projects; only
an admin may make one.`,
		Example: `  cairn token create --name ci
  cairn token create --project team-b --name deploy --ttl 720h
  cairn --server https://127.0.0.1:8443 --token "$(cat cairn-data/admin-token)" token create --name ci`,
		Args: cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runTokenCreate(ctx, opts, g)
		}),
	}
	f := cmd.Flags()
	opts.addFlags(f, true)
	f.StringVar(&opts.Name, "name", "", "the token's `NAME`, unique in its project (required)")
	f.BoolVar(&opts.Admin, "admin", false, "make an admin token")
	f.DurationVar(&opts.TTL, "ttl", 0, "the token expires after `DURATION` (e.g. 720h; default: never)")
	return cmd
}

func runTokenCreate(ctx context.Context, opts tokenCreateOptions, g *globalOptions) error {
	if opts.Name == "" {
		return usageError("--name is required: name the token (e.g. --name ci)")
	}
	if opts.TTL < 0 {
		return usageError("--ttl must not be negative")
	}
	spec := nativeapi.TokenSpec{Name: opts.Name, Admin: opts.Admin, TTLSeconds: int64(opts.TTL / time.Second)}
	if opts.TTL > 0 && spec.TTLSeconds == 0 {
		spec.TTLSeconds = 1
	}
	project := opts.Project
	if g.server() == "" {
		project = "" // openAPI acts as the project's admin
	}
	return g.withAPI(ctx, opts.dataOptions, func(api nativeapi.API) error {
		pid, err := remoteProject(ctx, api, project)
		if err != nil {
			return err
		}
		spec.ProjectID = pid
		t, err := api.CreateToken(ctx, spec)
		if err != nil {
			return err
		}
		if g.JSON {
			return g.printJSON(t)
		}
		if g.Quiet {
			fmt.Fprintln(g.stdout, t.Secret)
			return nil
		}
		kind := "token"
		if t.Token.Admin {
			kind = "admin token"
		}
		g.printf("%s %q (id %s) of project %s; its secret, shown this once:\n", kind, t.Token.Name, t.Token.ID, t.Token.ProjectID)
		fmt.Fprintln(g.stdout, t.Secret)
		return nil
	})
}

func newTokenListCommand(g *globalOptions) *cobra.Command {
	var opts dataOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a project's tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runTokenList(ctx, opts, g)
		}),
	}
	opts.addFlags(cmd.Flags(), true)
	return cmd
}

func runTokenList(ctx context.Context, opts dataOptions, g *globalOptions) error {
	project := opts.Project
	if g.server() == "" {
		project = ""
	}
	return g.withAPI(ctx, opts, func(api nativeapi.API) error {
		pid, err := remoteProject(ctx, api, project)
		if err != nil {
			return err
		}
		var all []nativeapi.Token
		pg := nativeapi.Page{}
		for {
			l, err := api.ListTokens(ctx, pid, pg)
			if err != nil {
				return err
			}
			all = append(all, l.Items...)
			if l.NextPageToken == "" {
				break
			}
			pg.Token = l.NextPageToken
		}
		if g.JSON {
			return g.printJSON(nativeapi.List[nativeapi.Token]{Items: all})
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tADMIN\tCREATED\tEXPIRES")
		for _, t := range all {
			exp := "never"
			if t.Expires != nil {
				exp = localTime(*t.Expires)
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", t.ID, t.Name, t.Admin, localTime(t.Created), exp)
		}
		return tw.Flush()
	})
}

func newTokenDeleteCommand(g *globalOptions) *cobra.Command {
	var opts dataOptions
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a token: its secret stops working at once",
		Args:  wantArgs("ID"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return g.withAPI(ctx, opts, func(api nativeapi.API) error {
				if err := api.DeleteToken(ctx, args[0]); err != nil {
					return err
				}
				g.printf("deleted token %s\n", args[0])
				return nil
			})
		}),
	}
	opts.addFlags(cmd.Flags(), true)
	return cmd
}
