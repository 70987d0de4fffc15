package cbr

import (
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// idNamespace is the namespace of the UUIDs cairn shows CBR clients for
// records whose own ids are not UUIDs (VMs, whose ids are ARM resource
// ids; the disks of a VM; vaults made through ARM).
var idNamespace = uuid.MustParse("3c0ad5f2-6f4e-5b8e-9a3e-2c1a7c6b9e10")

// uuidRE matches a UUID in its canonical text form, either case.
var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// isUUID reports whether s is a UUID.
func isUUID(s string) bool { return uuidRE.MatchString(s) }

// publicID returns the id a CBR client sees for a native id: the id
// itself when it is a UUID, else a name-based UUID (version 5) of it,
// stable across restarts and servers.
func publicID(native string) string {
	if isUUID(native) {
		return strings.ToLower(native)
	}
	return uuid.NewSHA1(idNamespace, []byte(native)).String()
}

// volumeID returns the id a CBR client sees for a disk of a VM.
func volumeID(vmID, disk string) string {
	return uuid.NewSHA1(idNamespace, []byte(vmID+"/disks/"+disk)).String()
}

// matchesID reports whether a client's id names the native id: its
// public id, or the native id itself.
func matchesID(given, native string) bool {
	return strings.EqualFold(given, publicID(native)) || given == native
}
