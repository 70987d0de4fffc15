package arm

import (
	"fmt"
	"strings"
)

// Provider is the resource provider namespace the dialect serves.
const Provider = "Microsoft.Compute"

// Resource type segments, in the case Azure writes them. Parsing accepts
// any case; formatting always writes these.
const (
	TypeVirtualMachines         = "virtualMachines"
	TypeRestorePointCollections = "restorePointCollections"
	TypeRestorePoints           = "restorePoints"
	TypeDiskRestorePoints       = "diskRestorePoints"
	TypeDisks                   = "disks"
	TypeLocations               = "locations"
	TypeOperations              = "operations"
)

// Full resource types, as the "type" field of a resource reports them.
const (
	ResourceTypeVM               = Provider + "/" + TypeVirtualMachines
	ResourceTypeCollection       = Provider + "/" + TypeRestorePointCollections
	ResourceTypeRestorePoint     = ResourceTypeCollection + "/" + TypeRestorePoints
	ResourceTypeDiskRestorePoint = ResourceTypeRestorePoint + "/" + TypeDiskRestorePoints
	ResourceTypeDisk             = Provider + "/" + TypeDisks
)

// Keywords of an ARM path, in canonical case.
const (
	kwSubscriptions  = "subscriptions"
	kwResourceGroups = "resourceGroups"
	kwProviders      = "providers"
)

// nestedTypes lists, for each resource type (by its path of type
// segments), the child types it may have.
var nestedTypes = map[string][]string{
	"":                          {TypeVirtualMachines, TypeRestorePointCollections, TypeDisks},
	TypeRestorePointCollections: {TypeRestorePoints},
	TypeRestorePointCollections + "/" + TypeRestorePoints: {TypeDiskRestorePoints},
}

// ID is a parsed ARM resource id of a Microsoft.Compute resource in a
// resource group:
//
//	/subscriptions/{Subscription}/resourceGroups/{ResourceGroup}/providers/Microsoft.Compute/{Types[0]}/{Names[0]}[/{Types[1]}/{Names[1]}...]
//
// Types hold the canonical spelling of each type segment; names keep the
// caller's spelling. The zero ID is not valid.
type ID struct {
	Subscription  string
	ResourceGroup string
	Types         []string
	Names         []string
}

// String formats the id in canonical case.
func (id ID) String() string {
	var b strings.Builder
	b.WriteString("/" + kwSubscriptions + "/" + id.Subscription + "/" + kwResourceGroups + "/" + id.ResourceGroup + "/" + kwProviders + "/" + Provider)
	for i := range id.Types {
		b.WriteString("/" + id.Types[i] + "/" + id.Names[i])
	}
	return b.String()
}

// Kind returns the id's type segments joined by "/", e.g.
// "restorePointCollections/restorePoints".
func (id ID) Kind() string { return strings.Join(id.Types, "/") }

// Name returns the last name of the id: the resource's own name.
func (id ID) Name() string {
	if len(id.Names) == 0 {
		return ""
	}
	return id.Names[len(id.Names)-1]
}

// ResourceType returns the full resource type, e.g.
// "Microsoft.Compute/restorePointCollections/restorePoints".
func (id ID) ResourceType() string { return Provider + "/" + id.Kind() }

// Parent returns the id of the resource that holds this one. It returns
// the id itself for a top-level resource.
func (id ID) Parent() ID {
	if len(id.Types) <= 1 {
		return id
	}
	return ID{Subscription: id.Subscription, ResourceGroup: id.ResourceGroup, Types: id.Types[:len(id.Types)-1], Names: id.Names[:len(id.Names)-1]}
}

// Child returns the id of a child resource of id.
func (id ID) Child(typ, name string) ID {
	return ID{
		Subscription:  id.Subscription,
		ResourceGroup: id.ResourceGroup,
		Types:         append(append([]string(nil), id.Types...), typ),
		Names:         append(append([]string(nil), id.Names...), name),
	}
}

// Ids of each kind of resource the dialect serves.

// VMID returns the id of a virtual machine.
func VMID(sub, rg, name string) ID { return top(sub, rg, TypeVirtualMachines, name) }

// CollectionID returns the id of a restore point collection.
func CollectionID(sub, rg, name string) ID { return top(sub, rg, TypeRestorePointCollections, name) }

// RestorePointID returns the id of a restore point.
func RestorePointID(sub, rg, collection, name string) ID {
	return CollectionID(sub, rg, collection).Child(TypeRestorePoints, name)
}

// DiskRestorePointID returns the id of a disk restore point.
func DiskRestorePointID(sub, rg, collection, point, name string) ID {
	return RestorePointID(sub, rg, collection, point).Child(TypeDiskRestorePoints, name)
}

// DiskID returns the id of a managed disk.
func DiskID(sub, rg, name string) ID { return top(sub, rg, TypeDisks, name) }

func top(sub, rg, typ, name string) ID {
	return ID{Subscription: sub, ResourceGroup: rg, Types: []string{typ}, Names: []string{name}}
}

// ParseID parses an ARM resource id of a Microsoft.Compute resource in a
// resource group. Keywords, the provider namespace and type segments match
// in any case, as ARM matches them. It also accepts the spelling of the
// Azure page's diskRestorePoint ids, which leave out
// "providers/Microsoft.Compute". Names are checked against the rules of
// their type (see ValidateName).
func ParseID(s string) (ID, error) {
	var id ID
	if s == "" {
		return id, fmt.Errorf("resource id is empty")
	}
	if !strings.HasPrefix(s, "/") {
		return id, fmt.Errorf("resource id %q: must start with '/subscriptions/'", s)
	}
	segs := strings.Split(strings.TrimSuffix(s[1:], "/"), "/")
	bad := func(format string, args ...any) (ID, error) {
		return ID{}, fmt.Errorf("resource id %q: %s", s, fmt.Sprintf(format, args...))
	}
	if len(segs) < 4 || !strings.EqualFold(segs[0], kwSubscriptions) || !strings.EqualFold(segs[2], kwResourceGroups) {
		return bad("must have the form /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/%s/{type}/{name}", Provider)
	}
	id.Subscription, id.ResourceGroup = segs[1], segs[3]
	if err := ValidateSubscription(id.Subscription); err != nil {
		return bad("%v", err)
	}
	if err := ValidateResourceGroup(id.ResourceGroup); err != nil {
		return bad("%v", err)
	}
	rest := segs[4:]
	if len(rest) >= 2 && strings.EqualFold(rest[0], kwProviders) {
		if !strings.EqualFold(rest[1], Provider) {
			return bad("provider %q is not served here; only %s is", rest[1], Provider)
		}
		rest = rest[2:]
	} else if len(rest) == 0 || !strings.EqualFold(rest[0], TypeRestorePointCollections) {
		return bad("missing 'providers/%s'", Provider)
	}
	if len(rest) == 0 || len(rest)%2 != 0 {
		return bad("must end with a resource type and a name")
	}
	parent := ""
	for i := 0; i < len(rest); i += 2 {
		typ := canonicalType(nestedTypes[parent], rest[i])
		if typ == "" {
			if parent == "" {
				return bad("resource type %q is not served here", rest[i])
			}
			return bad("resource type %q cannot be nested in %s", rest[i], parent)
		}
		if err := ValidateName(typ, rest[i+1]); err != nil {
			return bad("%v", err)
		}
		id.Types = append(id.Types, typ)
		id.Names = append(id.Names, rest[i+1])
		if parent == "" {
			parent = typ
		} else {
			parent += "/" + typ
		}
	}
	return id, nil
}

func canonicalType(allowed []string, seg string) string {
	for _, t := range allowed {
		if strings.EqualFold(t, seg) {
			return t
		}
	}
	return ""
}

// ParseIDOf parses s as an id of the given kind (the type segments joined
// by "/", e.g. "restorePointCollections/restorePoints").
func ParseIDOf(kind, s string) (ID, error) {
	id, err := ParseID(s)
	if err != nil {
		return ID{}, err
	}
	if id.Kind() != kind {
		return ID{}, fmt.Errorf("resource id %q: is a %s id, want a %s id", s, id.ResourceType(), Provider+"/"+kind)
	}
	return id, nil
}

// Kinds of id, for ParseIDOf.
const (
	KindVM               = TypeVirtualMachines
	KindCollection       = TypeRestorePointCollections
	KindRestorePoint     = TypeRestorePointCollections + "/" + TypeRestorePoints
	KindDiskRestorePoint = KindRestorePoint + "/" + TypeDiskRestorePoints
	KindDisk             = TypeDisks
)

// SameResource reports whether a and b name the same resource. ARM ids
// compare case-insensitively.
func SameResource(a, b ID) bool { return strings.EqualFold(a.String(), b.String()) }
