package cbr

import "encoding/json"

// The JSON shapes of CBR v3, as Huawei Cloud's API reference and the
// official SDK's models (services/cbr/v1/model) spell them. Requests use
// pointers where a field may be left out; responses set every field the
// SDK reads as required.

// Provider ids of CBR's backup providers.
const (
	ProviderServer = "0daac4c5-6707-4851-97ba-169e36266b66" // cloud servers (OS::Nova::Server)
	ProviderDisk   = "d1603440-187d-4516-af25-121250c7cc97" // disks (OS::Cinder::Volume)
)

// Resource types.
const (
	TypeServer = "OS::Nova::Server"
	TypeVolume = "OS::Cinder::Volume"
)

// ---- vaults

// VaultCreateReq is the body of POST /vaults.
type VaultCreateReq struct {
	Vault *VaultCreate `json:"vault"`
}

// VaultCreate is a vault to create.
type VaultCreate struct {
	BackupPolicyID      *string           `json:"backup_policy_id"`
	Billing             *BillingCreate    `json:"billing"`
	Description         *string           `json:"description"`
	Name                *string           `json:"name"`
	Resources           *[]ResourceCreate `json:"resources"`
	Tags                *[]Tag            `json:"tags"`
	EnterpriseProjectID *string           `json:"enterprise_project_id"`
	AutoBind            *bool             `json:"auto_bind"`
	BindRules           json.RawMessage   `json:"bind_rules"`
	AutoExpand          *bool             `json:"auto_expand"`
	Threshold           *int              `json:"threshold"`
	SmnNotify           *bool             `json:"smn_notify"`
	BackupNamePrefix    *string           `json:"backup_name_prefix"`
	DemandBilling       *bool             `json:"demand_billing"`
	Locked              *bool             `json:"locked"`
	AvailabilityZone    *string           `json:"availability_zone"`
}

// BillingCreate is a vault's billing and kind.
type BillingCreate struct {
	CloudType       *string `json:"cloud_type"`
	ConsistentLevel *string `json:"consistent_level"`
	ObjectType      *string `json:"object_type"`
	ProtectType     *string `json:"protect_type"`
	Size            *int64  `json:"size"`
	ChargingMode    *string `json:"charging_mode"`
	PeriodType      *string `json:"period_type"`
	PeriodNum       *int    `json:"period_num"`
	IsAutoRenew     *bool   `json:"is_auto_renew"`
	IsAutoPay       *bool   `json:"is_auto_pay"`
	ConsoleURL      *string `json:"console_url"`
	IsMultiAz       *bool   `json:"is_multi_az"`
}

// ResourceCreate is a resource to bind to a vault.
type ResourceCreate struct {
	ExtraInfo *ResourceExtraInfo `json:"extra_info"`
	ID        *string            `json:"id"`
	Type      *string            `json:"type"`
	Name      *string            `json:"name"`
}

// ResourceExtraInfo is a resource's extra information.
type ResourceExtraInfo struct {
	ExcludeVolumes *[]string       `json:"exclude_volumes,omitempty"`
	IncludeVolumes json.RawMessage `json:"include_volumes,omitempty"`
}

// Tag is a key and value.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// VaultUpdateReq is the body of PUT /vaults/{vault_id}.
type VaultUpdateReq struct {
	Vault *VaultUpdate `json:"vault"`
}

// VaultUpdate are the fields of a vault to change.
type VaultUpdate struct {
	Billing    *BillingUpdate  `json:"billing"`
	Name       *string         `json:"name"`
	AutoBind   *bool           `json:"auto_bind"`
	BindRules  json.RawMessage `json:"bind_rules"`
	AutoExpand *bool           `json:"auto_expand"`
	SmnNotify  *bool           `json:"smn_notify"`
	Threshold  *int            `json:"threshold"`
	Locked     *bool           `json:"locked"`
}

// BillingUpdate are the billing fields that may change.
type BillingUpdate struct {
	ConsistentLevel *string `json:"consistent_level"`
	Size            *int64  `json:"size"`
}

// VaultAddResourceReq is the body of POST /vaults/{vault_id}/addresources.
type VaultAddResourceReq struct {
	Resources *[]ResourceCreate `json:"resources"`
}

// VaultRemoveResourceReq is the body of POST
// /vaults/{vault_id}/removeresources.
type VaultRemoveResourceReq struct {
	ResourceIDs *[]string `json:"resource_ids"`
}

// VaultAssociateReq is the body of POST /vaults/{vault_id}/associatepolicy
// and dissociatepolicy.
type VaultAssociateReq struct {
	DestinationVaultID *string `json:"destination_vault_id"`
	PolicyID           *string `json:"policy_id"`
}

// Vault is a vault as CBR shows it.
type Vault struct {
	Billing             Billing         `json:"billing"`
	Description         string          `json:"description"`
	ID                  string          `json:"id"`
	Name                string          `json:"name"`
	ProjectID           string          `json:"project_id"`
	ProviderID          string          `json:"provider_id"`
	Resources           []ResourceResp  `json:"resources"`
	Tags                []Tag           `json:"tags"`
	EnterpriseProjectID string          `json:"enterprise_project_id"`
	AutoBind            bool            `json:"auto_bind"`
	BindRules           json.RawMessage `json:"bind_rules,omitempty"`
	UserID              string          `json:"user_id"`
	CreatedAt           string          `json:"created_at"`
	AutoExpand          bool            `json:"auto_expand"`
	SmnNotify           bool            `json:"smn_notify"`
	Threshold           int             `json:"threshold"`
	Locked              bool            `json:"locked"`
	AvailabilityZone    string          `json:"availability_zone,omitempty"`
}

// Billing is a vault's billing as CBR shows it.
type Billing struct {
	Allocated       int64  `json:"allocated"`
	ChargingMode    string `json:"charging_mode"`
	CloudType       string `json:"cloud_type"`
	ConsistentLevel string `json:"consistent_level"`
	ObjectType      string `json:"object_type"`
	ProtectType     string `json:"protect_type"`
	Size            int64  `json:"size"`
	SpecCode        string `json:"spec_code"`
	Status          string `json:"status"`
	StorageUnit     string `json:"storage_unit"`
	Used            int64  `json:"used"`
	IsMultiAz       bool   `json:"is_multi_az"`
}

// ResourceResp is a resource of a vault.
type ResourceResp struct {
	ExtraInfo     *ResourceExtraInfo `json:"extra_info,omitempty"`
	ID            string             `json:"id"`
	Name          string             `json:"name"`
	ProtectStatus string             `json:"protect_status"`
	Size          int64              `json:"size"`
	Type          string             `json:"type"`
	BackupSize    int64              `json:"backup_size"`
	BackupCount   int64              `json:"backup_count"`
}

// VaultResponse is the body of a vault.
type VaultResponse struct {
	Vault Vault `json:"vault"`
}

// VaultList is the body of GET /vaults.
type VaultList struct {
	Vaults []Vault `json:"vaults"`
	Count  int     `json:"count"`
	Limit  int     `json:"limit"`
	Offset int     `json:"offset"`
}

// ---- checkpoints

// VaultBackupReq is the body of POST /checkpoints.
type VaultBackupReq struct {
	Checkpoint *VaultBackup `json:"checkpoint"`
}

// VaultBackup names the vault to back up and how.
type VaultBackup struct {
	Parameters *CheckpointParam `json:"parameters"`
	VaultID    *string          `json:"vault_id"`
}

// CheckpointParam are a checkpoint's parameters.
type CheckpointParam struct {
	AutoTrigger     *bool             `json:"auto_trigger"`
	Description     *string           `json:"description"`
	Incremental     *bool             `json:"incremental"`
	Name            *string           `json:"name"`
	Resources       *[]string         `json:"resources"`
	ResourceDetails *[]ResourceCreate `json:"resource_details"`
	PolicyID        *string           `json:"policy_id"`
}

// CheckpointResponse is the body of a checkpoint.
type CheckpointResponse struct {
	Checkpoint Checkpoint `json:"checkpoint"`
}

// Checkpoint is a checkpoint as CBR shows it (CheckpointCreate).
type Checkpoint struct {
	CreatedAt string              `json:"created_at"`
	ID        string              `json:"id"`
	ProjectID string              `json:"project_id"`
	Status    string              `json:"status"`
	Vault     CheckpointVault     `json:"vault"`
	ExtraInfo CheckpointExtraInfo `json:"extra_info"`
}

// CheckpointVault is the vault of a checkpoint with its resources
// (CheckpointPlanCreate).
type CheckpointVault struct {
	ID               string               `json:"id"`
	Name             string               `json:"name"`
	Resources        []CheckpointResource `json:"resources"`
	SkippedResources []SkippedResource    `json:"skipped_resources"`
}

// CheckpointResource is a resource of a checkpoint (CheckpointResourceResp):
// sizes and counts are strings, as CBR's reference types them.
type CheckpointResource struct {
	ExtraInfo     string `json:"extra_info,omitempty"`
	ID            string `json:"id"`
	Name          string `json:"name"`
	ProtectStatus string `json:"protect_status"`
	ResourceSize  string `json:"resource_size"`
	Type          string `json:"type"`
	BackupSize    string `json:"backup_size"`
	BackupCount   string `json:"backup_count"`
}

// SkippedResource is a resource a checkpoint left out.
type SkippedResource struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// CheckpointExtraInfo is a checkpoint's name, description and retention.
type CheckpointExtraInfo struct {
	Name              string `json:"name"`
	Description       string `json:"description"`
	RetentionDuration int    `json:"retention_duration"`
}

// ---- replication

// CheckpointReplicateReq is the body of POST /checkpoints/replicate.
type CheckpointReplicateReq struct {
	Replicate *CheckpointReplicateParam `json:"replicate"`
}

// CheckpointReplicateParam says what to replicate where.
type CheckpointReplicateParam struct {
	AutoTrigger          *bool   `json:"auto_trigger"`
	DestinationProjectID *string `json:"destination_project_id"`
	DestinationRegion    *string `json:"destination_region"`
	DestinationVaultID   *string `json:"destination_vault_id"`
	EnableAcceleration   *bool   `json:"enable_acceleration"`
	VaultID              *string `json:"vault_id"`
	CrossAccountURN      *string `json:"cross_account_urn"`
}

// ReplicationResponse is the body of POST /checkpoints/replicate.
type ReplicationResponse struct {
	Replication Replication `json:"replication"`
}

// Replication is what a replicate call started.
type Replication struct {
	Backups              []ReplicatedBackup `json:"backups"`
	DestinationProjectID string             `json:"destination_project_id"`
	DestinationRegion    string             `json:"destination_region"`
	DestinationVaultID   string             `json:"destination_vault_id"`
	ProjectID            string             `json:"project_id"`
	ProviderID           string             `json:"provider_id"`
	SourceRegion         string             `json:"source_region"`
	VaultID              string             `json:"vault_id"`
}

// ReplicatedBackup is a backup being replicated and its record.
type ReplicatedBackup struct {
	BackupID            string `json:"backup_id"`
	ReplicationRecordID string `json:"replication_record_id"`
}

// ReplicationRecord is a backup's replication (ReplicationRecordGet).
type ReplicationRecord struct {
	CreatedAt               string                 `json:"created_at"`
	DestinationBackupID     string                 `json:"destination_backup_id"`
	DestinationCheckpointID string                 `json:"destination_checkpoint_id,omitempty"`
	DestinationProjectID    string                 `json:"destination_project_id"`
	DestinationRegion       string                 `json:"destination_region"`
	DestinationVaultID      string                 `json:"destination_vault_id"`
	ExtraInfo               ReplicationRecordExtra `json:"extra_info"`
	ID                      string                 `json:"id"`
	SourceBackupID          string                 `json:"source_backup_id"`
	SourceCheckpointID      string                 `json:"source_checkpoint_id,omitempty"`
	SourceProjectID         string                 `json:"source_project_id"`
	SourceRegion            string                 `json:"source_region"`
	Status                  string                 `json:"status"`
	VaultID                 string                 `json:"vault_id"`
}

// ReplicationRecordExtra is a replication record's progress and failure.
type ReplicationRecordExtra struct {
	Progress           int    `json:"progress"`
	FailCode           string `json:"fail_code,omitempty"`
	FailReason         string `json:"fail_reason,omitempty"`
	AutoTrigger        bool   `json:"auto_trigger"`
	DestinationVaultID string `json:"destination_vault_id"`
}

// ---- backups

// Backup is a backup as CBR shows it (BackupResp): one resource's restore
// point; a server's has its disks as children.
type Backup struct {
	CheckpointID        string              `json:"checkpoint_id"`
	CreatedAt           string              `json:"created_at"`
	Description         string              `json:"description"`
	ExpiredAt           *string             `json:"expired_at"`
	ExtendInfo          BackupExtendInfo    `json:"extend_info"`
	ID                  string              `json:"id"`
	ImageType           string              `json:"image_type"`
	Name                string              `json:"name"`
	ParentID            string              `json:"parent_id"`
	ProjectID           string              `json:"project_id"`
	ProtectedAt         string              `json:"protected_at"`
	ResourceAz          string              `json:"resource_az"`
	ResourceID          string              `json:"resource_id"`
	ResourceName        string              `json:"resource_name"`
	ResourceSize        int64               `json:"resource_size"`
	ResourceType        string              `json:"resource_type"`
	Status              string              `json:"status"`
	UpdatedAt           string              `json:"updated_at"`
	VaultID             string              `json:"vault_id"`
	ReplicationRecords  []ReplicationRecord `json:"replication_records"`
	EnterpriseProjectID string              `json:"enterprise_project_id"`
	ProviderID          string              `json:"provider_id"`
	Children            []Backup            `json:"children"`
	Incremental         bool                `json:"incremental"`
	Version             int                 `json:"version"`
}

// BackupExtendInfo is a backup's extended information.
type BackupExtendInfo struct {
	AutoTrigger          bool   `json:"auto_trigger"`
	Bootable             bool   `json:"bootable"`
	SnapshotID           string `json:"snapshot_id"`
	SupportLld           bool   `json:"support_lld"`
	SupportedRestoreMode string `json:"supported_restore_mode"`
	ContainSystemDisk    bool   `json:"contain_system_disk"`
	Encrypted            bool   `json:"encrypted"`
	SystemDisk           bool   `json:"system_disk"`
	IsMultiAz            bool   `json:"is_multi_az"`
}

// BackupResponse is the body of GET /backups/{backup_id}.
type BackupResponse struct {
	Backup Backup `json:"backup"`
}

// BackupList is the body of GET /backups.
type BackupList struct {
	Backups []Backup `json:"backups"`
	Count   int      `json:"count"`
	Offset  int      `json:"offset"`
	Limit   int      `json:"limit"`
}

// BackupRestoreReq is the body of POST /backups/{backup_id}/restore.
type BackupRestoreReq struct {
	Restore *BackupRestore `json:"restore"`
}

// BackupRestore says where a backup is restored.
type BackupRestore struct {
	Mappings   *[]RestoreMapping `json:"mappings"`
	PowerOn    *bool             `json:"power_on"`
	ServerID   *string           `json:"server_id"`
	VolumeID   *string           `json:"volume_id"`
	ResourceID *string           `json:"resource_id"`
	Details    *RestoreDetails   `json:"details"`
}

// RestoreMapping maps a disk backup to the disk it is restored to.
type RestoreMapping struct {
	BackupID *string `json:"backup_id"`
	VolumeID *string `json:"volume_id"`
}

// RestoreDetails names where new images go (cairn: a directory).
type RestoreDetails struct {
	DestinationPath *string `json:"destination_path"`
}

// ---- policies

// PolicyCreateReq is the body of POST /policies.
type PolicyCreateReq struct {
	Policy *PolicyCreate `json:"policy"`
}

// PolicyCreate is a policy to create.
type PolicyCreate struct {
	Enabled             *bool                `json:"enabled"`
	Name                *string              `json:"name"`
	OperationDefinition *OperationDefinition `json:"operation_definition"`
	OperationType       *string              `json:"operation_type"`
	Trigger             *PolicyTrigger       `json:"trigger"`
}

// PolicyUpdateReq is the body of PUT /policies/{policy_id}.
type PolicyUpdateReq struct {
	Policy *PolicyUpdate `json:"policy"`
}

// PolicyUpdate are the fields of a policy to change.
type PolicyUpdate struct {
	Enabled             *bool                `json:"enabled"`
	Name                *string              `json:"name"`
	OperationDefinition *OperationDefinition `json:"operation_definition"`
	Trigger             *PolicyTrigger       `json:"trigger"`
}

// OperationDefinition is a policy's retention and replication settings
// (PolicyoOdCreate).
type OperationDefinition struct {
	DayBackups            *int    `json:"day_backups,omitempty"`
	DestinationProjectID  *string `json:"destination_project_id,omitempty"`
	DestinationRegion     *string `json:"destination_region,omitempty"`
	EnableAcceleration    *bool   `json:"enable_acceleration,omitempty"`
	MaxBackups            *int    `json:"max_backups,omitempty"`
	MonthBackups          *int    `json:"month_backups,omitempty"`
	RetentionDurationDays *int    `json:"retention_duration_days,omitempty"`
	Timezone              *string `json:"timezone,omitempty"`
	WeekBackups           *int    `json:"week_backups,omitempty"`
	YearBackups           *int    `json:"year_backups,omitempty"`
	FullBackupInterval    *int    `json:"full_backup_interval,omitempty"`
	CrossAccountURN       *string `json:"cross_account_urn,omitempty"`
}

// PolicyTrigger is a policy's trigger, in requests.
type PolicyTrigger struct {
	Properties *PolicyTriggerProperties `json:"properties"`
}

// PolicyTriggerProperties are a trigger's patterns and start time.
type PolicyTriggerProperties struct {
	Pattern   *[]string `json:"pattern"`
	StartTime *string   `json:"start_time,omitempty"`
}

// Policy is a policy as CBR shows it.
type Policy struct {
	Enabled             bool                   `json:"enabled"`
	ID                  string                 `json:"id"`
	Name                string                 `json:"name"`
	OperationDefinition OperationDefinition    `json:"operation_definition"`
	OperationType       string                 `json:"operation_type"`
	Trigger             PolicyTriggerResp      `json:"trigger"`
	AssociatedVaults    []PolicyAssociateVault `json:"associated_vaults"`
}

// PolicyTriggerResp is a policy's trigger, in responses.
type PolicyTriggerResp struct {
	ID         string                 `json:"id"`
	Name       string                 `json:"name"`
	Properties PolicyTriggerPropsResp `json:"properties"`
	Type       string                 `json:"type"`
}

// PolicyTriggerPropsResp are a trigger's patterns and start time.
type PolicyTriggerPropsResp struct {
	Pattern   []string `json:"pattern"`
	StartTime string   `json:"start_time,omitempty"`
}

// PolicyAssociateVault is a vault of a policy.
type PolicyAssociateVault struct {
	DestinationVaultID string `json:"destination_vault_id,omitempty"`
	VaultID            string `json:"vault_id"`
}

// PolicyResponse is the body of a policy.
type PolicyResponse struct {
	Policy Policy `json:"policy"`
}

// PolicyList is the body of GET /policies.
type PolicyList struct {
	Policies []Policy `json:"policies"`
	Count    int      `json:"count"`
}

// AssociateResponse is the body of POST /vaults/{vault_id}/associatepolicy.
type AssociateResponse struct {
	AssociatePolicy VaultPolicy `json:"associate_policy"`
}

// DissociateResponse is the body of POST /vaults/{vault_id}/dissociatepolicy.
type DissociateResponse struct {
	DissociatePolicy VaultPolicy `json:"dissociate_policy"`
}

// VaultPolicy is a vault's association with a policy.
type VaultPolicy struct {
	DestinationVaultID string `json:"destination_vault_id,omitempty"`
	PolicyID           string `json:"policy_id"`
	VaultID            string `json:"vault_id"`
}

// ---- operation logs

// OperationLog is a task: a backup, replication, restore or deletion.
type OperationLog struct {
	CheckpointID  string      `json:"checkpoint_id,omitempty"`
	CreatedAt     string      `json:"created_at"`
	EndedAt       string      `json:"ended_at,omitempty"`
	ErrorInfo     OpErrorInfo `json:"error_info"`
	ExtraInfo     OpExtraInfo `json:"extra_info"`
	ID            string      `json:"id"`
	OperationType string      `json:"operation_type"`
	PolicyID      string      `json:"policy_id,omitempty"`
	ProjectID     string      `json:"project_id"`
	ProviderID    string      `json:"provider_id"`
	StartedAt     string      `json:"started_at"`
	Status        string      `json:"status"`
	UpdatedAt     string      `json:"updated_at"`
	VaultID       string      `json:"vault_id,omitempty"`
	VaultName     string      `json:"vault_name,omitempty"`
}

// OpErrorInfo is why a task failed.
type OpErrorInfo struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// OpExtraInfo is what a task works on, by its type.
type OpExtraInfo struct {
	Backup      *OpBackup      `json:"backup,omitempty"`
	Common      OpCommon       `json:"common"`
	Delete      *OpDelete      `json:"delete,omitempty"`
	Replication *OpReplication `json:"replication,omitempty"`
	Resource    *OpResource    `json:"resource,omitempty"`
	Restore     *OpRestore     `json:"restore,omitempty"`
	VaultDelete *OpVaultDelete `json:"vault_delete,omitempty"`
}

// OpCommon is a task's progress.
type OpCommon struct {
	Progress  int    `json:"progress"`
	RequestID string `json:"request_id"`
	TaskID    string `json:"task_id,omitempty"`
}

// OpBackup is a backup task's backup.
type OpBackup struct {
	BackupID    string `json:"backup_id"`
	BackupName  string `json:"backup_name,omitempty"`
	Incremental string `json:"incremental,omitempty"` // "true" or "false"
}

// OpDelete is a deletion task's backup.
type OpDelete struct {
	BackupID   string `json:"backup_id"`
	BackupName string `json:"backup_name"`
}

// OpReplication is a replication task's source and destination.
type OpReplication struct {
	DestinationBackupID     string `json:"destination_backup_id,omitempty"`
	DestinationCheckpointID string `json:"destination_checkpoint_id,omitempty"`
	DestinationProjectID    string `json:"destination_project_id"`
	DestinationRegion       string `json:"destination_region"`
	SourceBackupID          string `json:"source_backup_id"`
	SourceCheckpointID      string `json:"source_checkpoint_id,omitempty"`
	SourceProjectID         string `json:"source_project_id"`
	SourceRegion            string `json:"source_region"`
	SourceBackupName        string `json:"source_backup_name,omitempty"`
	DestinationBackupName   string `json:"destination_backup_name,omitempty"`
}

// OpResource is a task's resource.
type OpResource struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Type string `json:"type"`
}

// OpRestore is a restore task's backup and target.
type OpRestore struct {
	BackupID           string `json:"backup_id,omitempty"`
	BackupName         string `json:"backup_name,omitempty"`
	TargetResourceID   string `json:"target_resource_id,omitempty"`
	TargetResourceName string `json:"target_resource_name,omitempty"`
}

// OpVaultDelete is a vault deletion's counts.
type OpVaultDelete struct {
	FailCount  int `json:"fail_count"`
	TotalCount int `json:"total_count"`
}

// OperationLogResponse is the body of GET /operation-logs/{id}.
type OperationLogResponse struct {
	OperationLog OperationLog `json:"operation_log"`
}

// OperationLogList is the body of GET /operation-logs.
type OperationLogList struct {
	OperationLogs []OperationLog `json:"operation_logs"`
	Count         int            `json:"count"`
	Limit         int            `json:"limit"`
	Offset        int            `json:"offset"`
}

// ---- projects and agreements

// ProjectList is the body of GET /v3/region-projects: the caller's
// projects, one per region.
type ProjectList struct {
	Projects []ProjectInfo `json:"projects"`
	Links    Links         `json:"links"`
}

// ProjectInfo is a regional project.
type ProjectInfo struct {
	DomainID    string `json:"domain_id"`
	IsDomain    bool   `json:"is_domain"`
	ParentID    string `json:"parent_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ID          string `json:"id"`
	Enabled     bool   `json:"enabled"`
	Links       Links  `json:"links"`
}

// Links holds a self link.
type Links struct {
	Self string `json:"self"`
}

// AgreementCreateReq is the body of POST /replication-agreements (cairn's
// own route).
type AgreementCreateReq struct {
	Agreement *AgreementCreate `json:"agreement"`
}

// AgreementCreate names the project whose replicas the URL's project
// accepts.
type AgreementCreate struct {
	SourceProjectID *string `json:"source_project_id"`
}

// Agreement is a replication agreement.
type Agreement struct {
	ID                   string `json:"id"`
	SourceProjectID      string `json:"source_project_id"`
	DestinationProjectID string `json:"destination_project_id"`
	CreatedAt            string `json:"created_at"`
}

// AgreementResponse is the body of one agreement.
type AgreementResponse struct {
	Agreement Agreement `json:"agreement"`
}

// AgreementList is the body of GET /replication-agreements.
type AgreementList struct {
	Agreements []Agreement `json:"agreements"`
	Count      int         `json:"count"`
}
