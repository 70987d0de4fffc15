package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// newProjectCommand returns the "project" command group.
func newProjectCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "project",
		Short: "Create and list the server's projects (tenants)",
		Long: `Manage the projects of cairn serve: the tenants (an ARM subscription, a CBR
project) that own VMs, vaults, restore points and tokens. Locally (--data
DIR) or through a server with an admin token (--server, --token).`,
		RunE: groupRunE,
	}
	cmd.AddCommand(newProjectCreateCommand(g), newProjectListCommand(g))
	return cmd
}

func newProjectCreateCommand(g *globalOptions) *cobra.Command {
	var opts dataOptions
	var id string
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Make a project",
		Example: "  cairn project create team-b\n  cairn token create --project team-b --name deploy",
		Args:    wantArgs("NAME"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return g.withAPI(ctx, opts, func(api nativeapi.API) error {
				p, err := api.CreateProject(ctx, nativeapi.ProjectSpec{ID: id, Name: args[0]})
				if err != nil {
					return err
				}
				if g.JSON {
					return g.printJSON(p)
				}
				g.printf("project %q: id %s\n", p.Name, p.ID)
				return nil
			})
		}),
	}
	opts.addFlags(cmd.Flags(), false)
	cmd.Flags().StringVar(&id, "id", "", "the project's `UUID` (an ARM subscription id; default: a new one)")
	return cmd
}

func newProjectListCommand(g *globalOptions) *cobra.Command {
	var opts dataOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the projects",
		Args:  cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			return g.withAPI(ctx, opts, func(api nativeapi.API) error {
				var all []nativeapi.Project
				pg := nativeapi.Page{}
				for {
					l, err := api.ListProjects(ctx, pg)
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
					return g.printJSON(nativeapi.List[nativeapi.Project]{Items: all})
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tCREATED")
				for _, p := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", p.ID, p.Name, localTime(p.Created))
				}
				return tw.Flush()
			})
		}),
	}
	opts.addFlags(cmd.Flags(), false)
	return cmd
}
