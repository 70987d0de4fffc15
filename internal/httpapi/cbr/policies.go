package cbr

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cbrpolicy"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/schedule"
	"github.com/cairn-vm/cairn/internal/service"
)

// retentionOf converts an operation_definition's retention fields.
func retentionOf(od *OperationDefinition) cbrpolicy.Retention {
	r := cbrpolicy.Retention{DurationDays: od.RetentionDurationDays, MaxBackups: od.MaxBackups,
		Day: od.DayBackups, Week: od.WeekBackups, Month: od.MonthBackups, Year: od.YearBackups}
	if od.Timezone != nil {
		r.Timezone = *od.Timezone
	}
	return r
}

// checkDefinition checks an operation_definition for a policy of type typ
// and returns its retention and, for replication, its destination.
func (h *handlers) checkDefinition(ctx context.Context, q *request, typ string, od *OperationDefinition) (cbrpolicy.Retention, string, string, error) {
	const f = "policy.operation_definition"
	ret := retentionOf(od)
	if err := ret.Validate(); err != nil {
		return ret, "", "", badParam("invalid parameter %s: %v", f, err)
	}
	if od.FullBackupInterval != nil && (*od.FullBackupInterval < -1 || *od.FullBackupInterval > 100) {
		return ret, "", "", badParam("invalid parameter %s.full_backup_interval: %d is not -1 or 0 to 100", f, *od.FullBackupInterval)
	}
	if typ != service.PolicyReplication {
		if od.DestinationRegion != nil || od.DestinationProjectID != nil || od.EnableAcceleration != nil {
			return ret, "", "", badParam("invalid parameter %s: destination_region, destination_project_id and enable_acceleration are a replication policy's", f)
		}
		return ret, "", "", nil
	}
	if od.DestinationRegion == nil || *od.DestinationRegion == "" {
		return ret, "", "", badParam("invalid parameter %s.destination_region: a replication policy needs it", f)
	}
	if od.DestinationProjectID == nil || !projectIDRE.MatchString(*od.DestinationProjectID) {
		return ret, "", "", badParam("invalid parameter %s.destination_project_id: a replication policy needs a project id (32 hex digits)", f)
	}
	region, project := *od.DestinationRegion, strings.ToLower(*od.DestinationProjectID)
	if region == q.region() {
		return ret, "", "", errorf(http.StatusBadRequest, CodeRegionNoReplication, "The destination region does not support replication: %s is this project's region", region)
	}
	if _, err := h.svc.GetRegion(ctx, q.caller, region); err != nil {
		return ret, "", "", errorf(http.StatusBadRequest, CodeRegionNoReplication, "The destination region does not support replication: no region %s", region)
	}
	rp, err := h.svc.ResolveRegionalProject(ctx, project)
	if err != nil || rp.Region != region {
		return ret, "", "", errorf(http.StatusBadRequest, CodeProjectNoReplicate, "The destination project does not support replication: %s is no project of region %s", project, region)
	}
	return ret, region, project, nil
}

// checkTrigger checks a trigger and returns its patterns and start time.
func checkTrigger(t *PolicyTrigger) ([]string, time.Time, error) {
	if t == nil || t.Properties == nil || t.Properties.Pattern == nil {
		return nil, time.Time{}, badParam("invalid parameter policy.trigger.properties.pattern: it is required")
	}
	var start time.Time
	if t.Properties.StartTime != nil {
		s, err := schedule.ParseStartTime(*t.Properties.StartTime)
		if err != nil {
			return nil, time.Time{}, badParam("invalid parameter policy.%v", err)
		}
		start = s
	}
	if _, err := schedule.ParseTrigger(*t.Properties.Pattern, start); err != nil {
		return nil, time.Time{}, badParam("invalid parameter policy.%v", err)
	}
	return *t.Properties.Pattern, start, nil
}

func (h *handlers) createPolicy(ctx context.Context, q *request) (any, error) {
	var in PolicyCreateReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Policy == nil {
		return nil, badParam("invalid parameter policy: it is required")
	}
	p := in.Policy
	if p.Name == nil {
		return nil, badParam("invalid parameter policy.name: it is required")
	}
	if err := checkBackupName("policy.name", *p.Name); err != nil {
		return nil, err
	}
	if p.OperationType == nil {
		return nil, badParam("invalid parameter policy.operation_type: it is required")
	}
	if err := oneOf("policy.operation_type", *p.OperationType, service.PolicyBackup, service.PolicyReplication); err != nil {
		return nil, err
	}
	if p.OperationDefinition == nil {
		return nil, badParam("invalid parameter policy.operation_definition: it is required")
	}
	ret, region, project, err := h.checkDefinition(ctx, q, *p.OperationType, p.OperationDefinition)
	if err != nil {
		return nil, err
	}
	patterns, start, err := checkTrigger(p.Trigger)
	if err != nil {
		return nil, err
	}
	spec := service.PolicySpec{
		Name: *p.Name, Enabled: p.Enabled == nil || *p.Enabled, OperationType: *p.OperationType,
		Patterns: patterns, StartTime: start, Retention: ret, DestinationRegion: region,
		DestinationRegionalProjectID: project, Accelerate: deref(p.OperationDefinition.EnableAcceleration),
	}
	pol, err := h.svc.CreatePolicy(ctx, q.caller, spec)
	if err != nil {
		return nil, err
	}
	return PolicyResponse{Policy: policyView(pol)}, nil
}

func (h *handlers) findPolicy(ctx context.Context, q *request) (*service.Policy, error) {
	id := strings.ToLower(trimID(q.value("policy_id")))
	if !isUUID(id) {
		return nil, notFound(CodePolicyNotFound, "policy", id)
	}
	return h.svc.GetPolicy(ctx, q.caller, id)
}

func (h *handlers) showPolicy(ctx context.Context, q *request) (any, error) {
	p, err := h.findPolicy(ctx, q)
	if err != nil {
		return nil, err
	}
	return PolicyResponse{Policy: policyView(p)}, nil
}

func (h *handlers) listPolicies(ctx context.Context, q *request) (any, error) {
	f := service.PolicyFilter{OperationType: q.query.Get("operation_type")}
	if f.OperationType != "" {
		if err := oneOf("operation_type", f.OperationType, service.PolicyBackup, service.PolicyReplication); err != nil {
			return nil, err
		}
	}
	if vid := q.query.Get("vault_id"); vid != "" {
		v, err := h.findVault(ctx, q, vid)
		if err != nil {
			return nil, err
		}
		f.VaultID = v.ID
	}
	ps, err := h.svc.ListPolicies(ctx, q.caller, f)
	if err != nil {
		return nil, err
	}
	out := PolicyList{Policies: []Policy{}}
	for _, p := range ps {
		out.Policies = append(out.Policies, policyView(p))
	}
	out.Count = len(out.Policies)
	return out, nil
}

func (h *handlers) updatePolicy(ctx context.Context, q *request) (any, error) {
	p, err := h.findPolicy(ctx, q)
	if err != nil {
		return nil, err
	}
	var in PolicyUpdateReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Policy == nil {
		return nil, badParam("invalid parameter policy: it is required")
	}
	u := service.PolicyUpdate{Enabled: in.Policy.Enabled}
	if in.Policy.Name != nil {
		if err := checkBackupName("policy.name", *in.Policy.Name); err != nil {
			return nil, err
		}
		u.Name = in.Policy.Name
	}
	if od := in.Policy.OperationDefinition; od != nil {
		if p.OperationType == service.PolicyReplication {
			// Fields left out keep their values.
			if od.DestinationRegion == nil {
				od.DestinationRegion = &p.DestinationRegion
			}
			if od.DestinationProjectID == nil {
				od.DestinationProjectID = &p.DestinationRegionalProjectID
			}
		}
		ret, region, project, err := h.checkDefinition(ctx, q, p.OperationType, od)
		if err != nil {
			return nil, err
		}
		u.Retention = &ret
		if p.OperationType == service.PolicyReplication {
			u.DestinationRegion, u.DestinationRegionalProjectID = &region, &project
			u.Accelerate = od.EnableAcceleration
		}
	}
	if in.Policy.Trigger != nil {
		patterns, start, err := checkTrigger(in.Policy.Trigger)
		if err != nil {
			return nil, err
		}
		u.Patterns, u.StartTime = patterns, &start
	}
	np, err := h.svc.UpdatePolicy(ctx, q.caller, p.ID, u)
	if err != nil {
		return nil, err
	}
	return PolicyResponse{Policy: policyView(np)}, nil
}

func (h *handlers) deletePolicy(ctx context.Context, q *request) (any, error) {
	p, err := h.findPolicy(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := h.svc.DeletePolicy(ctx, q.caller, p.ID); err != nil {
		return nil, err
	}
	return &httpapi.Response{Status: http.StatusNoContent}, nil
}

func (h *handlers) associatePolicy(ctx context.Context, q *request) (any, error) {
	v, err := h.findVault(ctx, q, q.value("vault_id"))
	if err != nil {
		return nil, err
	}
	var in VaultAssociateReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.PolicyID == nil || !isUUID(*in.PolicyID) {
		return nil, badParam("invalid parameter policy_id: a policy id (a UUID) is required")
	}
	dest := ""
	if in.DestinationVaultID != nil && *in.DestinationVaultID != "" {
		if err := checkUUID("destination_vault_id", *in.DestinationVaultID); err != nil {
			return nil, err
		}
		dest = strings.ToLower(*in.DestinationVaultID)
	}
	pv, err := h.svc.AssociatePolicy(ctx, q.caller, v.ID, strings.ToLower(*in.PolicyID), dest)
	if err != nil {
		return nil, asErrorOr(err, CodePolicyNotFound)
	}
	return AssociateResponse{AssociatePolicy: VaultPolicy{VaultID: publicID(pv.VaultID), PolicyID: strings.ToLower(*in.PolicyID), DestinationVaultID: pv.DestinationVaultID}}, nil
}

func (h *handlers) dissociatePolicy(ctx context.Context, q *request) (any, error) {
	v, err := h.findVault(ctx, q, q.value("vault_id"))
	if err != nil {
		return nil, err
	}
	var in VaultAssociateReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.PolicyID == nil || !isUUID(*in.PolicyID) {
		return nil, badParam("invalid parameter policy_id: a policy id (a UUID) is required")
	}
	pid := strings.ToLower(*in.PolicyID)
	if _, err := h.svc.GetPolicy(ctx, q.caller, pid); err != nil {
		return nil, asErrorOr(err, CodePolicyNotFound)
	}
	if err := h.svc.DissociatePolicy(ctx, q.caller, v.ID, pid); err != nil {
		return nil, asErrorOr(err, CodePolicyNotBound)
	}
	return DissociateResponse{DissociatePolicy: VaultPolicy{VaultID: publicID(v.ID), PolicyID: pid}}, nil
}

// policyView is a policy as CBR shows it.
func policyView(p *service.Policy) Policy {
	od := OperationDefinition{
		RetentionDurationDays: p.Retention.DurationDays, MaxBackups: p.Retention.MaxBackups,
		DayBackups: p.Retention.Day, WeekBackups: p.Retention.Week, MonthBackups: p.Retention.Month, YearBackups: p.Retention.Year,
	}
	if p.Retention.Timezone != "" {
		tz := p.Retention.Timezone
		od.Timezone = &tz
	}
	if p.OperationType == service.PolicyReplication {
		region, project, acc := p.DestinationRegion, p.DestinationRegionalProjectID, p.Accelerate
		od.DestinationRegion, od.DestinationProjectID, od.EnableAcceleration = &region, &project, &acc
	}
	out := Policy{
		Enabled: p.Enabled, ID: p.ID, Name: p.Name, OperationDefinition: od, OperationType: p.OperationType,
		Trigger:          PolicyTriggerResp{ID: p.ID, Name: p.Name, Type: "time", Properties: PolicyTriggerPropsResp{Pattern: p.Patterns}},
		AssociatedVaults: []PolicyAssociateVault{},
	}
	if !p.StartTime.IsZero() {
		out.Trigger.Properties.StartTime = p.StartTime.UTC().Format("2006-01-02 15:04:05")
	}
	for _, v := range p.Vaults {
		out.AssociatedVaults = append(out.AssociatedVaults, PolicyAssociateVault{VaultID: publicID(v.VaultID), DestinationVaultID: v.DestinationVaultID})
	}
	return out
}
