// Package cbr is cairn's Huawei Cloud CBR v3 (Cloud Backup and Recovery)
// dialect: vaults, checkpoints, backups, restores, replication to another
// region, policies and operation logs under /v3/{project_id}/, with CBR's
// JSON shapes, states, status codes and error bodies, and API Gateway's
// authentication, so that programs written for CBR, and the official
// Huawei Cloud Go SDK (services/cbr/v1), work against cairn unchanged. It
// only translates HTTP to calls of package service and back.
//
// # Tenancy
//
// A cairn project is a tenant (Huawei's "domain", an ARM subscription). As
// in Huawei Cloud, a CBR project_id names one tenant in one region: each
// (project, region) has a regional project id of 32 hex digits, made on
// first use and stable (service.RegionalProject). The URL's project picks
// the tenant and the region: a vault made under it lives in that region,
// and lists show that region's objects only. `cairn credential create`
// prints a tenant's ids, GET /v3/region-projects lists them.
//
// # Authentication
//
// Requests are signed with an AK/SK (SDK-HMAC-SHA256 and X-Sdk-Date, as
// the SDK's BasicCredentials sign them; see package apig), or carry a
// cairn token in X-Auth-Token. One AK/SK serves all of its tenant's
// projects; a project of another tenant, or none, is 403 APIG.0302, and a
// signed X-Project-Id must be the URL's project. Bad signatures, dates more
// than 15 minutes off, replayed signatures, unknown AKs and tokens are 401
// APIG.0301. Failures of authentication are in API Gateway's shape
// {"error_code","error_msg","request_id"}; everything else in CBR's,
// {"error_code":"BackupService.XXXX","error_msg":"..."}. README.md lists
// every code.
//
// # Routes
//
// Under /v3/{project_id}:
//
//	POST|GET        vaults                          create (with bound VMs) | list (limit, offset, name, id, protect_type, policy_id, ...)
//	GET|PUT|DELETE  vaults/{vault_id}               show | update (name, size, consistent level, flags) | delete (its backups too)
//	POST            vaults/{vault_id}/addresources, removeresources, associatepolicy, dissociatepolicy
//	POST            checkpoints                     back up the vault's resources: one backup per resource
//	GET             checkpoints/{checkpoint_id}     protecting -> available | error
//	POST            checkpoints/replicate           replicate the vault's backups to a vault of another region's project
//	GET             backups, backups/{backup_id}    a server's backup with its disks as children, and its replication records
//	DELETE          backups/{backup_id}             204
//	POST            backups/{backup_id}/restore     202; to the VM's own disks (server_id, mappings) or to new images (details.destination_path)
//	POST|GET        policies; GET|PUT|DELETE policies/{policy_id}
//	GET             operation-logs, operation-logs/{operation_log_id}
//	GET             protectables/server/instances[/{instance_id}]   the region's VMs, with their CBR ids
//	POST|GET        replication-agreements; DELETE replication-agreements/{agreement_id}   (cairn's own)
//
// and GET /v3/region-projects, the caller's projects.
//
// # The model underneath
//
//   - A vault is a service vault (an ARM restorePointCollection) in
//     resource group "cbr" of its tenant, its CBR fields (name, billing,
//     description, flags) in its Attrs under "cbr"; its first bound VM is
//     its SourceResourceID, so that ARM shows it as the collection's
//     source. VMs are bound to it (service.BindResources), one vault per
//     VM. Vaults made through ARM appear as CBR vaults too.
//   - A checkpoint is a service.Checkpoint: one restore point per VM made
//     at once. A backup is one of those restore points, its disks (disk
//     restore points) its children.
//   - A replication makes, per backup, an ARM-style copy (a restore point
//     with a source point) in the destination vault; the replication
//     record is the copy operation, polled through ShowOpLog and the
//     backup's replication_records. enable_acceleration copies with
//     CopyConfig.AcceleratedWorkers parallel streams.
//   - Replication to another project needs its consent: an agreement its
//     owner records (POST replication-agreements under the destination
//     project, naming the source project). A tenant's own project in
//     another region is another project too.
//   - Operation logs are the service's operations of the region: backup,
//     replication (copy), restore, delete, vault_delete; waiting, running,
//     success, failed, skipped (canceled before it ran), timeout.
//   - Policies are service policies, run by the service's scheduler;
//     what they make is marked auto_trigger, and their retention rules
//     (package cbrpolicy) delete the oldest automatic backups.
//
// # Ids
//
// Ids of cairn records that are UUIDs are shown as they are. VMs (whose
// cairn ids are ARM resource ids), their disks and vaults made through ARM
// are shown under name-based UUIDs (ResourceID, VolumeID); requests take
// those or the cairn id. ListProtectable lists a region's VMs with theirs.
//
// # Where cairn differs from CBR, and why
//
//   - Only servers are protected (object_type server, OS::Nova::Server);
//     other types are 400 .6102 or .8010. Billing fields are kept and
//     shown but bill nothing; size is not enforced.
//   - Every backup reads the VM's disks and stores only chunks the region
//     does not hold: incremental:false is recorded, not different.
//   - Restoring "to new images" (details.destination_path) writes
//     <disk>.raw files into a directory of the server's machine; a restore
//     to the VM replaces its image files atomically (power_on is ignored).
//   - CBR's documentation gives every one of its codes status 400; cairn
//     answers 404 for a vault that does not exist (.6105) as for its own
//     not-found codes, and 403 for a missing consent.
//   - Automatic backups are crash-consistent; their names are
//     autobk_<UTC time>.
package cbr
