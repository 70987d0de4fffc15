// Package service is cairn's transport-neutral API: the operations that
// every dialect (ARM, CBR, ZStack, the native JSON API) and the local
// commands call. It owns the data directory, checks every caller against
// the records it touches, validates every input before anything changes,
// and queues long-running work as persisted operations that the runner of
// package jobs executes.
//
// # Data directory
//
//	catalog.db                 the SQLite catalog
//	regions/<name>/vault/      the region's vault (a local directory)
//	regions/<name>/passphrase  the vault's passphrase, random, mode 0600
//	regions/<name>/disks/      disk images restored in the region
//	tls/                       the server's certificate and key
//	admin-token                the first admin token's secret, mode 0600
//	access-key                 the HMAC key of disk access grants, mode 0600
//	credential-key             the key that seals AK/SK secret keys, mode 0600
//	runner-id                  the operation runner's lease owner id
//
// # Regions and vaults
//
// Each region has one storage vault, shared by every catalog vault
// (restore point collection) in the region, so identical data is stored
// once per region whatever the project. A catalog restore point names its
// storage point by VaultPointID; the storage point's tags (catalog.TagVault
// and the others in this package) link it back, so that Rebuild can
// recreate the catalog from the vaults.
package service

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/catalog/sqlite"
	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/jobs"
	"github.com/cairn-vm/cairn/internal/ratelimit"
	"github.com/cairn-vm/cairn/internal/schedule"
	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Service is an open data directory. It is safe for concurrent use.
type Service struct {
	cfg       Config
	paths     Paths
	cat       catalog.Catalog
	clock     clock.Clock
	log       *slog.Logger
	regions   map[string]*region
	accessKey []byte
	runner    *jobs.Runner

	backupLimit  *ratelimit.Limiter // nil: no limit
	copyLimit    *ratelimit.Limiter
	restoreLimit *ratelimit.Limiter

	schedMu   sync.Mutex
	sched     *schedule.Scheduler // nil until Start, or when scheduling is off
	stopSched context.CancelFunc
	bg        sync.WaitGroup // the scheduler and the retention it starts

	credMu   sync.Mutex
	credAEAD cipher.AEAD // seals AK/SK secret keys; nil until first used

	closeOnce sync.Once
	closeErr  error
}

// region is a configured region and its open storage vault.
type region struct {
	name  string
	dir   string
	vault *vault.Vault
}

// disksDir is where restored disk images of the region go by default.
func (r *region) disksDir() string { return filepath.Join(r.dir, "disks") }

var regionNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Open opens (creating as needed) the data directory cfg.DataDir: its
// catalog, and the vault of every region, each initialised on first use,
// and records the regions in the catalog. It does not run operations:
// Start does. Close releases it.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.DataDir == "" {
		return nil, cairn.E(cairn.Invalid, errors.New("service: no data directory"))
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("service: data directory: %w", err))
	}
	cfg.DataDir = dir
	if cfg.Regions == nil {
		cfg.Regions = DefaultRegions
	}
	if len(cfg.Regions) == 0 {
		return nil, cairn.E(cairn.Invalid, errors.New("service: no region"))
	}
	seen := map[string]bool{}
	for _, r := range cfg.Regions {
		if !regionNameRE.MatchString(r) {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("service: region name %q: use 1 to 64 lower-case letters, digits and '-'", r))
		}
		if seen[r] {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("service: region %q is given twice", r))
		}
		seen[r] = true
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("service: data directory: %w", err))
	}
	s := &Service{
		cfg:   cfg,
		clock: cfg.Clock,
		log:   cfg.Logger,
		paths: Paths{
			DataDir:    dir,
			Catalog:    filepath.Join(dir, "catalog.db"),
			TLSDir:     filepath.Join(dir, "tls"),
			AdminToken: filepath.Join(dir, "admin-token"),
			Regions:    filepath.Join(dir, "regions"),
		},
		regions: map[string]*region{},
	}
	if cfg.BackupRate > 0 {
		s.backupLimit = ratelimit.New(cfg.BackupRate)
	}
	if cfg.Copy.Rate > 0 {
		s.copyLimit = ratelimit.New(cfg.Copy.Rate)
	}
	if cfg.RestoreRate > 0 {
		s.restoreLimit = ratelimit.New(cfg.RestoreRate)
	}
	fail := func(err error) (*Service, error) {
		s.Close()
		return nil, err
	}
	s.cat, err = sqlite.Open(ctx, s.paths.Catalog, sqlite.Options{Clock: cfg.Clock})
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	for _, name := range cfg.Regions {
		r, err := s.openRegion(ctx, name)
		if err != nil {
			return fail(err)
		}
		s.regions[name] = r
	}
	if s.accessKey, err = loadSecretFile(filepath.Join(dir, "access-key")); err != nil {
		return fail(err)
	}
	runnerID, err := jobs.LoadID(filepath.Join(dir, "runner-id"))
	if err != nil {
		return fail(fmt.Errorf("service: %w", err))
	}
	s.runner = jobs.New(s.cat, jobs.Options{
		ID:            runnerID,
		Workers:       cfg.Jobs.Workers,
		Lease:         cfg.Jobs.Lease,
		Poll:          cfg.Jobs.Poll,
		ProgressEvery: cfg.Jobs.ProgressEvery,
		Logger:        cfg.Logger,
	})
	s.registerJobs()
	return s, nil
}

// openRegion opens the vault of a region, creating it and its passphrase
// on first use, and records the region in the catalog.
func (s *Service) openRegion(ctx context.Context, name string) (*region, error) {
	dir := filepath.Join(s.paths.Regions, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("region %s: %w", name, err))
	}
	pass, err := loadSecretFile(filepath.Join(dir, "passphrase"))
	if err != nil {
		return nil, fmt.Errorf("region %s: %w", name, err)
	}
	be, err := local.Open(filepath.Join(dir, "vault"))
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("region %s: %w", name, err))
	}
	var sb storage.Backend = be
	if s.cfg.WrapStorage != nil {
		sb = s.cfg.WrapStorage(name, be)
	}
	var v *vault.Vault
	_, err = vault.ReadConfig(ctx, sb)
	switch {
	case cairn.IsKind(err, cairn.NotExist):
		v, err = vault.Init(ctx, sb, pass, vault.Options{ChunkSize: s.cfg.ChunkSize, KDF: s.cfg.KDF, Clock: s.clock})
		if err == nil {
			s.log.Info("created the region's vault", "region", name, "dir", be.Location())
		}
	case err == nil:
		v, err = vault.Open(ctx, sb, pass, vault.Options{Clock: s.clock})
	}
	if err != nil {
		sb.Close()
		return nil, fmt.Errorf("region %s: vault: %w", name, err)
	}
	r := &region{name: name, dir: dir, vault: v}
	storage := be.Location()
	if cur, err := s.cat.GetRegion(ctx, name); err == nil && cur.Storage == storage {
		return r, nil
	} else if err != nil && !cairn.IsKind(err, cairn.NotExist) {
		v.Close()
		return nil, fmt.Errorf("region %s: %w", name, err)
	}
	if err := s.cat.PutRegion(ctx, &catalog.Region{Name: name, Storage: storage}); err != nil {
		v.Close()
		return nil, fmt.Errorf("region %s: %w", name, err)
	}
	return r, nil
}

// loadSecretFile returns the secret kept in the file at path, creating the
// file (mode 0600) with 32 random bytes, base64-encoded, when it does not
// exist.
func loadSecretFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		data = []byte(strings.TrimSpace(string(data)))
		if len(data) == 0 {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("%s is empty", path))
		}
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, cairn.E(cairn.IO, fmt.Errorf("read %s: %w", path, err))
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	secret := []byte(base64.RawURLEncoding.EncodeToString(b[:]))
	if err := writeFileAtomic(path, append(secret, '\n'), 0o600); err != nil {
		return nil, err
	}
	return secret, nil
}

// writeFileAtomic writes a file under a temporary name and renames it.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	var b [8]byte
	rand.Read(b[:])
	tmp := path + ".tmp-" + hex.EncodeToString(b[:])
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("write %s: %w", path, err))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return cairn.E(cairn.IO, fmt.Errorf("write %s: %w", path, err))
	}
	return nil
}

// Start starts the runner that executes queued operations, and resumes
// those that a previous run of the service left unfinished, and the
// scheduler that runs the policies (unless Config.Schedule.Off). It
// returns at once; Close stops both.
func (s *Service) Start(ctx context.Context) error {
	if err := s.runner.Start(ctx); err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.schedMu.Lock()
	s.stopSched = cancel
	s.schedMu.Unlock()
	if err := s.startScheduler(sctx); err != nil {
		cancel()
		return fmt.Errorf("service: policy scheduler: %w", err)
	}
	return nil
}

// Close stops the runner — running operations are interrupted but not
// finished, so that the next Start resumes them — and closes the vaults
// and the catalog. Calls after the first do nothing.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.schedMu.Lock()
		if s.stopSched != nil {
			s.stopSched()
		}
		s.schedMu.Unlock()
		s.bg.Wait()
		if s.runner != nil {
			s.runner.Stop()
		}
		var errs []error
		for _, r := range s.regions {
			errs = append(errs, r.vault.Close())
		}
		if s.cat != nil {
			errs = append(errs, s.cat.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Catalog returns the service's catalog, for the server's metrics. Callers
// must not change it.
func (s *Service) Catalog() catalog.Catalog { return s.cat }

// region returns the configured region name, or an error of kind kind.
func (s *Service) region(name string, kind cairn.Kind) (*region, error) {
	r := s.regions[name]
	if r == nil {
		if _, ok := s.knownRegion(name); ok {
			return nil, cairn.E(cairn.Unsupported, fmt.Errorf("region %s is not served by this server", name))
		}
		return nil, cairn.E(kind, fmt.Errorf("region %q does not exist (regions: %s)", name, strings.Join(s.cfg.Regions, ", ")))
	}
	return r, nil
}

func (s *Service) knownRegion(name string) (*catalog.Region, bool) {
	r, err := s.cat.GetRegion(context.Background(), name)
	return r, err == nil
}

// --- caller checks

// checkCaller fails for a Caller without a project.
func checkCaller(c Caller) error {
	if c.ProjectID == "" {
		return cairn.E(cairn.Permission, errors.New("the caller has no project"))
	}
	return nil
}

// own fails with cairn.NotExist unless projectID is the caller's.
func own(c Caller, projectID, what, id string) error {
	if projectID != c.ProjectID || projectID == "" {
		return catalog.NotFound(what, id)
	}
	return nil
}

// hide turns a catalog NotExist into one that names what the caller asked
// for, and leaves other errors alone.
func hide(err error, what, id string) error {
	if cairn.IsKind(err, cairn.NotExist) {
		return catalog.NotFound(what, id)
	}
	return err
}

func invalid(format string, args ...any) error {
	return cairn.E(cairn.Invalid, fmt.Errorf(format, args...))
}

// listAll collects every page of a list.
func listAll[T any](list func(catalog.Page) ([]*T, string, error)) ([]*T, error) {
	var all []*T
	page := catalog.Page{Size: catalog.MaxPageSize}
	for {
		items, next, err := list(page)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		page.Token = next
	}
}
