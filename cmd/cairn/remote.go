package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/catalog/sqlite"
	"github.com/cairn-vm/cairn/internal/httpapi/client"
	"github.com/cairn-vm/cairn/internal/httpapi/native"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// Environment variables of client mode.
const (
	serverEnv = "CAIRN_SERVER"
	tokenEnv  = "CAIRN_TOKEN"
	caCertEnv = "CAIRN_CA_CERT"
)

// clientFlags adds the global flags of client mode to f.
func (g *globalOptions) clientFlags(f *pflag.FlagSet) {
	f.StringVar(&g.Server, "server", "", "work through the cairn server at `URL` (https://HOST:PORT) instead of a local data directory; or set "+serverEnv)
	f.StringVar(&g.Token, "token", "", "the bearer `TOKEN` for --server; or set "+tokenEnv)
	f.StringVar(&g.CACert, "ca-cert", "", "trust the server certificate in PEM `FILE` (default: <data>/tls/cert.pem when it exists, else the system's roots); or set "+caCertEnv)
}

// dataOptions are the flags of the commands that work on a data
// directory, or through a server in client mode.
type dataOptions struct {
	Data    string
	Project string
}

// addFlags adds --data and, when withProject, --project to f.
func (o *dataOptions) addFlags(f *pflag.FlagSet, withProject bool) {
	f.StringVar(&o.Data, "data", defaultDataDir, "the data `DIR` of cairn serve, for local use (and its certificate for --server)")
	if withProject {
		f.StringVar(&o.Project, "project", "", "the project `NAME` or id (local use; default: the default project, or the token's with --server)")
	}
}

// server returns the server URL of client mode, "" for local use.
func (g *globalOptions) server() string {
	if g.Server != "" {
		return g.Server
	}
	return g.getenv(serverEnv)
}

// openAPI returns the native API: through the server with --server, else
// on the data directory as an admin of the project. close releases it.
func (g *globalOptions) openAPI(ctx context.Context, o dataOptions) (api nativeapi.API, close func() error, err error) {
	if url := g.server(); url != "" {
		c, err := g.newClient(url, o.Data)
		if err != nil {
			return nil, nil, err
		}
		return c, func() error { return nil }, nil
	}
	svc, err := openLocalService(ctx, o.Data)
	if err != nil {
		return nil, nil, err
	}
	project, err := localProject(ctx, svc, o.Project)
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	return native.Local{Service: svc, Caller: service.SystemCaller(project.ID)}, svc.Close, nil
}

// newClient returns a client of the server at url, with the token and the
// CA certificate of the flags or the environment.
func (g *globalOptions) newClient(url, dataDir string) (*client.Client, error) {
	token := g.Token
	if token == "" {
		token = g.getenv(tokenEnv)
	}
	if token == "" {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("--server needs a token: give --token or set %s (the admin token is in the server's data directory, file admin-token)", tokenEnv))
	}
	ca := g.CACert
	if ca == "" {
		ca = g.getenv(caCertEnv)
	}
	if ca == "" {
		ca = dataCert(dataDir)
	}
	return client.New(url, client.Options{Token: token, CACert: ca})
}

// openLocalService opens an existing data directory without starting its
// runner, with the regions its catalog records.
func openLocalService(ctx context.Context, dir string) (*service.Service, error) {
	dbPath := filepath.Join(dir, "catalog.db")
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		return nil, cairn.E(cairn.NotExist, fmt.Errorf("no cairn data directory at %s: start 'cairn serve --data %s' once to make one, pass --data DIR, or use a server with --server URL", dir, dir))
	} else if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("data directory %s: %w", dir, err))
	}
	cat, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	regions, _, err := cat.ListRegions(ctx, catalog.RegionFilter{}, catalog.Page{Size: catalog.MaxPageSize})
	cat.Close()
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	var names []string
	for _, r := range regions {
		names = append(names, r.Name)
	}
	svc, err := service.Open(ctx, service.Config{DataDir: dir, Regions: names})
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	return svc, nil
}

// localProject finds a project by name or id; "" is the default project.
func localProject(ctx context.Context, svc *service.Service, nameOrID string) (*catalog.Project, error) {
	cat := svc.Catalog()
	if nameOrID == "" {
		nameOrID = service.DefaultProjectName
	}
	if p, err := cat.GetProject(ctx, nameOrID); err == nil {
		return p, nil
	}
	ps, _, err := cat.ListProjects(ctx, catalog.ProjectFilter{Name: nameOrID}, catalog.Page{Size: 1})
	if err != nil {
		return nil, fmt.Errorf("find project %s: %w", nameOrID, err)
	}
	if len(ps) == 0 {
		return nil, cairn.E(cairn.NotExist, fmt.Errorf("project %q does not exist: make it with 'cairn project create %s'", nameOrID, nameOrID))
	}
	return ps[0], nil
}

// remoteProject finds the id of a project by name or id through a
// server ("" is the token's own project).
func remoteProject(ctx context.Context, api nativeapi.API, nameOrID string) (string, error) {
	if nameOrID == "" {
		return "", nil
	}
	pg := nativeapi.Page{Size: catalog.MaxPageSize}
	for {
		ps, err := api.ListProjects(ctx, pg)
		if err != nil {
			return "", err
		}
		for _, p := range ps.Items {
			if p.ID == nameOrID || p.Name == nameOrID {
				return p.ID, nil
			}
		}
		if ps.NextPageToken == "" {
			return "", cairn.E(cairn.NotExist, fmt.Errorf("project %q does not exist, or the token does not reach it", nameOrID))
		}
		pg.Token = ps.NextPageToken
	}
}

// withAPI opens the native API, runs fn and closes it.
func (g *globalOptions) withAPI(ctx context.Context, o dataOptions, fn func(api nativeapi.API) error) error {
	api, closeAPI, err := g.openAPI(ctx, o)
	if err != nil {
		return err
	}
	err = fn(api)
	if cerr := closeAPI(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	return err
}

// usageError is an error of kind cairn.Invalid with msg.
func usageError(msg string) error { return cairn.E(cairn.Invalid, errors.New(msg)) }
