package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// ---- records

const recordCols = `kind, id, project_id, parent_id, key, data, created, updated`

func scanRecord(s scanner) (*catalog.Record, error) {
	var r catalog.Record
	var data sql.NullString
	var created, updated sql.NullInt64
	if err := s.Scan(&r.Kind, &r.ID, &r.ProjectID, &r.ParentID, &r.Key, &data, &created, &updated); err != nil {
		return nil, err
	}
	r.Data, r.Created, r.Updated = fromRawJSON(data), fromMicros(created), fromMicros(updated)
	return &r, nil
}

// GetRecord returns a record of a kind by id.
func (t *txn) GetRecord(ctx context.Context, kind, id string) (*catalog.Record, error) {
	r, err := scanRecord(t.q.QueryRowContext(ctx, "SELECT "+recordCols+" FROM records WHERE kind = ? AND id = ?", kind, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, catalog.NotFound(kind+" record", id)
	}
	if err != nil {
		return nil, dbErr("get "+kind+" record "+id, err)
	}
	return r, nil
}

// PutRecord creates or replaces a record.
func (t *txn) PutRecord(ctx context.Context, r *catalog.Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	rec := *r
	if rec.ID == "" {
		rec.ID = catalog.NewID()
	}
	rec.Data = catalog.NormJSON(rec.Data)
	var project string
	var created sql.NullInt64
	err := t.q.QueryRowContext(ctx, "SELECT project_id, created FROM records WHERE kind = ? AND id = ?", rec.Kind, rec.ID).Scan(&project, &created)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return dbErr("read records", err)
	}
	if found {
		if err := checkOwner(rec.Kind+" record", rec.ID, "project", project, rec.ProjectID); err != nil {
			return err
		}
	}
	if err := t.mustExist(ctx, "project", "projects", "id", rec.ProjectID); err != nil {
		return err
	}
	if rec.Key != "" {
		if taken, err := t.exists(ctx, "FROM records WHERE kind = ? AND key = ? AND id <> ?", rec.Kind, rec.Key, rec.ID); err != nil {
			return err
		} else if taken {
			return cairn.E(cairn.Exist, fmt.Errorf("a %s record with key %q already exists", rec.Kind, rec.Key))
		}
	}
	rec.Updated = t.now()
	if found {
		rec.Created = fromMicros(created)
		_, err = t.exec(ctx, "update "+rec.Kind+" record", `UPDATE records SET parent_id = ?, key = ?, data = ?, updated = ? WHERE kind = ? AND id = ?`,
			rec.ParentID, rec.Key, rawJSON(rec.Data), micros(rec.Updated), rec.Kind, rec.ID)
	} else {
		rec.Created = t.stamp(rec.Created)
		_, err = t.exec(ctx, "create "+rec.Kind+" record", `INSERT INTO records (`+recordCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.Kind, rec.ID, rec.ProjectID, rec.ParentID, rec.Key, rawJSON(rec.Data), micros(rec.Created), micros(rec.Updated))
	}
	if err != nil {
		return err
	}
	*r = rec
	return nil
}

// ListRecords lists records of one kind.
func (t *txn) ListRecords(ctx context.Context, f catalog.RecordFilter, page catalog.Page) ([]*catalog.Record, string, error) {
	if f.Kind == "" {
		return nil, "", cairn.E(cairn.Invalid, errors.New("list records: no kind given"))
	}
	var w where
	w.eq("kind", f.Kind)
	w.eq("project_id", f.ProjectID)
	w.eq("parent_id", f.ParentID)
	w.eq("key", f.Key)
	return list(ctx, t, f.Kind+" records", recordCols, "records", w, page, false, scanRecord,
		func(r *catalog.Record) catalog.Cursor { return catalog.Cursor{Time: r.Created, Key: r.ID} })
}

// DeleteRecord deletes a record.
func (t *txn) DeleteRecord(ctx context.Context, kind, id string) error {
	res, err := t.exec(ctx, "delete "+kind+" record "+id, "DELETE FROM records WHERE kind = ? AND id = ?", kind, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return dbErr("delete "+kind+" record", err)
	} else if n == 0 {
		return catalog.NotFound(kind+" record", id)
	}
	return nil
}

// GetRecord implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetRecord(ctx context.Context, kind, id string) (*catalog.Record, error) {
	return c.read().GetRecord(ctx, kind, id)
}

// ListRecords implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListRecords(ctx context.Context, f catalog.RecordFilter, page catalog.Page) ([]*catalog.Record, string, error) {
	return c.read().ListRecords(ctx, f, page)
}

// PutRecord implements catalog.Tx in a transaction of its own.
func (c *Catalog) PutRecord(ctx context.Context, r *catalog.Record) error {
	return c.update(ctx, func(t *txn) error { return t.PutRecord(ctx, r) })
}

// DeleteRecord implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteRecord(ctx context.Context, kind, id string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteRecord(ctx, kind, id) })
}
