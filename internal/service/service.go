// Package service is cairn's transport-neutral API: the operations that
// every dialect (ARM, CBR, ZStack, the native JSON API) and the local
// commands call. It owns the data directory, checks every caller against
// the records it touches, validates every input before anything changes,
// and queues long-running work as persisted operations that the runner of
// package jobs executes.
package service

import (
	"context"
	"log/slog"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/clock"
)

// Service is an open data directory. It is safe for concurrent use.
type Service struct {
	cfg   Config
	paths Paths
	cat   catalog.Catalog
	clock clock.Clock
	log   *slog.Logger
}

// Open opens (creating as needed) the data directory cfg.DataDir: its
// catalog, and the vault of every region, each initialised on first use.
// It does not run operations: Start does. Close releases it.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	return nil, errNotYet
}

// Start starts the runner that executes queued operations, and resumes
// those that a previous run of the service left unfinished. It returns
// at once.
func (s *Service) Start(ctx context.Context) error { return errNotYet }

// Close stops the runner — running operations are interrupted but not
// finished, so that the next Start resumes them — and closes the vaults
// and the catalog.
func (s *Service) Close() error { return nil }

// Catalog returns the service's catalog, for the server's token checks and
// metrics. Dialects must not write to it.
func (s *Service) Catalog() catalog.Catalog { return s.cat }
