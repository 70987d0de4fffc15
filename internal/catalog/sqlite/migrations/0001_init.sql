-- The first catalog schema. Times are microseconds since the Unix epoch,
-- UTC; NULL means not set. JSON values are TEXT; NULL means empty.

CREATE TABLE projects (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE,
	attrs   TEXT,
	created INTEGER NOT NULL
);
CREATE INDEX projects_list ON projects (created, id);

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	admin      INTEGER NOT NULL DEFAULT 0,
	created    INTEGER NOT NULL,
	expires    INTEGER,
	UNIQUE (project_id, name)
);
CREATE INDEX tokens_list ON tokens (created, id);

CREATE TABLE regions (
	name    TEXT PRIMARY KEY,
	storage TEXT NOT NULL,
	attrs   TEXT,
	created INTEGER NOT NULL
);

CREATE TABLE resources (
	id             TEXT PRIMARY KEY,
	project_id     TEXT NOT NULL REFERENCES projects (id),
	resource_group TEXT NOT NULL DEFAULT '',
	name           TEXT NOT NULL,
	kind           TEXT NOT NULL,
	region         TEXT NOT NULL REFERENCES regions (name),
	profile        TEXT,
	disks          TEXT,
	tags           TEXT,
	attrs          TEXT,
	created        INTEGER NOT NULL,
	UNIQUE (project_id, resource_group, kind, name)
);
CREATE INDEX resources_list ON resources (project_id, created, id);
CREATE INDEX resources_region ON resources (region);

CREATE TABLE vaults (
	id                 TEXT PRIMARY KEY,
	project_id         TEXT NOT NULL REFERENCES projects (id),
	resource_group     TEXT NOT NULL DEFAULT '',
	name               TEXT NOT NULL,
	region             TEXT NOT NULL REFERENCES regions (name),
	source_resource_id TEXT NOT NULL DEFAULT '',
	source_vault_id    TEXT NOT NULL DEFAULT '',
	tags               TEXT,
	attrs              TEXT,
	created            INTEGER NOT NULL,
	UNIQUE (project_id, resource_group, name)
);
CREATE INDEX vaults_list ON vaults (project_id, created, id);
CREATE INDEX vaults_region ON vaults (region);
CREATE INDEX vaults_source_resource ON vaults (source_resource_id);

CREATE TABLE restore_points (
	id               TEXT PRIMARY KEY,
	vault_id         TEXT NOT NULL REFERENCES vaults (id),
	project_id       TEXT NOT NULL REFERENCES projects (id),
	name             TEXT NOT NULL,
	resource_id      TEXT NOT NULL DEFAULT '',
	vault_point_id   TEXT NOT NULL DEFAULT '',
	consistency_mode TEXT NOT NULL DEFAULT '',
	state            TEXT NOT NULL,
	source_point_id  TEXT NOT NULL DEFAULT '',
	excluded_disks   TEXT,
	metadata         TEXT,
	failure_reason   TEXT NOT NULL DEFAULT '',
	attrs            TEXT,
	created          INTEGER NOT NULL,
	UNIQUE (vault_id, name)
);
CREATE INDEX restore_points_vault ON restore_points (vault_id, created, id);
CREATE INDEX restore_points_project ON restore_points (project_id, created, id);
CREATE INDEX restore_points_resource ON restore_points (resource_id);
CREATE INDEX restore_points_vault_point ON restore_points (vault_point_id);
CREATE INDEX restore_points_source ON restore_points (source_point_id);

CREATE TABLE disk_restore_points (
	id                TEXT PRIMARY KEY,
	restore_point_id  TEXT NOT NULL REFERENCES restore_points (id) ON DELETE CASCADE,
	project_id        TEXT NOT NULL REFERENCES projects (id),
	disk_name         TEXT NOT NULL,
	size              INTEGER NOT NULL DEFAULT 0,
	replication_state TEXT NOT NULL DEFAULT '',
	bytes_done        INTEGER NOT NULL DEFAULT 0,
	bytes_total       INTEGER NOT NULL DEFAULT 0,
	attrs             TEXT,
	created           INTEGER NOT NULL,
	UNIQUE (restore_point_id, disk_name)
);
CREATE INDEX disk_restore_points_list ON disk_restore_points (restore_point_id, created, id);
CREATE INDEX disk_restore_points_project ON disk_restore_points (project_id, created, id);

CREATE TABLE operations (
	id               TEXT PRIMARY KEY,
	project_id       TEXT REFERENCES projects (id) ON DELETE CASCADE,
	kind             TEXT NOT NULL,
	target_id        TEXT NOT NULL DEFAULT '',
	resource_id      TEXT NOT NULL DEFAULT '',
	state            TEXT NOT NULL,
	cancel_requested INTEGER NOT NULL DEFAULT 0,
	progress         TEXT,
	error_code       TEXT NOT NULL DEFAULT '',
	error_message    TEXT NOT NULL DEFAULT '',
	params           TEXT,
	result           TEXT,
	attempt          INTEGER NOT NULL DEFAULT 0,
	lease_owner      TEXT NOT NULL DEFAULT '',
	lease_until      INTEGER,
	created          INTEGER NOT NULL,
	started          INTEGER,
	ended            INTEGER
);
-- At most one active operation per resource, enforced by the database.
CREATE UNIQUE INDEX operations_one_active ON operations (resource_id)
	WHERE resource_id <> '' AND state IN ('queued', 'running');
CREATE INDEX operations_claim ON operations (created, id) WHERE state IN ('queued', 'running');
CREATE INDEX operations_list ON operations (project_id, created, id);
CREATE INDEX operations_target ON operations (target_id);
