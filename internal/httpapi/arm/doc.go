// Package arm is cairn's Azure Resource Manager dialect: the
// Microsoft.Compute restore point API of the Azure pages in shared/seeds
// (000, 001), with Azure's routes, JSON shapes, status codes and headers,
// so that scripts written for Azure and the official Azure SDK for Go
// (armcompute) work against cairn unchanged. It only translates HTTP to
// calls of package service and back.
//
// # Routes
//
// Under /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute:
//
//	PUT|GET|DELETE  virtualMachines/{vm}             register a VM whose disks are images (vhd.uri = file:///path)
//	GET             virtualMachines                  (also per subscription)
//	PUT             restorePointCollections/{rpc}    201 create / 200 update (tags only); source = a VM or a collection in another region
//	PATCH|GET|DELETE restorePointCollections/{rpc}   GET takes $expand=restorePoints; DELETE is 202 + polling URLs
//	GET             restorePointCollections          (also per subscription), paged with nextLink
//	PUT             .../restorePoints/{rp}           make one from the VM, or copy one (sourceRestorePoint): 201 + Location + Azure-AsyncOperation
//	GET|DELETE      .../restorePoints/{rp}           GET takes $expand=instanceView
//	GET             .../restorePoints                cairn's own: Azure lists them through $expand=restorePoints
//	GET             .../restorePoints/{rp}/diskRestorePoints[/{drp}]
//	POST            .../diskRestorePoints/{drp}/beginGetAccess|endGetAccess   202 + polling URLs; result {"accessSAS": url}
//	PUT|GET|DELETE  disks/{disk}                     PUT with creationData {createOption: Restore, sourceResourceId: <disk restore point>}
//	GET             disks
//
// and /subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{id},
// the Azure-AsyncOperation URL ({"status": "InProgress|Succeeded|Failed|Canceled",
// "startTime", "endTime", "error"}); with monitor=true it is the Location
// URL: 202 while running, then 200 with the result or 204. Signed URLs of
// disk access grants are served under [SASPrefix], raw bytes with HTTP
// Range, streamed from the vault.
//
// Keywords, the provider namespace, type segments and $expand values match
// in any case; the pages' "{name}&api-version=" spelling is accepted as
// well as "?api-version=". A missing api-version is 400
// MissingApiVersionParameter; any well-formed version is served the same
// contract.
//
// # Where cairn differs from Azure, and why
//
//   - Subscriptions are cairn projects; a token reaches only its own. Any
//     other subscription is 403 AuthorizationFailed, which is what ARM
//     answers a principal without a role there, whether or not the
//     subscription exists, so project ids are not disclosed.
//   - VM disks are image files named by vhd.uri (file:// or an absolute
//     path); a VM disk's resource id, for excludeDisks and
//     sourceMetadata's managedDisk.id, is that of a managed disk of its
//     name in the VM's resource group. VM PUTs complete at once (200/201
//     with provisioningState Succeeded) instead of running as an
//     operation.
//   - The pages write diskSizeGB, lun, completionPercent and the
//     configuration booleans as strings; requests may do so, responses
//     carry JSON numbers and booleans, as Azure's do and the SDK needs.
//   - A copy's completionPercent is capped at 99 until the disk has
//     replicated (its bytes may all have moved before the copy is
//     verified and committed), so that 100 means usable.
//   - beginGetAccess and endGetAccess are done at once but answer 202 with
//     polling URLs, as Azure's do; the operation's id carries its result
//     (no state is kept) and the grant's signature rides in the URL's
//     query. Only Read access to raw bytes is served (no VHD).
//   - A PUT of an existing restore point is 409 OperationNotAllowed
//     ("updating properties of an existing restore point is not
//     allowed"); a PUT of an existing disk with the same source returns
//     it, with another source is 409.
//   - Names follow cairn's rules too (VM and disk names take no '.'), and
//     lookups are case-sensitive where ARM's are case-insensitive.
//   - Azure's throttles (3 restore points an hour per VM, a 1 h minimum
//     between points) are not applied; only one operation at a time runs
//     on a VM (409).
package arm
