package cbr

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

func (h *handlers) replicate(ctx context.Context, q *request) (any, error) {
	var in CheckpointReplicateReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Replicate == nil {
		return nil, badParam("invalid parameter replicate: it is required")
	}
	p := in.Replicate
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"replicate.vault_id", p.VaultID},
		{"replicate.destination_project_id", p.DestinationProjectID},
		{"replicate.destination_region", p.DestinationRegion},
		{"replicate.destination_vault_id", p.DestinationVaultID},
	} {
		if f.v == nil || *f.v == "" {
			return nil, badParam("invalid parameter %s: it is required", f.name)
		}
	}
	if err := checkUUID("replicate.vault_id", *p.VaultID); err != nil {
		return nil, err
	}
	if err := checkUUID("replicate.destination_vault_id", *p.DestinationVaultID); err != nil {
		return nil, err
	}
	if !projectIDRE.MatchString(*p.DestinationProjectID) {
		return nil, badParam("invalid parameter replicate.destination_project_id: %q is not a project id (32 hex digits)", *p.DestinationProjectID)
	}
	if err := checkLen("replicate.destination_region", *p.DestinationRegion, 0, 255); err != nil {
		return nil, err
	}
	if p.CrossAccountURN != nil {
		if err := checkLen("replicate.cross_account_urn", *p.CrossAccountURN, 0, 255); err != nil {
			return nil, err
		}
	}
	src, err := h.findVault(ctx, q, *p.VaultID)
	if err != nil {
		return nil, err
	}
	region := *p.DestinationRegion
	if region == q.region() {
		return nil, errorf(http.StatusBadRequest, CodeRegionNoReplication, "The destination region does not support replication: %s is the source vault's region", region)
	}
	if _, err := h.svc.GetRegion(ctx, q.caller, region); err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return nil, errorf(http.StatusBadRequest, CodeRegionNoReplication, "The destination region does not support replication: no region %s", region)
		}
		return nil, err
	}
	dst, err := h.svc.ResolveRegionalProject(ctx, strings.ToLower(*p.DestinationProjectID))
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return nil, errorf(http.StatusBadRequest, CodeProjectNoReplicate, "The destination project does not support replication: no project %s", *p.DestinationProjectID)
		}
		return nil, err
	}
	if dst.Region != region {
		return nil, errorf(http.StatusBadRequest, CodeProjectNoReplicate, "The destination project does not support replication: project %s is in region %s, not %s", dst.ID, dst.Region, region)
	}
	spec := service.ReplicateSpec{
		SourceVaultID: src.ID, DestinationRegionalProjectID: dst.ID, DestinationVaultID: strings.ToLower(*p.DestinationVaultID),
		AutoTrigger: deref(p.AutoTrigger), Accelerate: deref(p.EnableAcceleration),
	}
	rep, err := h.svc.ReplicateVault(ctx, q.caller, spec)
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) && !errors.Is(err, service.ErrNoConsent) {
			return nil, notFound(CodeVaultNotFound, "Vault Not Found: destination vault", *p.DestinationVaultID)
		}
		return nil, err
	}
	out := Replication{
		Backups: []ReplicatedBackup{}, DestinationProjectID: dst.ID, DestinationRegion: rep.DestinationRegion,
		DestinationVaultID: publicID(rep.DestinationVaultID), ProjectID: q.project.ID, ProviderID: ProviderServer,
		SourceRegion: rep.SourceRegion, VaultID: publicID(rep.SourceVaultID),
	}
	for _, r := range rep.Records {
		out.Backups = append(out.Backups, ReplicatedBackup{BackupID: r.SourcePointID, ReplicationRecordID: r.OperationID})
	}
	return ReplicationResponse{Replication: out}, nil
}

// ---- agreements (cairn's own routes)

func (h *handlers) createAgreement(ctx context.Context, q *request) (any, error) {
	var in AgreementCreateReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Agreement == nil {
		return nil, badParam("invalid parameter agreement: it is required")
	}
	if in.Agreement.SourceProjectID == nil || !projectIDRE.MatchString(*in.Agreement.SourceProjectID) {
		return nil, badParam("invalid parameter agreement.source_project_id: a project id (32 hex digits) is required")
	}
	a, err := h.svc.AllowReplication(ctx, q.caller, q.project.ID, strings.ToLower(*in.Agreement.SourceProjectID))
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return nil, errorf(http.StatusBadRequest, CodeProjectNoReplicate, "agreement.source_project_id: no project %s", *in.Agreement.SourceProjectID)
		}
		return nil, err
	}
	return &httpapi.Response{Status: http.StatusOK, Body: AgreementResponse{Agreement: agreementView(a)}}, nil
}

func (h *handlers) listAgreements(ctx context.Context, q *request) (any, error) {
	as, err := h.svc.ListReplicationAgreements(ctx, q.caller, q.project.ID)
	if err != nil {
		return nil, err
	}
	out := AgreementList{Agreements: []Agreement{}}
	for _, a := range as {
		out.Agreements = append(out.Agreements, agreementView(a))
	}
	out.Count = len(out.Agreements)
	return out, nil
}

func (h *handlers) deleteAgreement(ctx context.Context, q *request) (any, error) {
	id := trimID(q.value("agreement_id"))
	as, err := h.svc.ListReplicationAgreements(ctx, q.caller, q.project.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if a.ID == strings.ToLower(id) {
			if err := h.svc.DeleteReplicationAgreement(ctx, q.caller, a.ID); err != nil {
				return nil, err
			}
			return &httpapi.Response{Status: http.StatusNoContent}, nil
		}
	}
	return nil, notFound(CodeAgreementNotFound, "replication agreement", id)
}

func agreementView(a *service.ReplicationAgreement) Agreement {
	return Agreement{ID: a.ID, SourceProjectID: a.SourceRegionalProjectID, DestinationProjectID: a.DestinationRegionalProjectID, CreatedAt: timeText(a.Created)}
}

// ---- projects

func (h *handlers) listProjects(ctx context.Context, q *request) (any, error) {
	if p, ok := signedProject(ctx); ok && p != "" {
		// A signed X-Project-Id must be one of the tenant's.
		rp, err := h.svc.ResolveRegionalProject(ctx, p)
		if err != nil || rp.ProjectID != q.caller.ProjectID {
			return nil, &httpapi.Error{Status: http.StatusForbidden, Kind: cairn.Permission,
				Message: "project " + p + " is not accessible with these credentials", Err: cairn.E(cairn.Permission, errors.New("foreign X-Project-Id"))}
		}
	}
	rps, err := h.svc.RegionalProjects(ctx, q.caller, "")
	if err != nil {
		return nil, err
	}
	base := "https://" + q.r.Host
	out := ProjectList{Projects: []ProjectInfo{}, Links: Links{Self: base + "/v3/region-projects"}}
	for _, rp := range rps {
		out.Projects = append(out.Projects, ProjectInfo{
			DomainID: rp.ProjectID, ParentID: rp.ProjectID, Name: rp.Region, ID: rp.ID, Enabled: true,
			Description: "cairn project " + rp.ProjectID + " in region " + rp.Region,
			Links:       Links{Self: base + "/v3/projects/" + rp.ID},
		})
	}
	return out, nil
}
