-- Records: small documents of the layers above the catalog (CBR
-- checkpoints and policies, AK/SK credentials, vault bindings, regional
-- project ids), one collection per kind. Data is JSON TEXT.

CREATE TABLE records (
	kind       TEXT NOT NULL,
	id         TEXT NOT NULL,
	project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	parent_id  TEXT NOT NULL DEFAULT '',
	key        TEXT NOT NULL DEFAULT '',
	data       TEXT,
	created    INTEGER NOT NULL,
	updated    INTEGER NOT NULL,
	PRIMARY KEY (kind, id)
);
-- A non-empty key is unique within its kind.
CREATE UNIQUE INDEX records_key ON records (kind, key) WHERE key <> '';
CREATE INDEX records_list ON records (kind, created, id);
CREATE INDEX records_project ON records (kind, project_id, created, id);
CREATE INDEX records_parent ON records (kind, parent_id, created, id);
