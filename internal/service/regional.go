package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"slices"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// regionalData is the Data of a regional-project record.
type regionalData struct {
	Region string `json:"region"`
}

var regionalIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func regionalOf(r *catalog.Record) (*RegionalProject, error) {
	var d regionalData
	if err := getData(r, &d); err != nil {
		return nil, err
	}
	return &RegionalProject{ID: r.ID, ProjectID: r.ProjectID, Region: d.Region}, nil
}

// ensureRegional returns the regional project of (projectID, region),
// making it when there is none.
func (s *Service) ensureRegional(ctx context.Context, projectID, region string) (*RegionalProject, error) {
	key := projectID + "/" + region
	var out *RegionalProject
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		recs, _, err := tx.ListRecords(ctx, catalog.RecordFilter{Kind: recRegionalProject, Key: key}, catalog.Page{Size: 1})
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			out, err = regionalOf(recs[0])
			return err
		}
		r := &catalog.Record{Kind: recRegionalProject, ID: newRegionalID(), ProjectID: projectID, Key: key}
		if err := putData(r, regionalData{Region: region}); err != nil {
			return err
		}
		if err := tx.PutRecord(ctx, r); err != nil {
			return err
		}
		out, err = regionalOf(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) regionalProjects(ctx context.Context, c Caller, projectID string) ([]*RegionalProject, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if projectID == "" {
		projectID = c.ProjectID
	}
	if projectID != c.ProjectID && !c.Admin {
		return nil, catalog.NotFound("project", projectID)
	}
	if _, err := s.cat.GetProject(ctx, projectID); err != nil {
		return nil, hide(err, "project", projectID)
	}
	var names []string
	for name := range s.regions {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]*RegionalProject, 0, len(names))
	for _, name := range names {
		rp, err := s.ensureRegional(ctx, projectID, name)
		if err != nil {
			return nil, err
		}
		out = append(out, rp)
	}
	return out, nil
}

func (s *Service) regionalProject(ctx context.Context, c Caller, region string) (*RegionalProject, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if _, err := s.region(region, cairn.NotExist); err != nil {
		return nil, err
	}
	return s.ensureRegional(ctx, c.ProjectID, region)
}

func (s *Service) resolveRegional(ctx context.Context, id string) (*RegionalProject, error) {
	if !regionalIDRE.MatchString(id) {
		return nil, catalog.NotFound("project", id)
	}
	r, err := s.cat.GetRecord(ctx, recRegionalProject, id)
	if err != nil {
		return nil, hide(err, "project", id)
	}
	return regionalOf(r)
}

// newRegionalID returns a new regional project id: 32 lower-case hex
// digits, as Huawei Cloud's project ids are.
func newRegionalID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}
