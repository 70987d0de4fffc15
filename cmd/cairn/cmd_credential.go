package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// newCredentialCommand returns the "credential" command group.
func newCredentialCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential",
		Short: "Create, list and delete AK/SK credentials for the CBR API",
		Long: `Manage the AK/SK credentials of cairn serve's CBR (Huawei Cloud Backup and
Recovery) API: an access key id (AK) and a secret key (SK) that the Huawei
Cloud SDKs sign requests with. A credential belongs to one project and
serves all of its regional projects, the project_id of CBR URLs, one per
region. The SK is kept sealed with a key of the data directory and shown
once, when it is made. Only an admin makes credentials.

Locally (--data DIR) the commands work on the data directory as its
administrator; with --server URL they go through the server with --token.`,
		RunE: groupRunE,
	}
	cmd.AddCommand(newCredentialCreateCommand(g), newCredentialListCommand(g), newCredentialDeleteCommand(g))
	return cmd
}

// credentialCreateOptions are the flags of "credential create".
type credentialCreateOptions struct {
	dataOptions
	Name string
}

func newCredentialCreateCommand(g *globalOptions) *cobra.Command {
	var opts credentialCreateOptions
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Make an AK/SK credential and print its secret key, once",
		Long: `Make an AK/SK credential of a project and print the AK, the SK and the
project's regional project ids (the project_id of each region's CBR URLs).
The SK is shown this once: keep it.`,
		Example: `  cairn credential create --name sdk
  cairn credential create --project team-b --name backup-scripts
  cairn --json credential create --name sdk`,
		Args: cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runCredentialCreate(ctx, opts, g)
		}),
	}
	f := cmd.Flags()
	opts.addFlags(f, true)
	f.StringVar(&opts.Name, "name", "", "the credential's `NAME`, unique in its project (required)")
	return cmd
}

func runCredentialCreate(ctx context.Context, opts credentialCreateOptions, g *globalOptions) error {
	if opts.Name == "" {
		return usageError("--name is required: name the credential (e.g. --name sdk)")
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
		k, err := api.CreateAccessKey(ctx, nativeapi.AccessKeySpec{ProjectID: pid, Name: opts.Name})
		if err != nil {
			return err
		}
		if g.JSON {
			return g.printJSON(k)
		}
		g.printf("credential %q of project %s; its secret key is shown this once.\n", k.AccessKey.Name, k.AccessKey.ProjectID)
		fmt.Fprintf(g.stdout, "AK: %s\nSK: %s\n", k.AccessKey.ID, k.SecretKey)
		for _, rp := range k.RegionalProjects {
			fmt.Fprintf(g.stdout, "project_id (%s): %s\n", rp.Region, rp.ID)
		}
		return nil
	})
}

func newCredentialListCommand(g *globalOptions) *cobra.Command {
	var opts dataOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a project's credentials (never their secret keys) and regional project ids",
		Args:  cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			project := opts.Project
			if g.server() == "" {
				project = ""
			}
			return g.withAPI(ctx, opts, func(api nativeapi.API) error {
				pid, err := remoteProject(ctx, api, project)
				if err != nil {
					return err
				}
				ks, err := api.ListAccessKeys(ctx, pid)
				if err != nil {
					return err
				}
				rps, err := api.ListRegionalProjects(ctx, pid)
				if err != nil {
					return err
				}
				if g.JSON {
					return g.printJSON(map[string]any{"accessKeys": ks.Items, "regionalProjects": rps.Items})
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "AK\tNAME\tPROJECT\tCREATED")
				for _, k := range ks.Items {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.ProjectID, localTime(k.Created))
				}
				fmt.Fprintln(tw, "\nREGION\tPROJECT_ID")
				for _, rp := range rps.Items {
					fmt.Fprintf(tw, "%s\t%s\n", rp.Region, rp.ID)
				}
				return tw.Flush()
			})
		}),
	}
	opts.addFlags(cmd.Flags(), true)
	return cmd
}

func newCredentialDeleteCommand(g *globalOptions) *cobra.Command {
	var opts dataOptions
	cmd := &cobra.Command{
		Use:   "delete AK",
		Short: "Delete a credential: its signatures stop verifying at once",
		Args:  wantArgs("AK"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return g.withAPI(ctx, opts, func(api nativeapi.API) error {
				if err := api.DeleteAccessKey(ctx, args[0]); err != nil {
					return err
				}
				g.printf("deleted credential %s\n", args[0])
				return nil
			})
		}),
	}
	opts.addFlags(cmd.Flags(), true)
	return cmd
}
