package arm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON shapes of the ARM dialect, with the field names of the Azure
// pages (shared/seeds/000, 001) and of armcompute's models. Request
// decoding is lenient about unknown fields, as ARM is; where the pages
// write numbers and booleans as strings ("diskSizeGB": "10",
// "provisionVMAgent": "true") the Flex types accept both, and responses
// always carry JSON numbers and booleans, which is what Azure returns and
// what the SDK decodes.

// FlexInt32 is an int32 that decodes from a JSON number or a string of
// digits, and encodes as a number.
type FlexInt32 int32

// UnmarshalJSON accepts 10 and "10".
func (v *FlexInt32) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return fmt.Errorf("%s is not a whole number", b)
	}
	*v = FlexInt32(n)
	return nil
}

// FlexBool is a bool that decodes from true/false or "true"/"false", and
// encodes as a JSON boolean.
type FlexBool bool

// UnmarshalJSON accepts true, false, "true" and "false" (in any case).
func (v *FlexBool) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		*v = true
	case "false":
		*v = false
	default:
		return fmt.Errorf("%s is not true or false", b)
	}
	return nil
}

// SubResource is a reference to another resource by id.
type SubResource struct {
	ID string `json:"id,omitempty"`
}

// Time is a timestamp written as RFC 3339 in UTC, as ARM writes them.
type Time time.Time

// MarshalJSON writes the time in RFC 3339 with nanoseconds, in UTC.
func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339Nano))
}

// UnmarshalJSON reads an RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	tt, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = Time(tt)
	return nil
}

// timePtr returns a *Time of t, or nil for the zero time.
func timePtr(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	v := Time(t)
	return &v
}

// ---- virtual machines ----

// VirtualMachine is Microsoft.Compute/virtualMachines as cairn keeps it:
// a registration of a machine whose disks are image files.
type VirtualMachine struct {
	ID         string            `json:"id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Type       string            `json:"type,omitempty"`
	Location   string            `json:"location,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties *VMProperties     `json:"properties,omitempty"`
}

// VMProperties are a VM's properties.
type VMProperties struct {
	VMID               string              `json:"vmId,omitempty"`
	HardwareProfile    *HardwareProfile    `json:"hardwareProfile,omitempty"`
	OSProfile          *OSProfile          `json:"osProfile,omitempty"`
	StorageProfile     *VMStorageProfile   `json:"storageProfile,omitempty"`
	DiagnosticsProfile *DiagnosticsProfile `json:"diagnosticsProfile,omitempty"`
	ProvisioningState  string              `json:"provisioningState,omitempty"`
	TimeCreated        *Time               `json:"timeCreated,omitempty"`
}

// HardwareProfile is a VM's size.
type HardwareProfile struct {
	VMSize           string            `json:"vmSize,omitempty"`
	VMSizeProperties *VMSizeProperties `json:"vmSizeProperties,omitempty"`
}

// VMSizeProperties customise a VM size.
type VMSizeProperties struct {
	VCPUsAvailable *FlexInt32 `json:"vCPUsAvailable,omitempty"`
	VCPUsPerCore   *FlexInt32 `json:"vCPUsPerCore,omitempty"`
}

// OSProfile is a VM's operating system settings. adminPassword and
// customData are accepted and never returned, as in Azure.
type OSProfile struct {
	ComputerName                string                `json:"computerName,omitempty"`
	AdminUsername               string                `json:"adminUsername,omitempty"`
	AdminPassword               string                `json:"adminPassword,omitempty"`
	CustomData                  string                `json:"customData,omitempty"`
	Secrets                     []VaultSecretGroup    `json:"secrets,omitempty"`
	WindowsConfiguration        *WindowsConfiguration `json:"windowsConfiguration,omitempty"`
	LinuxConfiguration          *LinuxConfiguration   `json:"linuxConfiguration,omitempty"`
	AllowExtensionOperations    *FlexBool             `json:"allowExtensionOperations,omitempty"`
	RequireGuestProvisionSignal *FlexBool             `json:"requireGuestProvisionSignal,omitempty"`
}

// VaultSecretGroup is a set of certificates from one key vault.
type VaultSecretGroup struct {
	SourceVault       *SubResource       `json:"sourceVault,omitempty"`
	VaultCertificates []VaultCertificate `json:"vaultCertificates,omitempty"`
}

// VaultCertificate is one certificate of a key vault.
type VaultCertificate struct {
	CertificateURL   string `json:"certificateUrl,omitempty"`
	CertificateStore string `json:"certificateStore,omitempty"`
}

// WindowsConfiguration are a Windows VM's settings.
type WindowsConfiguration struct {
	ProvisionVMAgent          *FlexBool                   `json:"provisionVMAgent,omitempty"`
	EnableAutomaticUpdates    *FlexBool                   `json:"enableAutomaticUpdates,omitempty"`
	TimeZone                  string                      `json:"timeZone,omitempty"`
	WinRM                     *WinRMConfiguration         `json:"winRM,omitempty"`
	AdditionalUnattendContent []AdditionalUnattendContent `json:"additionalUnattendContent,omitempty"`
}

// WinRMConfiguration lists a Windows VM's WinRM listeners.
type WinRMConfiguration struct {
	Listeners []WinRMListener `json:"listeners,omitempty"`
}

// WinRMListener is one WinRM listener.
type WinRMListener struct {
	Protocol       string `json:"protocol,omitempty"`
	CertificateURL string `json:"certificateUrl,omitempty"`
}

// AdditionalUnattendContent is extra unattend.xml content. The page's
// "pass" and "component" spellings are accepted for passName and
// componentName.
type AdditionalUnattendContent struct {
	PassName      string `json:"passName,omitempty"`
	ComponentName string `json:"componentName,omitempty"`
	SettingName   string `json:"settingName,omitempty"`
	Content       string `json:"content,omitempty"`
	Pass          string `json:"pass,omitempty"`
	Component     string `json:"component,omitempty"`
}

// LinuxConfiguration are a Linux VM's settings.
type LinuxConfiguration struct {
	DisablePasswordAuthentication *FlexBool         `json:"disablePasswordAuthentication,omitempty"`
	ProvisionVMAgent              *FlexBool         `json:"provisionVMAgent,omitempty"`
	SSH                           *SSHConfiguration `json:"ssh,omitempty"`
}

// SSHConfiguration lists a Linux VM's SSH keys.
type SSHConfiguration struct {
	PublicKeys []SSHPublicKey `json:"publicKeys,omitempty"`
}

// SSHPublicKey is one SSH public key and where it goes.
type SSHPublicKey struct {
	Path    string `json:"path,omitempty"`
	KeyData string `json:"keyData,omitempty"`
}

// DiagnosticsProfile is a VM's boot diagnostics setting.
type DiagnosticsProfile struct {
	BootDiagnostics *BootDiagnostics `json:"bootDiagnostics,omitempty"`
}

// BootDiagnostics says whether boot diagnostics are on, and where they go.
type BootDiagnostics struct {
	Enabled    *FlexBool `json:"enabled,omitempty"`
	StorageURI string    `json:"storageUri,omitempty"`
}

// VMStorageProfile is a VM's disks.
type VMStorageProfile struct {
	OSDisk    *VMDisk  `json:"osDisk,omitempty"`
	DataDisks []VMDisk `json:"dataDisks,omitempty"`
}

// VMDisk is an OS or data disk of a VM. cairn reads a disk's bytes from
// the image that vhd.uri names (file:///path or an absolute path).
type VMDisk struct {
	Lun          *FlexInt32   `json:"lun,omitempty"`
	OSType       string       `json:"osType,omitempty"`
	Name         string       `json:"name,omitempty"`
	Vhd          *VHD         `json:"vhd,omitempty"`
	Caching      string       `json:"caching,omitempty"`
	CreateOption string       `json:"createOption,omitempty"`
	DiskSizeGB   *FlexInt32   `json:"diskSizeGB,omitempty"`
	ManagedDisk  *ManagedDisk `json:"managedDisk,omitempty"`
}

// VHD names a disk image.
type VHD struct {
	URI string `json:"uri,omitempty"`
}

// ManagedDisk refers to a managed disk by id.
type ManagedDisk struct {
	ID                 string `json:"id,omitempty"`
	StorageAccountType string `json:"storageAccountType,omitempty"`
}

// ---- restore point collections ----

// RestorePointCollection is Microsoft.Compute/restorePointCollections.
type RestorePointCollection struct {
	ID         string                `json:"id,omitempty"`
	Name       string                `json:"name,omitempty"`
	Type       string                `json:"type,omitempty"`
	Location   string                `json:"location,omitempty"`
	Tags       map[string]string     `json:"tags,omitempty"`
	Properties *CollectionProperties `json:"properties,omitempty"`
}

// CollectionProperties are a restore point collection's properties.
type CollectionProperties struct {
	Source                   *CollectionSource `json:"source,omitempty"`
	ProvisioningState        string            `json:"provisioningState,omitempty"`
	RestorePointCollectionID string            `json:"restorePointCollectionId,omitempty"`
	RestorePoints            []RestorePoint    `json:"restorePoints,omitempty"`
}

// CollectionSource is what a collection holds points of: a VM (a local
// collection) or another collection (a cross-region copy target).
type CollectionSource struct {
	ID       string `json:"id,omitempty"`
	Location string `json:"location,omitempty"`
}

// CollectionList is a page of collections.
type CollectionList struct {
	Value    []RestorePointCollection `json:"value"`
	NextLink string                   `json:"nextLink,omitempty"`
}

// ---- restore points ----

// RestorePoint is Microsoft.Compute/restorePointCollections/restorePoints.
type RestorePoint struct {
	ID         string                  `json:"id,omitempty"`
	Name       string                  `json:"name,omitempty"`
	Type       string                  `json:"type,omitempty"`
	Properties *RestorePointProperties `json:"properties,omitempty"`
}

// RestorePointProperties are a restore point's properties.
type RestorePointProperties struct {
	ExcludeDisks                 []SubResource             `json:"excludeDisks,omitempty"`
	SourceMetadata               *SourceMetadata           `json:"sourceMetadata,omitempty"`
	ProvisioningState            string                    `json:"provisioningState,omitempty"`
	ConsistencyMode              string                    `json:"consistencyMode,omitempty"`
	TimeCreated                  *Time                     `json:"timeCreated,omitempty"`
	SourceRestorePoint           *SubResource              `json:"sourceRestorePoint,omitempty"`
	ProvisioningDetails          *ProvisioningDetails      `json:"provisioningDetails,omitempty"`
	InstanceView                 *RestorePointInstanceView `json:"instanceView,omitempty"`
	InstantAccessDurationMinutes *FlexInt32                `json:"instantAccessDurationMinutes,omitempty"`
}

// ProvisioningDetails is the page's provisioningDetails: when the point
// was created.
type ProvisioningDetails struct {
	CreationTime *Time `json:"creationTime,omitempty"`
}

// SourceMetadata is the VM as it was when the restore point was made.
type SourceMetadata struct {
	VMID               string              `json:"vmId,omitempty"`
	Location           string              `json:"location,omitempty"`
	HardwareProfile    *HardwareProfile    `json:"hardwareProfile,omitempty"`
	OSProfile          *OSProfile          `json:"osProfile,omitempty"`
	StorageProfile     *RPStorageProfile   `json:"storageProfile,omitempty"`
	DiagnosticsProfile *DiagnosticsProfile `json:"diagnosticsProfile,omitempty"`
}

// RPStorageProfile is the disks of the VM at a restore point.
type RPStorageProfile struct {
	OSDisk    *RPDisk  `json:"osDisk,omitempty"`
	DataDisks []RPDisk `json:"dataDisks,omitempty"`
}

// RPDisk is one disk of the VM at a restore point, and its disk restore
// point.
type RPDisk struct {
	Lun              *FlexInt32           `json:"lun,omitempty"`
	OSType           string               `json:"osType,omitempty"`
	Name             string               `json:"name,omitempty"`
	Caching          string               `json:"caching,omitempty"`
	DiskSizeGB       *FlexInt32           `json:"diskSizeGB,omitempty"`
	ManagedDisk      *ManagedDisk         `json:"managedDisk,omitempty"`
	DiskRestorePoint *DiskRestorePointRef `json:"diskRestorePoint,omitempty"`
}

// DiskRestorePointRef refers to a disk restore point, and for a copy to
// the one it copies.
type DiskRestorePointRef struct {
	ID                     string       `json:"id,omitempty"`
	SourceDiskRestorePoint *SubResource `json:"sourceDiskRestorePoint,omitempty"`
}

// RestorePointInstanceView is what GET ...?$expand=instanceView adds.
type RestorePointInstanceView struct {
	DiskRestorePoints []DiskRestorePointInstanceView `json:"diskRestorePoints"`
	Statuses          []InstanceViewStatus           `json:"statuses"`
}

// DiskRestorePointInstanceView is one disk's replication status.
type DiskRestorePointInstanceView struct {
	ID                string             `json:"id"`
	ReplicationStatus *ReplicationStatus `json:"replicationStatus,omitempty"`
}

// ReplicationStatus is a disk's replication state and how far it has
// come, 0 to 100.
type ReplicationStatus struct {
	Status            *InstanceViewStatus `json:"status,omitempty"`
	CompletionPercent FlexInt32           `json:"completionPercent"`
}

// InstanceViewStatus is one status line: a code such as
// "ProvisioningState/succeeded", a level (Info, Warning, Error), and text.
type InstanceViewStatus struct {
	Code          string `json:"code"`
	Level         string `json:"level"`
	DisplayStatus string `json:"displayStatus"`
	Message       string `json:"message,omitempty"`
	Time          *Time  `json:"time,omitempty"`
}

// RestorePointList is a page of restore points.
type RestorePointList struct {
	Value    []RestorePoint `json:"value"`
	NextLink string         `json:"nextLink,omitempty"`
}

// ---- disk restore points and disks ----

// DiskRestorePoint is
// Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints.
type DiskRestorePoint struct {
	ID         string                      `json:"id,omitempty"`
	Name       string                      `json:"name,omitempty"`
	Type       string                      `json:"type,omitempty"`
	Properties *DiskRestorePointProperties `json:"properties,omitempty"`
}

// DiskRestorePointProperties are a disk restore point's properties.
type DiskRestorePointProperties struct {
	TimeCreated            *Time    `json:"timeCreated,omitempty"`
	SourceResourceID       string   `json:"sourceResourceId,omitempty"`
	SourceResourceLocation string   `json:"sourceResourceLocation,omitempty"`
	SourceUniqueID         string   `json:"sourceUniqueId,omitempty"`
	OSType                 string   `json:"osType,omitempty"`
	FamilyID               string   `json:"familyId,omitempty"`
	DiskSizeGB             *int32   `json:"diskSizeGB,omitempty"`
	DiskSizeBytes          *int64   `json:"diskSizeBytes,omitempty"`
	ReplicationState       string   `json:"replicationState,omitempty"`
	CompletionPercent      *float32 `json:"completionPercent,omitempty"`
}

// DiskRestorePointList is the disk restore points of a restore point.
type DiskRestorePointList struct {
	Value    []DiskRestorePoint `json:"value"`
	NextLink string             `json:"nextLink,omitempty"`
}

// GrantAccessData is the body of beginGetAccess.
type GrantAccessData struct {
	Access            string     `json:"access"`
	DurationInSeconds *FlexInt32 `json:"durationInSeconds"`
	FileFormat        string     `json:"fileFormat,omitempty"`
}

// AccessURI is the result of beginGetAccess: the signed URL of the disk's
// bytes.
type AccessURI struct {
	AccessSAS string `json:"accessSAS"`
}

// Disk is Microsoft.Compute/disks: in cairn, a disk image written from a
// disk restore point.
type Disk struct {
	ID         string            `json:"id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Type       string            `json:"type,omitempty"`
	Location   string            `json:"location,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	SKU        *DiskSKU          `json:"sku,omitempty"`
	Zones      []string          `json:"zones,omitempty"`
	Properties *DiskProperties   `json:"properties,omitempty"`
}

// DiskSKU is a disk's storage type.
type DiskSKU struct {
	Name string `json:"name,omitempty"`
	Tier string `json:"tier,omitempty"`
}

// DiskProperties are a disk's properties.
type DiskProperties struct {
	CreationData      *CreationData `json:"creationData,omitempty"`
	DiskSizeGB        *FlexInt32    `json:"diskSizeGB,omitempty"`
	DiskSizeBytes     *int64        `json:"diskSizeBytes,omitempty"`
	OSType            string        `json:"osType,omitempty"`
	ProvisioningState string        `json:"provisioningState,omitempty"`
	DiskState         string        `json:"diskState,omitempty"`
	TimeCreated       *Time         `json:"timeCreated,omitempty"`
	UniqueID          string        `json:"uniqueId,omitempty"`
}

// CreationData says where a disk's bytes come from.
type CreationData struct {
	CreateOption     string `json:"createOption"`
	SourceResourceID string `json:"sourceResourceId,omitempty"`
	SourceURI        string `json:"sourceUri,omitempty"`
}

// DiskList is a page of disks.
type DiskList struct {
	Value    []Disk `json:"value"`
	NextLink string `json:"nextLink,omitempty"`
}

// VMList is a page of virtual machines.
type VMList struct {
	Value    []VirtualMachine `json:"value"`
	NextLink string           `json:"nextLink,omitempty"`
}

// ---- operations ----

// OperationStatus is the body of an Azure-AsyncOperation URL.
type OperationStatus struct {
	Name       string               `json:"name"`
	Status     string               `json:"status"`
	StartTime  *Time                `json:"startTime,omitempty"`
	EndTime    *Time                `json:"endTime,omitempty"`
	Error      *ErrorDetail         `json:"error,omitempty"`
	Properties *OperationProperties `json:"properties,omitempty"`
}

// OperationProperties carry an operation's output, for operations that
// have one (beginGetAccess: the accessSAS).
type OperationProperties struct {
	Output any `json:"output,omitempty"`
}

// Operation statuses, as ARM spells them.
const (
	StatusInProgress = "InProgress"
	StatusSucceeded  = "Succeeded"
	StatusFailed     = "Failed"
	StatusCanceled   = "Canceled"
)

// Provisioning states, as ARM spells them.
const (
	StateCreating  = "Creating"
	StateSucceeded = "Succeeded"
	StateFailed    = "Failed"
	StateDeleting  = "Deleting"
	StateUpdating  = "Updating"
)
