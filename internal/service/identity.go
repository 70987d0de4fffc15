package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

func (s *Service) bootstrap(ctx context.Context) (*BootstrapResult, error) {
	res := &BootstrapResult{}
	projects, _, err := s.cat.ListProjects(ctx, catalog.ProjectFilter{Name: DefaultProjectName}, catalog.Page{Size: 1})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if len(projects) == 0 {
		// No default project: the first project there is, or a new one.
		projects, _, err = s.cat.ListProjects(ctx, catalog.ProjectFilter{}, catalog.Page{Size: 1})
		if err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	if len(projects) > 0 {
		res.Project = projects[0]
	} else {
		p := &catalog.Project{ID: catalog.NewID(), Name: DefaultProjectName}
		if err := s.cat.PutProject(ctx, p); err != nil {
			return nil, fmt.Errorf("bootstrap: create the default project: %w", err)
		}
		res.Project, res.Created = p, true
		s.log.Info("created the default project", "project", p.ID)
	}
	tokens, err := listAll(func(pg catalog.Page) ([]*catalog.Token, string, error) {
		return s.cat.ListTokens(ctx, catalog.TokenFilter{ProjectID: res.Project.ID}, pg)
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	names := map[string]bool{}
	for _, t := range tokens {
		names[t.Name] = true
		if t.Admin && !t.Expired(s.clock.Now()) {
			return res, nil
		}
	}
	name := "admin"
	for i := 2; names[name]; i++ {
		name = fmt.Sprintf("admin-%d", i)
	}
	t := &catalog.Token{ProjectID: res.Project.ID, Name: name, Admin: true}
	secret, err := s.cat.CreateToken(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: create the admin token: %w", err)
	}
	if err := writeFileAtomic(s.paths.AdminToken, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	s.log.Info("created an admin token", "token", t.ID, "file", s.paths.AdminToken)
	res.AdminToken, res.AdminSecret = t, secret
	return res, nil
}

// ReadAdminToken returns the admin token secret kept in the data
// directory's admin-token file, for local commands.
func (s *Service) ReadAdminToken() (string, error) {
	data, err := os.ReadFile(s.paths.AdminToken)
	if err != nil {
		return "", cairn.E(cairn.NotExist, fmt.Errorf("admin token: %w", err))
	}
	return strings.TrimSpace(string(data)), nil
}

func (s *Service) authenticate(ctx context.Context, secret string) (Caller, error) {
	t, err := s.cat.Authenticate(ctx, secret)
	if err != nil {
		return Caller{}, err
	}
	return Caller{ProjectID: t.ProjectID, TokenID: t.ID, Admin: t.Admin}, nil
}

// uuidRE matches a UUID, the form of ARM subscription ids.
var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (s *Service) createProject(ctx context.Context, c Caller, spec ProjectSpec) (*catalog.Project, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if !c.Admin {
		return nil, cairn.E(cairn.Permission, errors.New("only an admin token may create projects"))
	}
	if spec.ID != "" && !uuidRE.MatchString(spec.ID) {
		return nil, invalid("project id %q: must be a UUID", spec.ID)
	}
	if err := validateName("project name", spec.Name); err != nil {
		return nil, err
	}
	id := strings.ToLower(spec.ID)
	if id == "" {
		id = catalog.NewID()
	} else if _, err := s.cat.GetProject(ctx, id); err == nil {
		return nil, cairn.E(cairn.Exist, fmt.Errorf("project %s already exists", id))
	}
	p := &catalog.Project{ID: id, Name: spec.Name, Attrs: spec.Attrs}
	if err := s.cat.PutProject(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Service) getProject(ctx context.Context, c Caller, id string) (*catalog.Project, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if !c.Admin && id != c.ProjectID {
		return nil, catalog.NotFound("project", id)
	}
	p, err := s.cat.GetProject(ctx, id)
	return p, hide(err, "project", id)
}

func (s *Service) listProjects(ctx context.Context, c Caller, page catalog.Page) ([]*catalog.Project, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	if c.Admin {
		return s.cat.ListProjects(ctx, catalog.ProjectFilter{}, page)
	}
	if page.Token != "" {
		return nil, "", nil
	}
	p, err := s.cat.GetProject(ctx, c.ProjectID)
	if err != nil {
		return nil, "", err
	}
	return []*catalog.Project{p}, "", nil
}

func (s *Service) createToken(ctx context.Context, c Caller, spec TokenSpec) (*catalog.Token, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	project := spec.ProjectID
	if project == "" {
		project = c.ProjectID
	}
	if project != c.ProjectID && !c.Admin {
		return nil, "", catalog.NotFound("project", project)
	}
	if spec.Admin && !c.Admin {
		return nil, "", cairn.E(cairn.Permission, errors.New("only an admin token may create admin tokens"))
	}
	if err := validateName("token name", spec.Name); err != nil {
		return nil, "", err
	}
	if spec.TTL < 0 {
		return nil, "", invalid("token lifetime %s: must not be negative", spec.TTL)
	}
	if _, err := s.cat.GetProject(ctx, project); err != nil {
		return nil, "", hide(err, "project", project)
	}
	t := &catalog.Token{ProjectID: project, Name: spec.Name, Admin: spec.Admin}
	if spec.TTL > 0 {
		t.Expires = s.clock.Now().Add(spec.TTL)
	}
	secret, err := s.cat.CreateToken(ctx, t)
	if err != nil {
		return nil, "", err
	}
	s.log.Info("token created", "token", t.ID, "project", project, "admin", t.Admin, "by", c.TokenID)
	return t, secret, nil
}

func (s *Service) listTokens(ctx context.Context, c Caller, projectID string, page catalog.Page) ([]*catalog.Token, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	if projectID == "" {
		projectID = c.ProjectID
	}
	if projectID != c.ProjectID && !c.Admin {
		return nil, "", catalog.NotFound("project", projectID)
	}
	return s.cat.ListTokens(ctx, catalog.TokenFilter{ProjectID: projectID}, page)
}

func (s *Service) deleteToken(ctx context.Context, c Caller, id string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	t, err := s.cat.GetToken(ctx, id)
	if err != nil {
		return hide(err, "token", id)
	}
	if t.ProjectID != c.ProjectID && !c.Admin {
		return catalog.NotFound("token", id)
	}
	return s.cat.DeleteToken(ctx, id)
}

func (s *Service) listRegions(ctx context.Context, c Caller) ([]*catalog.Region, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	all, err := listAll(func(pg catalog.Page) ([]*catalog.Region, string, error) {
		return s.cat.ListRegions(ctx, catalog.RegionFilter{}, pg)
	})
	if err != nil {
		return nil, err
	}
	var out []*catalog.Region
	for _, r := range all {
		if s.regions[r.Name] != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Service) getRegion(ctx context.Context, c Caller, name string) (*catalog.Region, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if s.regions[name] == nil {
		return nil, catalog.NotFound("region", name)
	}
	r, err := s.cat.GetRegion(ctx, name)
	return r, hide(err, "region", name)
}
