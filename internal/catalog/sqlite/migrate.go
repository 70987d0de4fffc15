package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// The schema's migrations: migrations/NNNN_name.sql, numbered from 1
// without gaps. A released migration is never edited; a change to the
// schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one step of the schema.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations in dir of fsys, in order, and checks
// that they are numbered 1, 2, 3, ...
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("catalog migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("catalog migration %s: name must be NNNN_what.sql", name)
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("catalog migration %s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(data)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("catalog migration %s: expected version %d", m.name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("catalog migrations: none found")
	}
	return ms, nil
}

// migrate brings the database up to the newest of ms in one transaction:
// either every pending migration is applied and recorded, or none is. It
// refuses a database whose schema is newer than ms know, with an error of
// kind cairn.Unsupported. It returns the schema version.
func migrate(ctx context.Context, db *sql.DB, ms []migration, now time.Time) (int, error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: concurrent openers take turns
	if err != nil {
		return 0, dbErr("migrate: begin", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT NOT NULL,
		applied INTEGER NOT NULL
	)`); err != nil {
		return 0, dbErr("migrate: create schema_migrations", err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return 0, dbErr("migrate: read schema version", err)
	}
	latest := ms[len(ms)-1].version
	if cur > latest {
		return cur, cairn.E(cairn.Unsupported, fmt.Errorf("catalog schema version %d is newer than this cairn knows (version %d): upgrade cairn", cur, latest))
	}
	for _, m := range ms[cur:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return cur, dbErr("migrate: apply "+m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
			m.version, m.name, now.UnixMicro()); err != nil {
			return cur, dbErr("migrate: record "+m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return cur, dbErr("migrate: commit", err)
	}
	return latest, nil
}
