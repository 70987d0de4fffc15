package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/sections"
	"github.com/cairn-vm/cairn/internal/replicate"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

type copyOptions struct {
	src, dst, point string
	workers         int
}

// runCopy copies one restore point with the replicate engine, as the
// server's copy operation does (same defaults: verification on, no rate
// limit), and reports what moved.
func runCopy(ctx context.Context, o copyOptions) (*sections.CopyResult, error) {
	if o.src == "" || o.dst == "" || o.point == "" {
		return nil, errors.New("copy: -src, -dst and -point are required")
	}
	pass := os.Getenv("CAIRN_PASSWORD")
	if pass == "" {
		return nil, errors.New("copy: set CAIRN_PASSWORD")
	}
	t0 := time.Now()
	src, err := openVault(ctx, o.src, pass)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, err := openVault(ctx, o.dst, pass)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	defer dst.Close()
	open := time.Since(t0)

	workers := o.workers
	if workers <= 0 {
		workers = replicate.DefaultWorkers
	}
	r, err := replicate.Copy(ctx, src, dst, o.point, replicate.Options{Workers: workers})
	if err != nil {
		return nil, err
	}
	logf("copied %s to %s in %.2f s: read %d B, wrote %d B, %d chunks copied, %d skipped, verified %v",
		o.point, r.Point.ID, r.Duration.Seconds(), r.BytesRead, r.BytesWritten, r.ChunksCopied, r.ChunksSkipped, r.Verified)
	return &sections.CopyResult{
		SourcePoint: o.point, DestPoint: r.Point.ID, ChunkSize: src.ChunkSize(), Workers: workers,
		Existed: r.Existed, Verified: r.Verified,
		DataBytes: r.DataBytes, Chunks: r.Chunks, BytesRead: r.BytesRead, BytesWritten: r.BytesWritten,
		ChunksRead: r.ChunksRead, ChunksCopied: r.ChunksCopied, ChunksSkipped: r.ChunksSkipped, MapHits: r.MapHits,
		Seconds: r.Duration.Seconds(), VerifySeconds: r.VerifyDuration.Seconds(), OpenSeconds: open.Seconds(),
		Warnings: r.Warnings,
	}, nil
}

func openVault(ctx context.Context, dir, pass string) (*vault.Vault, error) {
	be, err := local.Open(dir)
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(ctx, be, []byte(pass), vault.Options{})
	if err != nil {
		be.Close()
		return nil, err
	}
	return v, nil
}
