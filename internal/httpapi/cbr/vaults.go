package cbr

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// ResourceGroup is the ARM resource group of the vaults made through CBR,
// under which a client of the ARM dialect sees them as
// restorePointCollections.
const ResourceGroup = "cbr"

// attrsKey is the key of the CBR extras in a vault's Attrs.
const attrsKey = "cbr"

// maxVaultSize is CBR's largest vault, in GB.
const maxVaultSize = 10485760

// vaultAttrs are the CBR extras of a vault.
type vaultAttrs struct {
	Name                string          `json:"name,omitempty"`
	Description         string          `json:"description,omitempty"`
	CloudType           string          `json:"cloudType,omitempty"`
	ConsistentLevel     string          `json:"consistentLevel,omitempty"`
	ObjectType          string          `json:"objectType,omitempty"`
	ProtectType         string          `json:"protectType,omitempty"`
	Size                int64           `json:"size,omitempty"`
	ChargingMode        string          `json:"chargingMode,omitempty"`
	IsMultiAz           bool            `json:"isMultiAz,omitempty"`
	EnterpriseProjectID string          `json:"enterpriseProjectId,omitempty"`
	AutoBind            bool            `json:"autoBind,omitempty"`
	AutoExpand          bool            `json:"autoExpand,omitempty"`
	SmnNotify           bool            `json:"smnNotify,omitempty"`
	Locked              bool            `json:"locked,omitempty"`
	Threshold           int             `json:"threshold,omitempty"`
	BackupNamePrefix    string          `json:"backupNamePrefix,omitempty"`
	BindRules           json.RawMessage `json:"bindRules,omitempty"`
	AvailabilityZone    string          `json:"availabilityZone,omitempty"`
}

// cbrAttrs returns a vault's CBR extras, with defaults for a vault made
// through another dialect.
func cbrAttrs(v *catalog.Vault) vaultAttrs {
	var all map[string]json.RawMessage
	var a vaultAttrs
	if json.Unmarshal(v.Attrs, &all) == nil {
		_ = json.Unmarshal(all[attrsKey], &a)
	}
	if a.Name == "" {
		a.Name = v.Name
	}
	if a.CloudType == "" {
		a.CloudType = "public"
	}
	if a.ConsistentLevel == "" {
		a.ConsistentLevel = "crash_consistent"
	}
	if a.ObjectType == "" {
		a.ObjectType = "server"
	}
	if a.ProtectType == "" {
		a.ProtectType = "backup"
		if v.SourceVaultID != "" {
			a.ProtectType = "replication"
		}
	}
	if a.ChargingMode == "" {
		a.ChargingMode = "post_paid"
	}
	if a.EnterpriseProjectID == "" {
		a.EnterpriseProjectID = "0"
	}
	return a
}

// withAttrs returns a vault's Attrs with the CBR extras set, keeping the
// other dialects' keys.
func withAttrs(raw json.RawMessage, a vaultAttrs) json.RawMessage {
	all := map[string]json.RawMessage{}
	_ = json.Unmarshal(raw, &all)
	b, _ := json.Marshal(a)
	all[attrsKey] = b
	out, _ := json.Marshal(all)
	return out
}

// consistency maps CBR's consistent_level to a consistency mode.
func consistency(level string) string {
	if level == "app_consistent" {
		return "ApplicationConsistent"
	}
	return "CrashConsistent"
}

// findVault returns the vault of a CBR id in the request's project and
// region: a vault's id, or the public id of one whose id is not a UUID.
func (h *handlers) findVault(ctx context.Context, q *request, id string) (*catalog.Vault, error) {
	id = trimID(id)
	if id == "" {
		return nil, badParam("invalid parameter vault_id: it is required")
	}
	if isUUID(id) {
		v, err := h.svc.GetVault(ctx, q.caller, strings.ToLower(id))
		if err == nil && v.Region == q.region() {
			return v, nil
		}
		if err != nil && !cairn.IsKind(err, cairn.NotExist) {
			return nil, err
		}
	}
	vs, err := h.allVaults(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if matchesID(id, v.ID) {
			return v, nil
		}
	}
	return nil, notFound(CodeVaultNotFound, "Vault Not Found: vault", id)
}

// allVaults lists the caller's vaults in the request's region.
func (h *handlers) allVaults(ctx context.Context, q *request) ([]*catalog.Vault, error) {
	var all []*catalog.Vault
	pg := catalog.Page{Size: catalog.MaxPageSize}
	for {
		vs, next, err := h.svc.ListVaults(ctx, q.caller, service.VaultFilter{Region: q.region()}, pg)
		if err != nil {
			return nil, err
		}
		all = append(all, vs...)
		if next == "" {
			return all, nil
		}
		pg.Token = next
	}
}

// allVMs lists the caller's VMs.
func (h *handlers) allVMs(ctx context.Context, q *request) ([]*catalog.Resource, error) {
	var all []*catalog.Resource
	pg := catalog.Page{Size: catalog.MaxPageSize}
	for {
		vs, next, err := h.svc.ListVMs(ctx, q.caller, service.VMFilter{}, pg)
		if err != nil {
			return nil, err
		}
		all = append(all, vs...)
		if next == "" {
			return all, nil
		}
		pg.Token = next
	}
}

// findVM returns the caller's VM of a CBR id (its public id or its own).
func (h *handlers) findVM(ctx context.Context, q *request, field, id string) (*catalog.Resource, error) {
	vms, err := h.allVMs(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, vm := range vms {
		if matchesID(id, vm.ID) {
			return vm, nil
		}
	}
	return nil, errorf(http.StatusNotFound, CodeResourceNotFound, "%s: resource %s not found", field, id)
}

// diskOf returns the name of a VM's disk that a CBR volume id names (its
// public id, or the disk's name).
func diskOf(vm *catalog.Resource, id string) string {
	for _, d := range vm.Disks {
		if strings.EqualFold(id, volumeID(vm.ID, d.Name)) || id == d.Name {
			return d.Name
		}
	}
	return ""
}

// bindSpecs checks and resolves the resources of a vault request.
func (h *handlers) bindSpecs(ctx context.Context, q *request, field string, in []ResourceCreate) ([]service.BindSpec, error) {
	if len(in) > service.MaxVaultResources {
		return nil, errorf(http.StatusBadRequest, CodeVaultResourcesLimit, "Resources of vault over limit: %d", service.MaxVaultResources)
	}
	var out []service.BindSpec
	seen := map[string]bool{}
	for i, r := range in {
		f := field + "[" + strconv.Itoa(i) + "]"
		if r.ID == nil || trimID(*r.ID) == "" {
			return nil, badParam("invalid parameter %s.id: it is required", f)
		}
		if r.Type == nil {
			return nil, badParam("invalid parameter %s.type: it is required", f)
		}
		if err := oneOf(f+".type", *r.Type, TypeServer, TypeVolume, "OS::Ironic::BareMetalServer", "OS::Native::Server", "OS::Sfs::Turbo", "OS::Workspace::DesktopV2"); err != nil {
			return nil, err
		}
		if *r.Type != TypeServer {
			return nil, errorf(http.StatusBadRequest, CodeResourceType, "Resource not match vault resource type: %s is %s; cairn's vaults hold %s", *r.ID, *r.Type, TypeServer)
		}
		if r.Name != nil {
			if err := checkLen(f+".name", *r.Name, 0, 255); err != nil {
				return nil, err
			}
		}
		vm, err := h.findVM(ctx, q, f+".id", trimID(*r.ID))
		if err != nil {
			return nil, err
		}
		if seen[vm.ID] {
			return nil, errorf(http.StatusBadRequest, CodeDuplicateResource, "Duplicate resource: %s is given twice", *r.ID)
		}
		seen[vm.ID] = true
		spec := service.BindSpec{ResourceID: vm.ID}
		if r.ExtraInfo != nil && r.ExtraInfo.ExcludeVolumes != nil {
			for j, vol := range *r.ExtraInfo.ExcludeVolumes {
				d := diskOf(vm, vol)
				if d == "" {
					return nil, badParam("invalid parameter %s.extra_info.exclude_volumes[%d]: VM %s has no volume %s", f, j, vm.Name, vol)
				}
				spec.ExcludeDisks = append(spec.ExcludeDisks, d)
			}
		}
		out = append(out, spec)
	}
	return out, nil
}

// catalogName returns a name for a new vault in ResourceGroup: its CBR
// name when ARM's rules allow it and it is free, else one made unique
// with the vault's id.
func (h *handlers) catalogName(ctx context.Context, q *request, name, id string) string {
	ok := len(name) > 0 && len(name) <= 64
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || (r != '_' && r != '-')) {
			ok = false
		}
	}
	if ok {
		if _, err := h.svc.FindVault(ctx, q.caller, ResourceGroup, name); cairn.IsKind(err, cairn.NotExist) {
			return name
		}
		return name + "-" + id[:8]
	}
	return "vault-" + id[:8]
}

func (h *handlers) createVault(ctx context.Context, q *request) (any, error) {
	var in VaultCreateReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Vault == nil {
		return nil, badParam("invalid parameter vault: it is required")
	}
	vc := in.Vault
	if vc.Name == nil {
		return nil, badParam("invalid parameter vault.name: it is required")
	}
	if err := checkVaultName("vault.name", *vc.Name); err != nil {
		return nil, err
	}
	a := vaultAttrs{Name: *vc.Name}
	if vc.Description != nil {
		if err := checkDescription("vault.description", *vc.Description); err != nil {
			return nil, err
		}
		a.Description = *vc.Description
	}
	b := vc.Billing
	if b == nil {
		return nil, badParam("invalid parameter vault.billing: it is required")
	}
	for _, f := range []struct {
		name    string
		v       *string
		need    bool
		allowed []string
		dst     *string
	}{
		{"vault.billing.consistent_level", b.ConsistentLevel, true, []string{"app_consistent", "crash_consistent"}, &a.ConsistentLevel},
		{"vault.billing.object_type", b.ObjectType, true, []string{"server", "disk", "turbo", "workspace", "vmware", "rds", "file"}, &a.ObjectType},
		{"vault.billing.protect_type", b.ProtectType, true, []string{"backup", "replication"}, &a.ProtectType},
		{"vault.billing.cloud_type", b.CloudType, false, []string{"public", "hybrid"}, &a.CloudType},
		{"vault.billing.charging_mode", b.ChargingMode, false, []string{"post_paid", "pre_paid"}, &a.ChargingMode},
		{"vault.billing.period_type", b.PeriodType, false, []string{"year", "month"}, new(string)},
	} {
		if f.v == nil {
			if f.need {
				return nil, badParam("invalid parameter %s: it is required", f.name)
			}
			continue
		}
		if err := oneOf(f.name, *f.v, f.allowed...); err != nil {
			return nil, err
		}
		*f.dst = *f.v
	}
	if a.ObjectType != "server" {
		return nil, errorf(http.StatusBadRequest, CodeUnsupported, "vault.billing.object_type %q: cairn's vaults protect servers only (object_type server)", a.ObjectType)
	}
	if b.Size == nil {
		return nil, badParam("invalid parameter vault.billing.size: it is required")
	}
	if *b.Size < 1 || *b.Size > maxVaultSize {
		return nil, errorf(http.StatusBadRequest, CodeVaultSize, "Size of vault invalid: %d GB is not in 1 to %d", *b.Size, maxVaultSize)
	}
	a.Size = *b.Size
	if b.IsMultiAz != nil {
		a.IsMultiAz = *b.IsMultiAz
	}
	if vc.Resources == nil {
		return nil, badParam("invalid parameter vault.resources: it is required (an empty array binds none)")
	}
	if a.ProtectType == "replication" && len(*vc.Resources) > 0 {
		return nil, errorf(http.StatusBadRequest, CodeResourceType, "Resource not match vault resource type: a replication vault holds replicas, it binds no resources")
	}
	tags, err := checkTags("vault.tags", vc.Tags)
	if err != nil {
		return nil, err
	}
	if vc.Threshold != nil {
		if *vc.Threshold < 1 || *vc.Threshold > 100 {
			return nil, badParam("invalid parameter vault.threshold: %d is not in 1 to 100", *vc.Threshold)
		}
		a.Threshold = *vc.Threshold
	}
	if vc.EnterpriseProjectID != nil {
		if err := checkLen("vault.enterprise_project_id", *vc.EnterpriseProjectID, 0, 255); err != nil {
			return nil, err
		}
		a.EnterpriseProjectID = *vc.EnterpriseProjectID
	}
	if vc.BackupNamePrefix != nil {
		if err := checkLen("vault.backup_name_prefix", *vc.BackupNamePrefix, 0, 32); err != nil {
			return nil, err
		}
		a.BackupNamePrefix = *vc.BackupNamePrefix
	}
	if vc.AvailabilityZone != nil {
		a.AvailabilityZone = *vc.AvailabilityZone
	}
	a.AutoBind = deref(vc.AutoBind)
	a.AutoExpand = deref(vc.AutoExpand)
	a.SmnNotify = deref(vc.SmnNotify)
	a.Locked = deref(vc.Locked)
	a.BindRules = vc.BindRules
	specs, err := h.bindSpecs(ctx, q, "vault.resources", *vc.Resources)
	if err != nil {
		return nil, err
	}
	var policy *service.Policy
	if vc.BackupPolicyID != nil && *vc.BackupPolicyID != "" {
		if err := checkUUID("vault.backup_policy_id", *vc.BackupPolicyID); err != nil {
			return nil, err
		}
		p, err := h.svc.GetPolicy(ctx, q.caller, strings.ToLower(*vc.BackupPolicyID))
		if err != nil {
			return nil, asErrorOr(err, CodePolicyNotFound)
		}
		if p.OperationType != service.PolicyBackup {
			return nil, badParam("invalid parameter vault.backup_policy_id: policy %s is a %s policy", p.ID, p.OperationType)
		}
		policy = p
	}
	id := catalog.NewID()
	spec := service.VaultSpec{
		ID: id, ResourceGroup: ResourceGroup, Name: h.catalogName(ctx, q, a.Name, id), Region: q.region(),
		Tags: tags, Attrs: withAttrs(nil, a), Resources: specs,
	}
	if len(specs) > 0 {
		spec.SourceResourceID = specs[0].ResourceID
	}
	v, _, err := h.svc.PutVault(ctx, q.caller, spec)
	if err != nil {
		return nil, err
	}
	if policy != nil {
		if _, err := h.svc.AssociatePolicy(ctx, q.caller, v.ID, policy.ID, ""); err != nil {
			return nil, err
		}
	}
	out, err := h.vaultView(ctx, q, v)
	if err != nil {
		return nil, err
	}
	return VaultResponse{Vault: out}, nil
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// asErrorOr maps a service error, with code for a cairn.NotExist.
func asErrorOr(err error, code string) error {
	if e := asError(err, code); e != nil {
		return e
	}
	return err
}

// checkTags checks a vault's tags and returns them as a map.
func checkTags(field string, in *[]Tag) (map[string]string, error) {
	if in == nil {
		return nil, nil
	}
	if len(*in) > 20 {
		return nil, badParam("invalid parameter %s: %d tags, at most 20", field, len(*in))
	}
	out := map[string]string{}
	for i, t := range *in {
		f := field + "[" + strconv.Itoa(i) + "]"
		if err := checkLen(f+".key", t.Key, 1, 128); err != nil {
			return nil, err
		}
		if err := checkLen(f+".value", t.Value, 0, 255); err != nil {
			return nil, err
		}
		if _, dup := out[t.Key]; dup {
			return nil, badParam("invalid parameter %s.key: %q is given twice", f, t.Key)
		}
		out[t.Key] = t.Value
	}
	return out, nil
}

func (h *handlers) showVault(ctx context.Context, q *request) (any, error) {
	v, err := h.findVault(ctx, q, q.value("vault_id"))
	if err != nil {
		return nil, err
	}
	out, err := h.vaultView(ctx, q, v)
	if err != nil {
		return nil, err
	}
	return VaultResponse{Vault: out}, nil
}

func (h *handlers) listVaults(ctx context.Context, q *request) (any, error) {
	limit, err := queryInt(q, "limit", 1000, 1, 1000)
	if err != nil {
		return nil, err
	}
	offset, err := queryInt(q, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name    string
		allowed []string
	}{
		{"cloud_type", []string{"public", "hybrid"}},
		{"protect_type", []string{"backup", "replication", "hybrid"}},
	} {
		if v := q.query.Get(f.name); v != "" {
			if err := oneOf(f.name, v, f.allowed...); err != nil {
				return nil, err
			}
		}
	}
	all, err := h.allVaults(ctx, q)
	if err != nil {
		return nil, err
	}
	ids := q.query["id"]
	var policyVaults []service.PolicyVault
	if pid := q.query.Get("policy_id"); pid != "" {
		p, err := h.svc.GetPolicy(ctx, q.caller, strings.ToLower(pid))
		if err != nil && !cairn.IsKind(err, cairn.NotExist) {
			return nil, err
		}
		if p != nil {
			policyVaults = p.Vaults
		}
	}
	var resIDs []string
	if r := q.query.Get("resource_ids"); r != "" {
		resIDs = strings.Split(r, ",")
	}
	var out []Vault
	for _, v := range all {
		a := cbrAttrs(v)
		if n := q.query.Get("name"); n != "" && !strings.Contains(a.Name, n) {
			continue
		}
		if t := q.query.Get("cloud_type"); t != "" && a.CloudType != t {
			continue
		}
		if t := q.query.Get("protect_type"); t != "" && a.ProtectType != t {
			continue
		}
		if t := q.query.Get("object_type"); t != "" && a.ObjectType != t {
			continue
		}
		if e := q.query.Get("enterprise_project_id"); e != "" && e != "all_granted_eps" && a.EnterpriseProjectID != e {
			continue
		}
		if len(ids) > 0 && !slices.ContainsFunc(ids, func(id string) bool { return matchesID(id, v.ID) }) {
			continue
		}
		if q.query.Get("policy_id") != "" && !slices.ContainsFunc(policyVaults, func(pv service.PolicyVault) bool { return pv.VaultID == v.ID }) {
			continue
		}
		if s := q.query.Get("status"); s != "" && s != "available" {
			continue
		}
		view, err := h.vaultView(ctx, q, v)
		if err != nil {
			return nil, err
		}
		if len(resIDs) > 0 && !slices.ContainsFunc(view.Resources, func(r ResourceResp) bool { return slices.Contains(resIDs, r.ID) }) {
			continue
		}
		out = append(out, view)
	}
	return VaultList{Vaults: nonNil(page(out, offset, limit)), Count: len(out), Limit: limit, Offset: offset}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (h *handlers) updateVault(ctx context.Context, q *request) (any, error) {
	v, err := h.findVault(ctx, q, q.value("vault_id"))
	if err != nil {
		return nil, err
	}
	var in VaultUpdateReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Vault == nil {
		return nil, badParam("invalid parameter vault: it is required")
	}
	u := in.Vault
	a := cbrAttrs(v)
	if u.Name != nil {
		if err := checkVaultName("vault.name", *u.Name); err != nil {
			return nil, err
		}
		a.Name = *u.Name
	}
	if u.Billing != nil {
		if u.Billing.ConsistentLevel != nil {
			if err := oneOf("vault.billing.consistent_level", *u.Billing.ConsistentLevel, "app_consistent", "crash_consistent"); err != nil {
				return nil, err
			}
			a.ConsistentLevel = *u.Billing.ConsistentLevel
		}
		if u.Billing.Size != nil {
			if *u.Billing.Size < 1 || *u.Billing.Size > maxVaultSize {
				return nil, errorf(http.StatusBadRequest, CodeVaultSize, "Size of vault invalid: %d GB is not in 1 to %d", *u.Billing.Size, maxVaultSize)
			}
			a.Size = *u.Billing.Size
		}
	}
	if u.Threshold != nil {
		if *u.Threshold < 1 || *u.Threshold > 100 {
			return nil, badParam("invalid parameter vault.threshold: %d is not in 1 to 100", *u.Threshold)
		}
		a.Threshold = *u.Threshold
	}
	if u.AutoBind != nil {
		a.AutoBind = *u.AutoBind
	}
	if u.AutoExpand != nil {
		a.AutoExpand = *u.AutoExpand
	}
	if u.SmnNotify != nil {
		a.SmnNotify = *u.SmnNotify
	}
	if u.Locked != nil {
		a.Locked = *u.Locked
	}
	if len(u.BindRules) > 0 {
		a.BindRules = u.BindRules
	}
	nv, _, err := h.svc.PutVault(ctx, q.caller, service.VaultSpec{
		ID: v.ID, ResourceGroup: v.ResourceGroup, Name: v.Name, Region: v.Region, Tags: v.Tags, Attrs: withAttrs(v.Attrs, a),
	})
	if err != nil {
		return nil, err
	}
	out, err := h.vaultView(ctx, q, nv)
	if err != nil {
		return nil, err
	}
	return VaultResponse{Vault: out}, nil
}

func (h *handlers) deleteVault(ctx context.Context, q *request) (any, error) {
	v, err := h.findVault(ctx, q, q.value("vault_id"))
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.DeleteVault(ctx, q.caller, v.ID); err != nil {
		if cairn.IsKind(err, cairn.Conflict) {
			return nil, &Error{Status: http.StatusBadRequest, Code: CodeVaultCannotDelete, Message: "The vault can not delete, error_msg: " + err.Error(), Err: err}
		}
		return nil, err
	}
	return &httpapi.Response{Status: http.StatusOK, Body: httpapi.RawBody{ContentType: "application/json"}}, nil
}

func (h *handlers) addResources(ctx context.Context, q *request) (any, error) {
	v, err := h.findVault(ctx, q, q.value("vault_id"))
	if err != nil {
		return nil, err
	}
	var in VaultAddResourceReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Resources == nil || len(*in.Resources) == 0 {
		return nil, badParam("invalid parameter resources: at least one resource is required")
	}
	if cbrAttrs(v).ProtectType == "replication" {
		return nil, errorf(http.StatusBadRequest, CodeResourceType, "Resource not match vault resource type: a replication vault binds no resources")
	}
	specs, err := h.bindSpecs(ctx, q, "resources", *in.Resources)
	if err != nil {
		return nil, err
	}
	bound, err := h.svc.BindResources(ctx, q.caller, v.ID, specs)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, b := range bound {
		ids = append(ids, publicID(b.ResourceID))
	}
	return map[string][]string{"add_resource_ids": ids}, nil
}

func (h *handlers) removeResources(ctx context.Context, q *request) (any, error) {
	v, err := h.findVault(ctx, q, q.value("vault_id"))
	if err != nil {
		return nil, err
	}
	var in VaultRemoveResourceReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.ResourceIDs == nil || len(*in.ResourceIDs) == 0 {
		return nil, badParam("invalid parameter resource_ids: at least one id is required")
	}
	bound, err := h.svc.ListVaultResources(ctx, q.caller, v.ID)
	if err != nil {
		return nil, err
	}
	var native, public []string
	for i, id := range *in.ResourceIDs {
		found := ""
		for _, b := range bound {
			if matchesID(trimID(id), b.ResourceID) {
				found = b.ResourceID
			}
		}
		if found == "" {
			return nil, errorf(http.StatusBadRequest, CodeNotBound, "resource_ids[%d]: resource %s is not bound to vault %s", i, id, publicID(v.ID))
		}
		native = append(native, found)
		public = append(public, publicID(found))
	}
	if err := h.svc.UnbindResources(ctx, q.caller, v.ID, native); err != nil {
		return nil, err
	}
	return map[string][]string{"remove_resource_ids": public}, nil
}

// vaultView is a vault as CBR shows it.
func (h *handlers) vaultView(ctx context.Context, q *request, v *catalog.Vault) (Vault, error) {
	a := cbrAttrs(v)
	out := Vault{
		ID: publicID(v.ID), Name: a.Name, Description: a.Description, ProjectID: q.project.ID, ProviderID: ProviderServer,
		Resources: []ResourceResp{}, Tags: []Tag{}, EnterpriseProjectID: a.EnterpriseProjectID, AutoBind: a.AutoBind,
		BindRules: a.BindRules, UserID: q.caller.TokenID, CreatedAt: timeText(v.Created), AutoExpand: a.AutoExpand,
		SmnNotify: a.SmnNotify, Threshold: a.Threshold, Locked: a.Locked, AvailabilityZone: a.AvailabilityZone,
	}
	for k, val := range v.Tags {
		out.Tags = append(out.Tags, Tag{Key: k, Value: val})
	}
	slices.SortFunc(out.Tags, func(x, y Tag) int { return strings.Compare(x.Key, y.Key) })
	bound, err := h.svc.ListVaultResources(ctx, q.caller, v.ID)
	if err != nil {
		return out, err
	}
	if len(bound) == 0 && v.SourceResourceID != "" {
		// A collection made through ARM: its source VM is its resource.
		bound = []*service.VaultResource{{VaultID: v.ID, ResourceID: v.SourceResourceID}}
	}
	points, err := h.vaultPoints(ctx, q, v.ID)
	if err != nil {
		return out, err
	}
	var allocated, used int64
	for _, b := range bound {
		rr := ResourceResp{ID: publicID(b.ResourceID), Type: TypeServer, ProtectStatus: "available"}
		vm, err := h.svc.GetVM(ctx, q.caller, b.ResourceID)
		if err == nil {
			rr.Name = vm.Name
			var size int64
			for _, d := range vm.Disks {
				size += d.Size
			}
			rr.Size = gb(size)
			allocated += rr.Size
			rr.ProtectStatus = h.protectStatus(ctx, q, vm.ID)
			if len(b.ExcludeDisks) > 0 {
				var vols []string
				for _, d := range b.ExcludeDisks {
					vols = append(vols, volumeID(vm.ID, d))
				}
				rr.ExtraInfo = &ResourceExtraInfo{ExcludeVolumes: &vols}
			}
		} else if !cairn.IsKind(err, cairn.NotExist) {
			return out, err
		}
		for _, p := range points {
			if p.ResourceID != b.ResourceID || p.State == catalog.PointFailed {
				continue
			}
			rr.BackupCount++
			for _, d := range p.Disks {
				rr.BackupSize += d.Size
			}
		}
		rr.BackupSize = mb(rr.BackupSize)
		out.Resources = append(out.Resources, rr)
	}
	for _, p := range points {
		if p.State == catalog.PointFailed {
			continue
		}
		for _, d := range p.Disks {
			used += d.Size
		}
	}
	spec := "vault.backup.server.normal"
	if a.ProtectType == "replication" {
		spec = "vault.replication.server.normal"
	}
	out.Billing = Billing{
		Allocated: allocated, ChargingMode: a.ChargingMode, CloudType: a.CloudType, ConsistentLevel: a.ConsistentLevel,
		ObjectType: a.ObjectType, ProtectType: a.ProtectType, Size: a.Size, SpecCode: spec, Status: "available",
		StorageUnit: "GB", Used: gb(used), IsMultiAz: a.IsMultiAz,
	}
	return out, nil
}

// protectStatus is a resource's protect_status: protecting while a backup
// runs on it, restoring while a restore does, else available.
func (h *handlers) protectStatus(ctx context.Context, q *request, vmID string) string {
	ops, _, err := h.svc.ListOperations(ctx, q.caller, service.OperationFilter{ResourceID: vmID,
		States: []catalog.OpState{catalog.OpQueued, catalog.OpRunning}}, catalog.Page{Size: 1})
	if err != nil || len(ops) == 0 {
		return "available"
	}
	switch ops[0].Kind {
	case service.OpRestorePoint, service.OpRestoreDisk:
		return "restoring"
	}
	return "protecting"
}

// vaultPoints lists every restore point of a vault.
func (h *handlers) vaultPoints(ctx context.Context, q *request, vaultID string) ([]*service.RestorePoint, error) {
	var all []*service.RestorePoint
	pg := catalog.Page{Size: catalog.MaxPageSize}
	for {
		ps, next, err := h.svc.ListRestorePoints(ctx, q.caller, vaultID, pg)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
		if next == "" {
			return all, nil
		}
		pg.Token = next
	}
}
