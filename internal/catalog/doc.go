// Package catalog is cairn's metadata store: projects and their tokens,
// regions, resources (VMs and their disks), vaults, restore points, disk
// restore points and operations (persisted jobs).
//
// The model is native: each API dialect (ARM, CBR, ZStack) maps its own
// names onto these types, and keeps the few fields that only it needs in a
// record's Tags or Attrs. The vault storage is the source of truth for
// restore point data; the catalog mirrors it and [Rebuild] restores the
// mirror from the vaults' contents.
//
// # Implementations
//
// [Catalog] is implemented by package sqlite (embedded, one machine) and, in
// time, by a PostgreSQL package for several server nodes. Both must pass the
// conformance suite in package catalogtest, which states the contract in
// code. Rules every implementation keeps:
//
//   - Errors carry cairn kinds: a missing record is cairn.NotExist, a name
//     taken in its scope is cairn.Exist, a bad field is cairn.Invalid, a
//     busy resource or a lost lease is cairn.Conflict, a wrong or expired
//     token secret is cairn.Permission.
//   - Times are stored in UTC with microsecond precision; a zero time means
//     "not set".
//   - JSON fields (Attrs, Profile, Metadata, Params, Result) round-trip as
//     equal JSON values, not necessarily byte for byte; an empty field reads
//     back as nil.
//   - An empty map or slice reads back as nil.
//   - Lists are ordered by creation time, then id (regions by name), and
//     paged with an opaque token; paging is stable while records are added
//     or changed.
//
// # Isolation
//
// Every record below a project carries its ProjectID, and every list can be
// filtered by it. The catalog does not check tokens against records: the
// service layer gets a token's project from [Catalog.Authenticate] and
// passes it in every filter and checks it on every record it reads, so that
// a token never reaches another project's records.
package catalog
