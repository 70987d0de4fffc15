package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// txn implements catalog.Tx over a transaction (writes) or the read pool
// (reads outside Update).
type txn struct {
	q   querier
	now func() time.Time
}

var _ catalog.Tx = (*txn)(nil)

// ---- value conversions

// micros returns t for a column: NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

// rawJSON returns m for a column: NULL when empty.
func rawJSON(m json.RawMessage) any {
	if m = catalog.NormJSON(m); m == nil {
		return nil
	}
	return string(m)
}

func fromRawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid || s.String == "" {
		return nil
	}
	return json.RawMessage(s.String)
}

// toJSON encodes a map or slice for a column: NULL when empty.
func toJSON[T any](v T, n int) (any, error) {
	if n == 0 {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, cairn.E(cairn.Invalid, err)
	}
	return string(b), nil
}

// fromJSON decodes a map or slice column into v.
func fromJSON(s sql.NullString, v any) error {
	if !s.Valid || s.String == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s.String), v); err != nil {
		return cairn.E(cairn.Corrupt, fmt.Errorf("catalog column: %w", err))
	}
	return nil
}

func tags(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// ---- shared queries

// exists reports whether query returns a row.
func (t *txn) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := t.q.QueryRowContext(ctx, "SELECT 1 "+query+" LIMIT 1", args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbErr("catalog query", err)
	}
	return true, nil
}

// mustExist fails with cairn.NotExist unless table has a row with key.
func (t *txn) mustExist(ctx context.Context, what, table, col, key string) error {
	ok, err := t.exists(ctx, "FROM "+table+" WHERE "+col+" = ?", key)
	if err != nil {
		return err
	}
	if !ok {
		return catalog.NotFound(what, key)
	}
	return nil
}

// exec runs a statement and classifies its error.
func (t *txn) exec(ctx context.Context, op, query string, args ...any) (sql.Result, error) {
	res, err := t.q.ExecContext(ctx, query, args...)
	return res, dbErr(op, err)
}

// deleteRow deletes the row of table with id, failing with NotExist when
// there is none.
func (t *txn) deleteRow(ctx context.Context, what, table, col, id string) error {
	res, err := t.exec(ctx, "delete "+what+" "+id, "DELETE FROM "+table+" WHERE "+col+" = ?", id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return dbErr("delete "+what, err)
	} else if n == 0 {
		return catalog.NotFound(what, id)
	}
	return nil
}

// getRow reads one record by key with scan, mapping no row to NotExist.
func getRow[T any](ctx context.Context, t *txn, what, cols, table, col, key string, scan func(scanner) (*T, error)) (*T, error) {
	v, err := scan(t.q.QueryRowContext(ctx, "SELECT "+cols+" FROM "+table+" WHERE "+col+" = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, catalog.NotFound(what, key)
	}
	if err != nil {
		return nil, dbErr("get "+what+" "+key, err)
	}
	return v, nil
}

// where builds the conditions of a list query.
type where struct {
	conds []string
	args  []any
}

// eq adds col = val when val is not empty.
func (w *where) eq(col, val string) {
	if val != "" {
		w.conds = append(w.conds, col+" = ?")
		w.args = append(w.args, val)
	}
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// list runs a paged list query over table. byName orders by the name
// column (regions); otherwise by created, then id. key returns a record's
// cursor.
func list[T any](ctx context.Context, t *txn, what, cols, table string, w where, page catalog.Page, byName bool,
	scan func(scanner) (*T, error), key func(*T) catalog.Cursor) ([]*T, string, error) {
	if page.Token != "" {
		c, err := catalog.DecodeCursor(page.Token)
		if err != nil {
			return nil, "", err
		}
		if byName {
			w.add("name > ?", c.Key)
		} else {
			m := c.Time.UnixMicro()
			if c.Time.IsZero() {
				m = 0
			}
			w.add("(created > ? OR (created = ? AND id > ?))", m, m, c.Key)
		}
	}
	q := "SELECT " + cols + " FROM " + table
	if len(w.conds) > 0 {
		q += " WHERE " + strings.Join(w.conds, " AND ")
	}
	if byName {
		q += " ORDER BY name"
	} else {
		q += " ORDER BY created, id"
	}
	limit := page.Limit()
	q += " LIMIT ?"
	rows, err := t.q.QueryContext(ctx, q, append(w.args, limit+1)...)
	if err != nil {
		return nil, "", dbErr("list "+what, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, "", dbErr("list "+what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, "", dbErr("list "+what, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = catalog.EncodeCursor(key(out[limit-1]))
	}
	return out, next, nil
}

// created returns the stored created time of the row with id in table,
// and whether there is one; extra columns are scanned into dest.
func (t *txn) existing(ctx context.Context, table, cols, id string, dest ...any) (bool, error) {
	err := t.q.QueryRowContext(ctx, "SELECT "+cols+" FROM "+table+" WHERE id = ?", id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbErr("read "+table, err)
	}
	return true, nil
}

// stamp sets the created time of a new record.
func (t *txn) stamp(created time.Time) time.Time {
	if created.IsZero() {
		return t.now()
	}
	return catalog.Timestamp(created)
}

// ---- projects

const projectCols = `id, name, attrs, created`

func scanProject(s scanner) (*catalog.Project, error) {
	var p catalog.Project
	var attrs sql.NullString
	var created sql.NullInt64
	if err := s.Scan(&p.ID, &p.Name, &attrs, &created); err != nil {
		return nil, err
	}
	p.Attrs, p.Created = fromRawJSON(attrs), fromMicros(created)
	return &p, nil
}

// GetProject returns a project by id.
func (t *txn) GetProject(ctx context.Context, id string) (*catalog.Project, error) {
	return getRow(ctx, t, "project", projectCols, "projects", "id", id, scanProject)
}

// PutProject creates or replaces a project.
func (t *txn) PutProject(ctx context.Context, p *catalog.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	rec := *p
	if rec.ID == "" {
		rec.ID = catalog.NewID()
	}
	var created sql.NullInt64
	found, err := t.existing(ctx, "projects", "created", rec.ID, &created)
	if err != nil {
		return err
	}
	if taken, err := t.exists(ctx, "FROM projects WHERE name = ? AND id <> ?", rec.Name, rec.ID); err != nil {
		return err
	} else if taken {
		return cairn.E(cairn.Exist, fmt.Errorf("project %q already exists", rec.Name))
	}
	rec.Attrs = catalog.NormJSON(rec.Attrs)
	if found {
		rec.Created = fromMicros(created)
		_, err = t.exec(ctx, "update project", `UPDATE projects SET name = ?, attrs = ? WHERE id = ?`, rec.Name, rawJSON(rec.Attrs), rec.ID)
	} else {
		rec.Created = t.stamp(rec.Created)
		_, err = t.exec(ctx, "create project", `INSERT INTO projects (`+projectCols+`) VALUES (?, ?, ?, ?)`,
			rec.ID, rec.Name, rawJSON(rec.Attrs), micros(rec.Created))
	}
	if err != nil {
		return err
	}
	*p = rec
	return nil
}

// ListProjects lists projects.
func (t *txn) ListProjects(ctx context.Context, f catalog.ProjectFilter, page catalog.Page) ([]*catalog.Project, string, error) {
	var w where
	w.eq("name", f.Name)
	return list(ctx, t, "projects", projectCols, "projects", w, page, false, scanProject,
		func(p *catalog.Project) catalog.Cursor { return catalog.Cursor{Time: p.Created, Key: p.ID} })
}

// DeleteProject deletes a project with its tokens and finished operations.
func (t *txn) DeleteProject(ctx context.Context, id string) error {
	if err := t.mustExist(ctx, "project", "projects", "id", id); err != nil {
		return err
	}
	for _, dep := range []struct{ what, query string }{
		{"resources", "FROM resources WHERE project_id = ?"},
		{"vaults", "FROM vaults WHERE project_id = ?"},
		{"active operations", "FROM operations WHERE project_id = ? AND state IN ('queued', 'running')"},
	} {
		if busy, err := t.exists(ctx, dep.query, id); err != nil {
			return err
		} else if busy {
			return cairn.E(cairn.Conflict, fmt.Errorf("project %s still has %s", id, dep.what))
		}
	}
	return t.deleteRow(ctx, "project", "projects", "id", id)
}

// ---- tokens

const tokenCols = `id, project_id, name, hash, admin, created, expires`

func scanToken(s scanner) (*catalog.Token, error) {
	var tk catalog.Token
	var created, expires sql.NullInt64
	if err := s.Scan(&tk.ID, &tk.ProjectID, &tk.Name, &tk.Hash, &tk.Admin, &created, &expires); err != nil {
		return nil, err
	}
	tk.Created, tk.Expires = fromMicros(created), fromMicros(expires)
	return &tk, nil
}

// CreateToken creates a token and returns its secret.
func (t *txn) CreateToken(ctx context.Context, tk *catalog.Token) (string, error) {
	if err := tk.Validate(); err != nil {
		return "", err
	}
	rec := *tk
	if rec.ID == "" {
		rec.ID = catalog.NewID()
	}
	if err := t.mustExist(ctx, "project", "projects", "id", rec.ProjectID); err != nil {
		return "", err
	}
	if taken, err := t.exists(ctx, "FROM tokens WHERE project_id = ? AND name = ?", rec.ProjectID, rec.Name); err != nil {
		return "", err
	} else if taken {
		return "", cairn.E(cairn.Exist, fmt.Errorf("project %s already has a token named %q", rec.ProjectID, rec.Name))
	}
	secret := catalog.NewSecret()
	rec.Hash = catalog.HashSecret(secret)
	rec.Created = t.stamp(rec.Created)
	rec.Expires = catalog.Timestamp(rec.Expires)
	if _, err := t.exec(ctx, "create token", `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		rec.ID, rec.ProjectID, rec.Name, rec.Hash, rec.Admin, micros(rec.Created), micros(rec.Expires)); err != nil {
		return "", err
	}
	*tk = rec
	return secret, nil
}

// GetToken returns a token by id.
func (t *txn) GetToken(ctx context.Context, id string) (*catalog.Token, error) {
	return getRow(ctx, t, "token", tokenCols, "tokens", "id", id, scanToken)
}

// ListTokens lists tokens.
func (t *txn) ListTokens(ctx context.Context, f catalog.TokenFilter, page catalog.Page) ([]*catalog.Token, string, error) {
	var w where
	w.eq("project_id", f.ProjectID)
	return list(ctx, t, "tokens", tokenCols, "tokens", w, page, false, scanToken,
		func(tk *catalog.Token) catalog.Cursor { return catalog.Cursor{Time: tk.Created, Key: tk.ID} })
}

// DeleteToken deletes a token.
func (t *txn) DeleteToken(ctx context.Context, id string) error {
	return t.deleteRow(ctx, "token", "tokens", "id", id)
}

// ---- regions

const regionCols = `name, storage, attrs, created`

func scanRegion(s scanner) (*catalog.Region, error) {
	var r catalog.Region
	var attrs sql.NullString
	var created sql.NullInt64
	if err := s.Scan(&r.Name, &r.Storage, &attrs, &created); err != nil {
		return nil, err
	}
	r.Attrs, r.Created = fromRawJSON(attrs), fromMicros(created)
	return &r, nil
}

// GetRegion returns a region by name.
func (t *txn) GetRegion(ctx context.Context, name string) (*catalog.Region, error) {
	return getRow(ctx, t, "region", regionCols, "regions", "name", name, scanRegion)
}

// PutRegion creates or replaces a region.
func (t *txn) PutRegion(ctx context.Context, r *catalog.Region) error {
	if err := r.Validate(); err != nil {
		return err
	}
	rec := *r
	rec.Attrs = catalog.NormJSON(rec.Attrs)
	var created sql.NullInt64
	err := t.q.QueryRowContext(ctx, `SELECT created FROM regions WHERE name = ?`, rec.Name).Scan(&created)
	switch {
	case err == nil:
		rec.Created = fromMicros(created)
		_, err = t.exec(ctx, "update region", `UPDATE regions SET storage = ?, attrs = ? WHERE name = ?`, rec.Storage, rawJSON(rec.Attrs), rec.Name)
	case errors.Is(err, sql.ErrNoRows):
		rec.Created = t.stamp(rec.Created)
		_, err = t.exec(ctx, "create region", `INSERT INTO regions (`+regionCols+`) VALUES (?, ?, ?, ?)`,
			rec.Name, rec.Storage, rawJSON(rec.Attrs), micros(rec.Created))
	default:
		err = dbErr("read region", err)
	}
	if err != nil {
		return err
	}
	*r = rec
	return nil
}

// ListRegions lists regions by name.
func (t *txn) ListRegions(ctx context.Context, f catalog.RegionFilter, page catalog.Page) ([]*catalog.Region, string, error) {
	return list(ctx, t, "regions", regionCols, "regions", where{}, page, true, scanRegion,
		func(r *catalog.Region) catalog.Cursor { return catalog.Cursor{Key: r.Name} })
}

// DeleteRegion deletes a region that nothing is in.
func (t *txn) DeleteRegion(ctx context.Context, name string) error {
	if err := t.mustExist(ctx, "region", "regions", "name", name); err != nil {
		return err
	}
	for _, table := range []string{"resources", "vaults"} {
		if busy, err := t.exists(ctx, "FROM "+table+" WHERE region = ?", name); err != nil {
			return err
		} else if busy {
			return cairn.E(cairn.Conflict, fmt.Errorf("region %s still has %s", name, table))
		}
	}
	return t.deleteRow(ctx, "region", "regions", "name", name)
}

// ---- resources

const resourceCols = `id, project_id, resource_group, name, kind, region, profile, disks, tags, attrs, created`

func scanResource(s scanner) (*catalog.Resource, error) {
	var r catalog.Resource
	var profile, disks, tagsCol, attrs sql.NullString
	var created sql.NullInt64
	if err := s.Scan(&r.ID, &r.ProjectID, &r.ResourceGroup, &r.Name, &r.Kind, &r.Region, &profile, &disks, &tagsCol, &attrs, &created); err != nil {
		return nil, err
	}
	if err := fromJSON(disks, &r.Disks); err != nil {
		return nil, err
	}
	if err := fromJSON(tagsCol, &r.Tags); err != nil {
		return nil, err
	}
	r.Profile, r.Attrs, r.Created = fromRawJSON(profile), fromRawJSON(attrs), fromMicros(created)
	return &r, nil
}

// checkOwner fails unless a stored record's owner (project, vault, ...)
// is the one given.
func checkOwner(what, id, field, stored, given string) error {
	if stored != given {
		return cairn.E(cairn.Invalid, fmt.Errorf("%s %s: its %s cannot change from %s to %s", what, id, field, stored, given))
	}
	return nil
}

// GetResource returns a resource by id.
func (t *txn) GetResource(ctx context.Context, id string) (*catalog.Resource, error) {
	return getRow(ctx, t, "resource", resourceCols, "resources", "id", id, scanResource)
}

// PutResource creates or replaces a resource.
func (t *txn) PutResource(ctx context.Context, r *catalog.Resource) error {
	if err := r.Validate(); err != nil {
		return err
	}
	rec := *r
	if rec.ID == "" {
		rec.ID = catalog.NewID()
	}
	rec.Profile, rec.Attrs, rec.Tags = catalog.NormJSON(rec.Profile), catalog.NormJSON(rec.Attrs), tags(rec.Tags)
	if len(rec.Disks) == 0 {
		rec.Disks = nil
	}
	var project string
	var created sql.NullInt64
	found, err := t.existing(ctx, "resources", "project_id, created", rec.ID, &project, &created)
	if err != nil {
		return err
	}
	if found {
		if err := checkOwner("resource", rec.ID, "project", project, rec.ProjectID); err != nil {
			return err
		}
	}
	if err := t.mustExist(ctx, "project", "projects", "id", rec.ProjectID); err != nil {
		return err
	}
	if err := t.mustExist(ctx, "region", "regions", "name", rec.Region); err != nil {
		return err
	}
	if taken, err := t.exists(ctx, "FROM resources WHERE project_id = ? AND resource_group = ? AND kind = ? AND name = ? AND id <> ?",
		rec.ProjectID, rec.ResourceGroup, rec.Kind, rec.Name, rec.ID); err != nil {
		return err
	} else if taken {
		return cairn.E(cairn.Exist, fmt.Errorf("%s %q already exists in resource group %q", rec.Kind, rec.Name, rec.ResourceGroup))
	}
	disks, err := toJSON(rec.Disks, len(rec.Disks))
	if err != nil {
		return err
	}
	tagsCol, err := toJSON(rec.Tags, len(rec.Tags))
	if err != nil {
		return err
	}
	if found {
		rec.Created = fromMicros(created)
		_, err = t.exec(ctx, "update resource", `UPDATE resources SET resource_group = ?, name = ?, kind = ?, region = ?,
			profile = ?, disks = ?, tags = ?, attrs = ? WHERE id = ?`,
			rec.ResourceGroup, rec.Name, rec.Kind, rec.Region, rawJSON(rec.Profile), disks, tagsCol, rawJSON(rec.Attrs), rec.ID)
	} else {
		rec.Created = t.stamp(rec.Created)
		_, err = t.exec(ctx, "create resource", `INSERT INTO resources (`+resourceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.ID, rec.ProjectID, rec.ResourceGroup, rec.Name, rec.Kind, rec.Region, rawJSON(rec.Profile), disks, tagsCol, rawJSON(rec.Attrs), micros(rec.Created))
	}
	if err != nil {
		return err
	}
	*r = rec
	return nil
}

// ListResources lists resources.
func (t *txn) ListResources(ctx context.Context, f catalog.ResourceFilter, page catalog.Page) ([]*catalog.Resource, string, error) {
	var w where
	w.eq("project_id", f.ProjectID)
	w.eq("resource_group", f.ResourceGroup)
	w.eq("name", f.Name)
	w.eq("kind", f.Kind)
	w.eq("region", f.Region)
	return list(ctx, t, "resources", resourceCols, "resources", w, page, false, scanResource,
		func(r *catalog.Resource) catalog.Cursor { return catalog.Cursor{Time: r.Created, Key: r.ID} })
}

// DeleteResource deletes a resource that no operation holds.
func (t *txn) DeleteResource(ctx context.Context, id string) error {
	if err := t.mustExist(ctx, "resource", "resources", "id", id); err != nil {
		return err
	}
	if op, err := t.activeOn(ctx, id); err != nil {
		return err
	} else if op != nil {
		return catalog.Busy(id, op)
	}
	return t.deleteRow(ctx, "resource", "resources", "id", id)
}

// ---- vaults

const vaultCols = `id, project_id, resource_group, name, region, source_resource_id, source_vault_id, tags, attrs, created`

func scanVault(s scanner) (*catalog.Vault, error) {
	var v catalog.Vault
	var tagsCol, attrs sql.NullString
	var created sql.NullInt64
	if err := s.Scan(&v.ID, &v.ProjectID, &v.ResourceGroup, &v.Name, &v.Region, &v.SourceResourceID, &v.SourceVaultID, &tagsCol, &attrs, &created); err != nil {
		return nil, err
	}
	if err := fromJSON(tagsCol, &v.Tags); err != nil {
		return nil, err
	}
	v.Attrs, v.Created = fromRawJSON(attrs), fromMicros(created)
	return &v, nil
}

// GetVault returns a vault by id.
func (t *txn) GetVault(ctx context.Context, id string) (*catalog.Vault, error) {
	return getRow(ctx, t, "vault", vaultCols, "vaults", "id", id, scanVault)
}

// PutVault creates or replaces a vault.
func (t *txn) PutVault(ctx context.Context, v *catalog.Vault) error {
	if err := v.Validate(); err != nil {
		return err
	}
	rec := *v
	if rec.ID == "" {
		rec.ID = catalog.NewID()
	}
	rec.Attrs, rec.Tags = catalog.NormJSON(rec.Attrs), tags(rec.Tags)
	var project, region string
	var created sql.NullInt64
	found, err := t.existing(ctx, "vaults", "project_id, region, created", rec.ID, &project, &region, &created)
	if err != nil {
		return err
	}
	if found {
		if err := checkOwner("vault", rec.ID, "project", project, rec.ProjectID); err != nil {
			return err
		}
		if region != rec.Region {
			if busy, err := t.exists(ctx, "FROM restore_points WHERE vault_id = ?", rec.ID); err != nil {
				return err
			} else if busy {
				return cairn.E(cairn.Conflict, fmt.Errorf("vault %s holds restore points: its region cannot change from %s to %s", rec.ID, region, rec.Region))
			}
		}
	}
	if err := t.mustExist(ctx, "project", "projects", "id", rec.ProjectID); err != nil {
		return err
	}
	if err := t.mustExist(ctx, "region", "regions", "name", rec.Region); err != nil {
		return err
	}
	if taken, err := t.exists(ctx, "FROM vaults WHERE project_id = ? AND resource_group = ? AND name = ? AND id <> ?",
		rec.ProjectID, rec.ResourceGroup, rec.Name, rec.ID); err != nil {
		return err
	} else if taken {
		return cairn.E(cairn.Exist, fmt.Errorf("vault %q already exists in resource group %q", rec.Name, rec.ResourceGroup))
	}
	tagsCol, err := toJSON(rec.Tags, len(rec.Tags))
	if err != nil {
		return err
	}
	if found {
		rec.Created = fromMicros(created)
		_, err = t.exec(ctx, "update vault", `UPDATE vaults SET resource_group = ?, name = ?, region = ?, source_resource_id = ?,
			source_vault_id = ?, tags = ?, attrs = ? WHERE id = ?`,
			rec.ResourceGroup, rec.Name, rec.Region, rec.SourceResourceID, rec.SourceVaultID, tagsCol, rawJSON(rec.Attrs), rec.ID)
	} else {
		rec.Created = t.stamp(rec.Created)
		_, err = t.exec(ctx, "create vault", `INSERT INTO vaults (`+vaultCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.ID, rec.ProjectID, rec.ResourceGroup, rec.Name, rec.Region, rec.SourceResourceID, rec.SourceVaultID, tagsCol, rawJSON(rec.Attrs), micros(rec.Created))
	}
	if err != nil {
		return err
	}
	*v = rec
	return nil
}

// ListVaults lists vaults.
func (t *txn) ListVaults(ctx context.Context, f catalog.VaultFilter, page catalog.Page) ([]*catalog.Vault, string, error) {
	var w where
	w.eq("project_id", f.ProjectID)
	w.eq("resource_group", f.ResourceGroup)
	w.eq("name", f.Name)
	w.eq("region", f.Region)
	w.eq("source_resource_id", f.SourceResourceID)
	w.eq("source_vault_id", f.SourceVaultID)
	return list(ctx, t, "vaults", vaultCols, "vaults", w, page, false, scanVault,
		func(v *catalog.Vault) catalog.Cursor { return catalog.Cursor{Time: v.Created, Key: v.ID} })
}

// DeleteVault deletes a vault that holds no restore points.
func (t *txn) DeleteVault(ctx context.Context, id string) error {
	if err := t.mustExist(ctx, "vault", "vaults", "id", id); err != nil {
		return err
	}
	if busy, err := t.exists(ctx, "FROM restore_points WHERE vault_id = ?", id); err != nil {
		return err
	} else if busy {
		return cairn.E(cairn.Conflict, fmt.Errorf("vault %s still holds restore points", id))
	}
	return t.deleteRow(ctx, "vault", "vaults", "id", id)
}

// ---- restore points

const pointCols = `id, vault_id, project_id, name, resource_id, vault_point_id, consistency_mode, state,
	source_point_id, excluded_disks, metadata, failure_reason, attrs, created`

func scanPoint(s scanner) (*catalog.RestorePoint, error) {
	var p catalog.RestorePoint
	var excluded, metadata, attrs sql.NullString
	var created sql.NullInt64
	if err := s.Scan(&p.ID, &p.VaultID, &p.ProjectID, &p.Name, &p.ResourceID, &p.VaultPointID, &p.ConsistencyMode, &p.State,
		&p.SourcePointID, &excluded, &metadata, &p.FailureReason, &attrs, &created); err != nil {
		return nil, err
	}
	if err := fromJSON(excluded, &p.ExcludedDisks); err != nil {
		return nil, err
	}
	p.Metadata, p.Attrs, p.Created = fromRawJSON(metadata), fromRawJSON(attrs), fromMicros(created)
	return &p, nil
}

// GetRestorePoint returns a restore point by id.
func (t *txn) GetRestorePoint(ctx context.Context, id string) (*catalog.RestorePoint, error) {
	return getRow(ctx, t, "restore point", pointCols, "restore_points", "id", id, scanPoint)
}

// PutRestorePoint creates or replaces a restore point.
func (t *txn) PutRestorePoint(ctx context.Context, p *catalog.RestorePoint) error {
	if err := p.Validate(); err != nil {
		return err
	}
	rec := *p
	if rec.ID == "" {
		rec.ID = catalog.NewID()
	}
	if rec.State == "" {
		rec.State = catalog.PointCreating
	}
	rec.Metadata, rec.Attrs = catalog.NormJSON(rec.Metadata), catalog.NormJSON(rec.Attrs)
	if len(rec.ExcludedDisks) == 0 {
		rec.ExcludedDisks = nil
	}
	var vaultID string
	var created sql.NullInt64
	found, err := t.existing(ctx, "restore_points", "vault_id, created", rec.ID, &vaultID, &created)
	if err != nil {
		return err
	}
	if found {
		if err := checkOwner("restore point", rec.ID, "vault", vaultID, rec.VaultID); err != nil {
			return err
		}
	}
	var project string
	if err := t.q.QueryRowContext(ctx, `SELECT project_id FROM vaults WHERE id = ?`, rec.VaultID).Scan(&project); errors.Is(err, sql.ErrNoRows) {
		return catalog.NotFound("vault", rec.VaultID)
	} else if err != nil {
		return dbErr("read vault", err)
	}
	if rec.ProjectID != "" && rec.ProjectID != project {
		return cairn.E(cairn.Invalid, fmt.Errorf("restore point %s: vault %s is in project %s, not %s", rec.ID, rec.VaultID, project, rec.ProjectID))
	}
	rec.ProjectID = project
	if taken, err := t.exists(ctx, "FROM restore_points WHERE vault_id = ? AND name = ? AND id <> ?", rec.VaultID, rec.Name, rec.ID); err != nil {
		return err
	} else if taken {
		return cairn.E(cairn.Exist, fmt.Errorf("restore point %q already exists in vault %s", rec.Name, rec.VaultID))
	}
	excluded, err := toJSON(rec.ExcludedDisks, len(rec.ExcludedDisks))
	if err != nil {
		return err
	}
	if found {
		rec.Created = fromMicros(created)
		_, err = t.exec(ctx, "update restore point", `UPDATE restore_points SET name = ?, resource_id = ?, vault_point_id = ?,
			consistency_mode = ?, state = ?, source_point_id = ?, excluded_disks = ?, metadata = ?, failure_reason = ?, attrs = ?
			WHERE id = ?`,
			rec.Name, rec.ResourceID, rec.VaultPointID, rec.ConsistencyMode, rec.State, rec.SourcePointID, excluded,
			rawJSON(rec.Metadata), rec.FailureReason, rawJSON(rec.Attrs), rec.ID)
	} else {
		rec.Created = t.stamp(rec.Created)
		_, err = t.exec(ctx, "create restore point", `INSERT INTO restore_points (`+pointCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.ID, rec.VaultID, rec.ProjectID, rec.Name, rec.ResourceID, rec.VaultPointID, rec.ConsistencyMode, rec.State,
			rec.SourcePointID, excluded, rawJSON(rec.Metadata), rec.FailureReason, rawJSON(rec.Attrs), micros(rec.Created))
	}
	if err != nil {
		return err
	}
	*p = rec
	return nil
}

// ListRestorePoints lists restore points.
func (t *txn) ListRestorePoints(ctx context.Context, f catalog.RestorePointFilter, page catalog.Page) ([]*catalog.RestorePoint, string, error) {
	var w where
	w.eq("project_id", f.ProjectID)
	w.eq("vault_id", f.VaultID)
	w.eq("name", f.Name)
	w.eq("resource_id", f.ResourceID)
	w.eq("vault_point_id", f.VaultPointID)
	w.eq("source_point_id", f.SourcePointID)
	w.eq("state", string(f.State))
	return list(ctx, t, "restore points", pointCols, "restore_points", w, page, false, scanPoint,
		func(p *catalog.RestorePoint) catalog.Cursor { return catalog.Cursor{Time: p.Created, Key: p.ID} })
}

// DeleteRestorePoint deletes a restore point and its disk restore points.
func (t *txn) DeleteRestorePoint(ctx context.Context, id string) error {
	return t.deleteRow(ctx, "restore point", "restore_points", "id", id)
}

// ---- disk restore points

const diskCols = `id, restore_point_id, project_id, disk_name, size, replication_state, bytes_done, bytes_total, attrs, created`

func scanDisk(s scanner) (*catalog.DiskRestorePoint, error) {
	var d catalog.DiskRestorePoint
	var attrs sql.NullString
	var created sql.NullInt64
	if err := s.Scan(&d.ID, &d.RestorePointID, &d.ProjectID, &d.DiskName, &d.Size, &d.ReplicationState,
		&d.BytesDone, &d.BytesTotal, &attrs, &created); err != nil {
		return nil, err
	}
	d.Attrs, d.Created = fromRawJSON(attrs), fromMicros(created)
	return &d, nil
}

// GetDiskRestorePoint returns a disk restore point by id.
func (t *txn) GetDiskRestorePoint(ctx context.Context, id string) (*catalog.DiskRestorePoint, error) {
	return getRow(ctx, t, "disk restore point", diskCols, "disk_restore_points", "id", id, scanDisk)
}

// PutDiskRestorePoint creates or replaces a disk restore point.
func (t *txn) PutDiskRestorePoint(ctx context.Context, d *catalog.DiskRestorePoint) error {
	if err := d.Validate(); err != nil {
		return err
	}
	rec := *d
	if rec.ID == "" {
		rec.ID = catalog.NewID()
	}
	rec.Attrs = catalog.NormJSON(rec.Attrs)
	var pointID string
	var created sql.NullInt64
	found, err := t.existing(ctx, "disk_restore_points", "restore_point_id, created", rec.ID, &pointID, &created)
	if err != nil {
		return err
	}
	if found {
		if err := checkOwner("disk restore point", rec.ID, "restore point", pointID, rec.RestorePointID); err != nil {
			return err
		}
	}
	var project string
	if err := t.q.QueryRowContext(ctx, `SELECT project_id FROM restore_points WHERE id = ?`, rec.RestorePointID).Scan(&project); errors.Is(err, sql.ErrNoRows) {
		return catalog.NotFound("restore point", rec.RestorePointID)
	} else if err != nil {
		return dbErr("read restore point", err)
	}
	if rec.ProjectID != "" && rec.ProjectID != project {
		return cairn.E(cairn.Invalid, fmt.Errorf("disk restore point %s: restore point %s is in project %s, not %s", rec.ID, rec.RestorePointID, project, rec.ProjectID))
	}
	rec.ProjectID = project
	if taken, err := t.exists(ctx, "FROM disk_restore_points WHERE restore_point_id = ? AND disk_name = ? AND id <> ?",
		rec.RestorePointID, rec.DiskName, rec.ID); err != nil {
		return err
	} else if taken {
		return cairn.E(cairn.Exist, fmt.Errorf("restore point %s already has disk %q", rec.RestorePointID, rec.DiskName))
	}
	if found {
		rec.Created = fromMicros(created)
		_, err = t.exec(ctx, "update disk restore point", `UPDATE disk_restore_points SET disk_name = ?, size = ?, replication_state = ?,
			bytes_done = ?, bytes_total = ?, attrs = ? WHERE id = ?`,
			rec.DiskName, rec.Size, rec.ReplicationState, rec.BytesDone, rec.BytesTotal, rawJSON(rec.Attrs), rec.ID)
	} else {
		rec.Created = t.stamp(rec.Created)
		_, err = t.exec(ctx, "create disk restore point", `INSERT INTO disk_restore_points (`+diskCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.ID, rec.RestorePointID, rec.ProjectID, rec.DiskName, rec.Size, rec.ReplicationState, rec.BytesDone, rec.BytesTotal,
			rawJSON(rec.Attrs), micros(rec.Created))
	}
	if err != nil {
		return err
	}
	*d = rec
	return nil
}

// ListDiskRestorePoints lists disk restore points.
func (t *txn) ListDiskRestorePoints(ctx context.Context, f catalog.DiskRestorePointFilter, page catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
	var w where
	w.eq("project_id", f.ProjectID)
	w.eq("restore_point_id", f.RestorePointID)
	w.eq("disk_name", f.DiskName)
	return list(ctx, t, "disk restore points", diskCols, "disk_restore_points", w, page, false, scanDisk,
		func(d *catalog.DiskRestorePoint) catalog.Cursor { return catalog.Cursor{Time: d.Created, Key: d.ID} })
}

// DeleteDiskRestorePoint deletes a disk restore point.
func (t *txn) DeleteDiskRestorePoint(ctx context.Context, id string) error {
	return t.deleteRow(ctx, "disk restore point", "disk_restore_points", "id", id)
}

// ---- operations

const opCols = `id, project_id, kind, target_id, resource_id, state, cancel_requested, progress, error_code, error_message,
	params, result, attempt, lease_owner, lease_until, created, started, ended`

func scanOperation(s scanner) (*catalog.Operation, error) {
	var o catalog.Operation
	var project, progress, params, result sql.NullString
	var code, msg string
	var until, created, started, ended sql.NullInt64
	if err := s.Scan(&o.ID, &project, &o.Kind, &o.TargetID, &o.ResourceID, &o.State, &o.CancelRequested, &progress, &code, &msg,
		&params, &result, &o.Attempt, &o.Lease.Owner, &until, &created, &started, &ended); err != nil {
		return nil, err
	}
	if err := fromJSON(progress, &o.Progress); err != nil {
		return nil, err
	}
	o.ProjectID = project.String
	if code != "" || msg != "" {
		o.Error = &catalog.OpError{Code: code, Message: msg}
	}
	o.Params, o.Result = fromRawJSON(params), fromRawJSON(result)
	o.Lease.Until, o.Created, o.Started, o.Ended = fromMicros(until), fromMicros(created), fromMicros(started), fromMicros(ended)
	return &o, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// activeOn returns the active operation on a resource, or nil.
func (t *txn) activeOn(ctx context.Context, resourceID string) (*catalog.Operation, error) {
	op, err := scanOperation(t.q.QueryRowContext(ctx, `SELECT `+opCols+` FROM operations
		WHERE resource_id = ? AND state IN ('queued', 'running') LIMIT 1`, resourceID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbErr("read operations", err)
	}
	return op, nil
}

// CreateOperation queues a new operation.
func (t *txn) CreateOperation(ctx context.Context, op *catalog.Operation) error {
	if err := op.Validate(); err != nil {
		return err
	}
	rec := *op
	if rec.ID == "" {
		rec.ID = catalog.NewID()
	}
	rec.State, rec.Attempt, rec.CancelRequested = catalog.OpQueued, 0, false
	rec.Lease, rec.Error, rec.Result = catalog.Lease{}, nil, nil
	rec.Created, rec.Started, rec.Ended = t.now(), time.Time{}, time.Time{}
	rec.Params = catalog.NormJSON(rec.Params)
	if len(rec.Progress) == 0 {
		rec.Progress = nil
	}
	if rec.ProjectID != "" {
		if err := t.mustExist(ctx, "project", "projects", "id", rec.ProjectID); err != nil {
			return err
		}
	}
	if rec.ResourceID != "" {
		if active, err := t.activeOn(ctx, rec.ResourceID); err != nil {
			return err
		} else if active != nil {
			return catalog.Busy(rec.ResourceID, active)
		}
	}
	progress, err := toJSON(rec.Progress, len(rec.Progress))
	if err != nil {
		return err
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO operations (id, project_id, kind, target_id, resource_id, state, progress, params, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.ID, nullString(rec.ProjectID), rec.Kind, rec.TargetID, rec.ResourceID, rec.State, progress, rawJSON(rec.Params), micros(rec.Created))
	if err != nil {
		err = dbErr("create operation", err)
		if cairn.IsKind(err, cairn.Exist) && rec.ResourceID != "" {
			// The partial unique index on active operations: a
			// concurrent writer got there first.
			if taken, _ := t.exists(ctx, "FROM operations WHERE id = ?", rec.ID); !taken {
				return catalog.Busy(rec.ResourceID, nil)
			}
		}
		return err
	}
	*op = rec
	return nil
}

// GetOperation returns an operation by id.
func (t *txn) GetOperation(ctx context.Context, id string) (*catalog.Operation, error) {
	return getRow(ctx, t, "operation", opCols, "operations", "id", id, scanOperation)
}

// ListOperations lists operations.
func (t *txn) ListOperations(ctx context.Context, f catalog.OperationFilter, page catalog.Page) ([]*catalog.Operation, string, error) {
	var w where
	w.eq("project_id", f.ProjectID)
	w.eq("kind", f.Kind)
	w.eq("target_id", f.TargetID)
	w.eq("resource_id", f.ResourceID)
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		args := make([]any, len(f.States))
		for i, s := range f.States {
			marks[i], args[i] = "?", string(s)
		}
		w.add("state IN ("+strings.Join(marks, ", ")+")", args...)
	}
	return list(ctx, t, "operations", opCols, "operations", w, page, false, scanOperation,
		func(o *catalog.Operation) catalog.Cursor { return catalog.Cursor{Time: o.Created, Key: o.ID} })
}

// DeleteOperation deletes a finished operation.
func (t *txn) DeleteOperation(ctx context.Context, id string) error {
	op, err := t.GetOperation(ctx, id)
	if err != nil {
		return err
	}
	if op.State.Active() {
		return cairn.E(cairn.Conflict, fmt.Errorf("operation %s is %s: cancel it first", id, op.State))
	}
	return t.deleteRow(ctx, "operation", "operations", "id", id)
}

// CancelOperation cancels a queued operation, or asks a running one's
// runner to stop.
func (t *txn) CancelOperation(ctx context.Context, id string) (*catalog.Operation, error) {
	op, err := t.GetOperation(ctx, id)
	if err != nil {
		return nil, err
	}
	switch op.State {
	case catalog.OpQueued:
		op.State, op.Ended = catalog.OpCanceled, t.now()
		op.Error = &catalog.OpError{Code: "Canceled", Message: "the operation was canceled before it started"}
		_, err = t.exec(ctx, "cancel operation", `UPDATE operations SET state = ?, ended = ?, error_code = ?, error_message = ?,
			cancel_requested = 1 WHERE id = ?`, op.State, micros(op.Ended), op.Error.Code, op.Error.Message, id)
		op.CancelRequested = true
	case catalog.OpRunning:
		op.CancelRequested = true
		_, err = t.exec(ctx, "cancel operation", `UPDATE operations SET cancel_requested = 1 WHERE id = ?`, id)
	case catalog.OpCanceled:
	default:
		return nil, cairn.E(cairn.Conflict, fmt.Errorf("operation %s already %s", id, op.State))
	}
	if err != nil {
		return nil, err
	}
	return op, nil
}

// heldOperation returns operation id if owner holds it (it is running
// under owner's lease), else a Conflict or NotExist error.
func (t *txn) heldOperation(ctx context.Context, id, owner string) (*catalog.Operation, error) {
	op, err := t.GetOperation(ctx, id)
	if err != nil {
		return nil, err
	}
	if op.State != catalog.OpRunning || owner == "" || op.Lease.Owner != owner {
		return nil, catalog.LeaseLost(op, owner)
	}
	return op, nil
}

// UpdateProgress records progress of a running operation held by owner.
func (t *txn) UpdateProgress(ctx context.Context, id, owner string, p ...catalog.DiskProgress) error {
	if err := catalog.CheckProgress(p); err != nil {
		return err
	}
	op, err := t.heldOperation(ctx, id, owner)
	if err != nil {
		return err
	}
	merged := catalog.MergeProgress(op.Progress, p...)
	progress, err := toJSON(merged, len(merged))
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "update progress", `UPDATE operations SET progress = ? WHERE id = ?`, progress, id)
	return err
}

// FinishOperation moves a running operation held by owner to its final
// state.
func (t *txn) FinishOperation(ctx context.Context, id, owner string, out catalog.Outcome) error {
	if err := out.Validate(); err != nil {
		return err
	}
	if _, err := t.heldOperation(ctx, id, owner); err != nil {
		return err
	}
	var code, msg string
	if out.Error != nil {
		code, msg = out.Error.Code, out.Error.Message
	}
	_, err := t.exec(ctx, "finish operation", `UPDATE operations SET state = ?, ended = ?, error_code = ?, error_message = ?,
		result = ?, lease_owner = '', lease_until = NULL WHERE id = ?`,
		out.State, micros(t.now()), code, msg, rawJSON(out.Result), id)
	return err
}
