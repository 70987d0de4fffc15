package catalogtest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// testRecords covers the Record collection: create, replace, keys, lists
// with their filters and paging, delete, validation and the cascade of a
// project's deletion.
func testRecords(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "rec-a")
	q := project(t, c, "rec-b")

	r := &catalog.Record{Kind: "test.policy", ProjectID: p.ID, ParentID: "vault-1", Key: "k1",
		Data: json.RawMessage(`{"name":"daily","enabled":true,"n":[1,2]}`)}
	ok(t, c.PutRecord(ctx, r), "PutRecord")
	if r.ID == "" {
		t.Fatal("PutRecord assigned no id")
	}
	recent(t, "Created", r.Created)
	recent(t, "Updated", r.Updated)
	got, err := c.GetRecord(ctx, "test.policy", r.ID)
	ok(t, err, "GetRecord")
	same(t, "GetRecord", got, r)

	// Replace: same id, new data, parent and key; Created is kept.
	created := got.Created
	r.Data, r.ParentID, r.Key = json.RawMessage(`{"name":"weekly"}`), "vault-2", "k2"
	ok(t, c.PutRecord(ctx, r), "PutRecord (replace)")
	got, err = c.GetRecord(ctx, "test.policy", r.ID)
	ok(t, err, "GetRecord after replace")
	same(t, "GetRecord after replace", got, r)
	if !got.Created.Equal(created) {
		t.Errorf("replace changed Created from %v to %v", created, got.Created)
	}

	// The same id in another kind is another record.
	other := &catalog.Record{Kind: "test.other", ID: r.ID, ProjectID: q.ID, Key: "k2"}
	ok(t, c.PutRecord(ctx, other), "PutRecord of another kind with the same id and key")
	if _, err := c.GetRecord(ctx, "test.other", r.ID); err != nil {
		t.Errorf("GetRecord of the other kind: %v", err)
	}

	// Keys are unique within a kind; an empty key is no key.
	isKind(t, c.PutRecord(ctx, &catalog.Record{Kind: "test.policy", ProjectID: q.ID, Key: "k2"}), cairn.Exist, "PutRecord with a taken key")
	for range 2 {
		ok(t, c.PutRecord(ctx, &catalog.Record{Kind: "test.policy", ProjectID: q.ID, ParentID: "vault-2"}), "PutRecord without a key")
	}

	// A record keeps its project.
	moved := *r
	moved.ProjectID = q.ID
	isKind(t, c.PutRecord(ctx, &moved), cairn.Invalid, "PutRecord moving a record to another project")
	isKind(t, c.PutRecord(ctx, &catalog.Record{Kind: "test.policy", ProjectID: "nope"}), cairn.NotExist, "PutRecord in a missing project")
	isKind(t, c.PutRecord(ctx, &catalog.Record{ProjectID: p.ID}), cairn.Invalid, "PutRecord without a kind")
	isKind(t, c.PutRecord(ctx, &catalog.Record{Kind: "test.policy"}), cairn.Invalid, "PutRecord without a project")
	isKind(t, c.PutRecord(ctx, &catalog.Record{Kind: "test.policy", ProjectID: p.ID, Data: json.RawMessage(`{`)}), cairn.Invalid, "PutRecord with bad JSON")

	// Lists and filters.
	count := func(f catalog.RecordFilter) int {
		t.Helper()
		all, _ := pageAll(t, 2, func(pg catalog.Page) ([]*catalog.Record, string, error) { return c.ListRecords(ctx, f, pg) })
		for _, x := range all {
			if x.Kind != f.Kind {
				t.Errorf("ListRecords(%+v) returned a %s record", f, x.Kind)
			}
		}
		return len(all)
	}
	for _, tc := range []struct {
		f    catalog.RecordFilter
		want int
	}{
		{catalog.RecordFilter{Kind: "test.policy"}, 3},
		{catalog.RecordFilter{Kind: "test.policy", ProjectID: p.ID}, 1},
		{catalog.RecordFilter{Kind: "test.policy", ProjectID: q.ID}, 2},
		{catalog.RecordFilter{Kind: "test.policy", ParentID: "vault-2"}, 3},
		{catalog.RecordFilter{Kind: "test.policy", Key: "k2"}, 1},
		{catalog.RecordFilter{Kind: "test.other"}, 1},
		{catalog.RecordFilter{Kind: "test.none"}, 0},
	} {
		if n := count(tc.f); n != tc.want {
			t.Errorf("ListRecords(%+v): %d records, want %d", tc.f, n, tc.want)
		}
	}
	_, _, err = c.ListRecords(ctx, catalog.RecordFilter{}, catalog.Page{})
	isKind(t, err, cairn.Invalid, "ListRecords without a kind")

	// Inside Update, records commit or roll back with the rest.
	errRollback := errors.New("roll back")
	err = c.Update(ctx, func(tx catalog.Tx) error {
		ok(t, tx.PutRecord(ctx, &catalog.Record{Kind: "test.policy", ProjectID: p.ID, Key: "gone"}), "PutRecord in Update")
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update: %v", err)
	}
	if n := count(catalog.RecordFilter{Kind: "test.policy", Key: "gone"}); n != 0 {
		t.Errorf("a record put in a rolled-back Update is there")
	}

	// Delete.
	ok(t, c.DeleteRecord(ctx, "test.policy", r.ID), "DeleteRecord")
	_, err = c.GetRecord(ctx, "test.policy", r.ID)
	isKind(t, err, cairn.NotExist, "GetRecord after delete")
	isKind(t, c.DeleteRecord(ctx, "test.policy", r.ID), cairn.NotExist, "DeleteRecord twice")
	ok(t, c.PutRecord(ctx, &catalog.Record{Kind: "test.policy", ProjectID: q.ID, Key: "k1"}), "PutRecord with the deleted record's old key")

	// Deleting a project deletes its records.
	ok(t, c.DeleteProject(ctx, q.ID), "DeleteProject")
	if n := count(catalog.RecordFilter{Kind: "test.policy", ProjectID: q.ID}) + count(catalog.RecordFilter{Kind: "test.other"}); n != 0 {
		t.Errorf("%d records of a deleted project remain", n)
	}
}
