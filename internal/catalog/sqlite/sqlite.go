// Package sqlite implements catalog.Catalog in one SQLite database file,
// with the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with foreign keys on. Writes go through a
// single connection and every transaction begins IMMEDIATE, so writers
// take turns and never fail half-way on a lock; reads use a small pool of
// read-only connections and run beside the writer. Open applies the
// embedded schema migrations (a schema_migrations table records them) and
// refuses a database written by a newer cairn.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/clock"
)

// Options tune Open. The zero value is ready to use.
type Options struct {
	Clock       clock.Clock   // nil = clock.Real
	BusyTimeout time.Duration // how long to wait for another process's lock; 0 = 10 s
	ReadConns   int           // read connections; 0 = 4
}

// Catalog is a catalog in one SQLite database. It is safe for concurrent
// use, and several processes may open the same file.
type Catalog struct {
	w, r    *sql.DB
	clock   clock.Clock
	path    string
	version int
}

var _ catalog.Catalog = (*Catalog)(nil)

// Open opens the catalog in the database file at path, creating it if need
// be, and migrates its schema to the newest this build knows. A database
// whose schema is newer fails with an error of kind cairn.Unsupported.
func Open(ctx context.Context, path string, opts Options) (*Catalog, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("catalog %q: give the path of a database file", path))
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	w, err := sql.Open("sqlite", path+"?_txlock=immediate&_busy_timeout="+busy+"&_fk=1&_journal_mode=WAL&_synchronous=FULL")
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("open catalog %s: %w", path, err))
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	c := &Catalog{w: w, clock: opts.Clock, path: path}
	fail := func(err error) (*Catalog, error) {
		c.Close()
		return nil, err
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(cairn.E(cairn.IO, fmt.Errorf("open catalog %s: %w", path, err)))
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(cairn.E(cairn.IO, fmt.Errorf("open catalog %s: journal mode is %s, not WAL", path, mode)))
	}
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return fail(err)
	}
	if c.version, err = migrate(ctx, w, ms, c.clock.Now()); err != nil {
		return fail(fmt.Errorf("open catalog %s: %w", path, err))
	}
	r, err := sql.Open("sqlite", path+"?_busy_timeout="+busy+"&_fk=1&_query_only=1")
	if err != nil {
		return fail(cairn.E(cairn.IO, fmt.Errorf("open catalog %s: %w", path, err)))
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	c.r = r
	return c, nil
}

// Path returns the database file's path.
func (c *Catalog) Path() string { return c.path }

// SchemaVersion returns the version of the database's schema.
func (c *Catalog) SchemaVersion() int { return c.version }

// Close closes the database.
func (c *Catalog) Close() error {
	var errs []error
	if c.r != nil {
		errs = append(errs, c.r.Close())
	}
	if c.w != nil {
		errs = append(errs, c.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("close catalog %s: %w", c.path, err))
	}
	return nil
}

func (c *Catalog) now() time.Time { return catalog.Timestamp(c.clock.Now()) }

// read returns a Tx that reads from the read pool.
func (c *Catalog) read() *txn { return &txn{q: c.r, now: c.now} }

// Update runs fn in one IMMEDIATE transaction on the writer connection.
func (c *Catalog) Update(ctx context.Context, fn func(tx catalog.Tx) error) error {
	return c.update(ctx, func(t *txn) error { return fn(t) })
}

func (c *Catalog) update(ctx context.Context, fn func(t *txn) error) error {
	tx, err := c.w.BeginTx(ctx, nil)
	if err != nil {
		return dbErr("catalog: begin", err)
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback() // fn failed or panicked
		}
	}()
	if err := fn(&txn{q: tx, now: c.now}); err != nil {
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return dbErr("catalog: commit", err)
	}
	return nil
}

// Authenticate returns the token whose secret is secret.
func (c *Catalog) Authenticate(ctx context.Context, secret string) (*catalog.Token, error) {
	denied := cairn.E(cairn.Permission, errors.New("the token is not valid"))
	if secret == "" {
		return nil, denied
	}
	t, err := scanToken(c.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, catalog.HashSecret(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, denied
	}
	if err != nil {
		return nil, dbErr("authenticate", err)
	}
	if t.Expired(c.now()) {
		return nil, cairn.E(cairn.Permission, fmt.Errorf("token %s expired at %s", t.Name, t.Expires.Format(time.RFC3339)))
	}
	return t, nil
}

// ClaimOperation leases the oldest claimable operation to owner.
func (c *Catalog) ClaimOperation(ctx context.Context, owner string, leaseFor time.Duration) (*catalog.Operation, error) {
	if owner == "" {
		return nil, cairn.E(cairn.Invalid, errors.New("claim: owner must not be empty"))
	}
	if leaseFor <= 0 {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("claim: lease duration %s must be positive", leaseFor))
	}
	var op *catalog.Operation
	err := c.update(ctx, func(t *txn) error {
		now := t.now()
		var err error
		op, err = scanOperation(t.q.QueryRowContext(ctx, `SELECT `+opCols+` FROM operations
			WHERE state IN ('queued', 'running') AND (state = 'queued' OR lease_until < ?)
			ORDER BY created, id LIMIT 1`, now.UnixMicro()))
		if errors.Is(err, sql.ErrNoRows) {
			op = nil
			return nil
		}
		if err != nil {
			return dbErr("claim operation", err)
		}
		op.State = catalog.OpRunning
		op.Attempt++
		op.Lease = catalog.Lease{Owner: owner, Until: catalog.Timestamp(now.Add(leaseFor))}
		if op.Started.IsZero() {
			op.Started = now
		}
		_, err = t.q.ExecContext(ctx, `UPDATE operations SET state = ?, attempt = ?, lease_owner = ?, lease_until = ?, started = ?
			WHERE id = ?`, op.State, op.Attempt, owner, op.Lease.Until.UnixMicro(), op.Started.UnixMicro(), op.ID)
		return dbErr("claim operation", err)
	})
	if err != nil {
		return nil, err
	}
	return op, nil
}

// RenewLease extends owner's lease of a running operation.
func (c *Catalog) RenewLease(ctx context.Context, id, owner string, leaseFor time.Duration) (*catalog.Operation, error) {
	if leaseFor <= 0 {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("renew lease: duration %s must be positive", leaseFor))
	}
	var op *catalog.Operation
	err := c.update(ctx, func(t *txn) error {
		var err error
		if op, err = t.heldOperation(ctx, id, owner); err != nil {
			return err
		}
		op.Lease.Until = catalog.Timestamp(t.now().Add(leaseFor))
		_, err = t.q.ExecContext(ctx, `UPDATE operations SET lease_until = ? WHERE id = ?`, op.Lease.Until.UnixMicro(), id)
		return dbErr("renew lease", err)
	})
	if err != nil {
		return nil, err
	}
	return op, nil
}

// dbErr classifies an error from the database: constraint violations that
// the explicit checks did not catch become cairn.Exist or cairn.Conflict,
// a canceled context cairn.Canceled, anything else cairn.IO. It returns
// nil for a nil err.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return cairn.E(cairn.Canceled, fmt.Errorf("%s: %w", op, err))
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch code := se.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return cairn.E(cairn.Exist, fmt.Errorf("%s: %w", op, err))
		case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return cairn.E(cairn.Conflict, fmt.Errorf("%s: %w", op, err))
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			return cairn.E(cairn.Conflict, fmt.Errorf("%s: the catalog is busy: %w", op, err))
		}
	}
	return cairn.E(cairn.IO, fmt.Errorf("%s: %w", op, err))
}
