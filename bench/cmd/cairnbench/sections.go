package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/bytesize"
	"github.com/cairn-vm/cairn/bench/internal/diskfile"
	"github.com/cairn-vm/cairn/bench/internal/report"
	"github.com/cairn-vm/cairn/bench/internal/run"
	"github.com/cairn-vm/cairn/bench/internal/sections"
	"github.com/cairn-vm/cairn/bench/internal/tools"
)

// sections runs the service sections that -only selects: the cross-region
// copy, then status polling under load. (The CBR acceleration section,
// replicating a vault of several checkpoints with and without
// enable_acceleration, goes here once the CBR dialect exists.)
func (b *bench) sections(ctx context.Context) {
	c := b.cfg
	b.rep.Copy = &report.CopySection{Skipped: !b.selected("copy")}
	b.rep.Poll = &report.PollSection{Skipped: !b.selected("poll"), Clients: c.pollClients, Duration: c.pollFor}
	if !b.selected("copy") && !b.selected("poll") || ctx.Err() != nil {
		return
	}
	helper := filepath.Join(c.work, "bin", "cairnbench-internal")
	err := b.cairnErr
	if err != nil {
		err = fmt.Errorf("cairn %w", err)
	} else {
		b.logf("building the benchmark's service part: go build -o %s ./bench/cmd/cairnbench-internal", b.rel(helper))
		res := b.runner.Exec(ctx, run.Spec{Path: "go", Args: []string{"build", "-o", helper, "./bench/cmd/cairnbench-internal"}, Dir: b.root})
		if res.Err != nil {
			err = fmt.Errorf("build cairnbench-internal: %s", res.FirstLine())
		}
	}
	if err != nil {
		b.logf("%v", err)
		b.rep.Copy.Err, b.rep.Poll.Err = err.Error(), err.Error()
		return
	}
	if b.selected("copy") {
		b.copySection(ctx, helper)
	}
	if b.selected("poll") && ctx.Err() == nil {
		b.pollSection(ctx, helper)
	}
}

// cairnSpec runs the cairn binary with the benchmark's passphrase.
func (b *bench) cairnSpec(args ...string) run.Spec {
	return run.Spec{Path: b.cfg.cairnBin, Args: args, Dir: b.env.RunDir, Env: []string{"CAIRN_PASSWORD=" + tools.Password}}
}

// copySection measures the cross-region copy: a source vault holding
// restore points 1 (the base image) and 2 (the changed image) is copied,
// point by point, into a fresh destination vault, each run.
func (b *bench) copySection(ctx context.Context, helper string) {
	c := b.cfg
	cs := b.rep.Copy
	cs.ChangedBytes = b.chg.Bytes
	cs.Notes = []string{
		"The source vault is made once (`cairn vault init`, then `cairn backup --vm web --disk os=IMAGE` of the base image, then of the changed image: points 1 and 2); each run copies into a fresh destination vault (`cairn vault init`). Both vaults have cairn's default settings (1 MiB chunks, compression auto) and live on the same disk, as two regions' vaults do in `cairn serve`'s data directory.",
		"Bytes read and written are sealed (compressed, encrypted) chunk bytes, as the engine counts them; the growth is `du` of the destination vault, metadata included. MB/s = 10^6 bytes of the point's distinct non-zero chunk data per second of copy time.",
		"\"Touched\" chunks are the chunks (at the vault's chunk size) that overlap an extent of the change map: the most that the copy of point 2 should store after point 1's.",
		"Verification: the engine reads every chunk of the destination back and checks it against the source point's chunk ids before the commit; on top of that, points 1 and 2 are restored from the destination (`cairn restore`) after each run's copy and their SHA-256 compared with the base and changed images. \"Point 2 again\" is found in the destination (the same point id) and only verified.",
		"Page cache is not dropped: the source vault, just written, is mostly in the page cache. `sync` runs before each copy.",
	}
	if c.runs > 1 {
		cs.Notes = append(cs.Notes, fmt.Sprintf("Cells are medians of %d runs.", c.runs))
	}

	repos := filepath.Join(c.work, "repos")
	src, dst := filepath.Join(repos, "copy-src"), filepath.Join(repos, "copy-dst")
	for _, d := range []string{src, dst} {
		if err := os.RemoveAll(d); err != nil {
			cs.Err = err.Error()
			return
		}
		if !c.keep {
			defer os.RemoveAll(d)
		}
	}
	b.logf("copy: making the source vault (points 1 and 2)")
	p1, p2, err := b.copySource(ctx, src)
	if err != nil {
		cs.Err = "source vault: " + err.Error()
		b.logf("copy: %s", cs.Err)
		return
	}
	for i := 1; i <= c.runs && ctx.Err() == nil; i++ {
		if err := b.copyRun(ctx, helper, i, src, dst, p1, p2); err != nil {
			b.logf("copy run %d: %v", i, err)
		}
	}
	workers := "the default number of"
	for _, s := range cs.Samples {
		if s.Res.ChunkSize > 0 {
			cs.ChangedChunks = touchedChunks(b.chg.Extents, int64(s.Res.ChunkSize))
			workers = strconv.Itoa(s.Res.Workers)
			break
		}
	}
	cs.Notes = slices.Insert(cs.Notes, 1, "A copy is `replicate.Copy`, the engine the server's copy operation runs, with the server's defaults: "+workers+
		" workers, no rate limit, verification on. It runs in its own process (`cairnbench-internal copy`), one per copy; copy time is the engine's own (opening the vaults, i.e. key derivation, is not in it), CPU and peak RSS are the process's (GNU time).")
}

// copySource makes the source vault with two restore points, of the base
// image and of the changed image, and returns their ids.
func (b *bench) copySource(ctx context.Context, src string) (p1, p2 string, err error) {
	if _, err := b.runner.Output(ctx, b.cairnSpec("vault", "init", src)); err != nil {
		return "", "", err
	}
	var ids []string
	for _, img := range []string{b.img.Path, b.chg.Path} {
		if res := b.runner.Exec(ctx, b.cairnSpec("backup", src, "--vm", "web", "--disk", "os="+img)); res.Err != nil {
			return "", "", fmt.Errorf("backup of %s: %s", filepath.Base(img), res.FirstLine())
		}
		list, err := b.runner.Output(ctx, b.cairnSpec("list", src, "--json"))
		if err != nil {
			return "", "", err
		}
		id, err := tools.NewestID([]byte(list))
		if err != nil {
			return "", "", err
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] {
		return "", "", fmt.Errorf("both backups are restore point %s", ids[0])
	}
	return ids[0], ids[1], nil
}

// copyRun copies point 1, point 2 and point 2 again into a fresh
// destination vault and restores points 1 and 2 from it.
func (b *bench) copyRun(ctx context.Context, helper string, runNo int, src, dst, p1, p2 string) error {
	cs := b.rep.Copy
	fail := func(phase string, err error) error {
		cs.Samples = append(cs.Samples, report.CopySample{Run: runNo, Phase: phase, Err: err.Error()})
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return fail(sections.CopyFirst, err)
	}
	if _, err := b.runner.Output(ctx, b.cairnSpec("vault", "init", dst)); err != nil {
		return fail(sections.CopyFirst, fmt.Errorf("destination vault: %w", err))
	}
	var changedDest string
	for _, phase := range sections.CopyPhases {
		point, want := p2, b.chg.SHA256
		if phase == sections.CopyFirst {
			point, want = p1, b.img.SHA256
		}
		before, err := diskfile.DiskUsage(dst)
		if err != nil {
			return fail(phase, err)
		}
		syscall.Sync()
		res := b.runner.Exec(ctx, run.Spec{Path: helper, Args: []string{"copy", "-src", src, "-dst", dst, "-point", point},
			Env: []string{"CAIRN_PASSWORD=" + tools.Password}})
		s := report.CopySample{Run: runNo, Phase: phase, Wall: res.Wall, CPU: res.User + res.Sys, MaxRSS: res.MaxRSS}
		if res.Err != nil {
			s.Err = res.FirstLine()
		} else if err := json.Unmarshal(res.Stdout, &s.Res); err != nil {
			s.Err = fmt.Sprintf("cairnbench-internal copy printed no result: %v", err)
		}
		if s.Err != "" {
			cs.Samples = append(cs.Samples, s)
			b.logf("copy run %d/%d %-7s ERROR: %s", runNo, b.cfg.runs, phase, s.Err)
			return errors.New(s.Err)
		}
		after, err := diskfile.DiskUsage(dst)
		if err != nil {
			return fail(phase, err)
		}
		s.Growth = after - before
		switch phase {
		case sections.CopyAgain:
			if s.Res.DestPoint != changedDest {
				s.Err = fmt.Sprintf("copying point 2 again made point %s, not %s", s.Res.DestPoint, changedDest)
			}
		default:
			if phase == sections.CopyChanged {
				changedDest = s.Res.DestPoint
			}
			s.Restore = b.restoreCopy(ctx, dst, s.Res.DestPoint, want)
		}
		cs.Samples = append(cs.Samples, s)
		b.logf("copy run %d/%d %-7s %6.2fs (verify %.2fs)  %6.1f MB/s  read %s  wrote %s  stored %d chunks, had %d  restore %s",
			runNo, b.cfg.runs, phase, s.Res.Seconds, s.Res.VerifySeconds, float64(s.Res.DataBytes)/1e6/max(s.Res.Seconds, 1e-9),
			bytesize.Format(s.Res.BytesRead), bytesize.Format(s.Res.BytesWritten), s.Res.ChunksCopied, s.Res.ChunksSkipped, orNone(s.Restore))
		if s.Err != "" {
			return errors.New(s.Err)
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// restoreCopy restores point id of the destination vault and compares its
// SHA-256 with want: "ok", or what went wrong.
func (b *bench) restoreCopy(ctx context.Context, vaultDir, id, want string) string {
	out := filepath.Join(b.cfg.work, "restore", "copy")
	if err := os.RemoveAll(out); err != nil {
		return "error: " + err.Error()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "error: " + err.Error()
	}
	defer os.RemoveAll(out)
	if res := b.runner.Exec(ctx, b.cairnSpec("restore", vaultDir, id, "--to", out+string(filepath.Separator))); res.Err != nil {
		return "error: restore: " + res.FirstLine()
	}
	sum, n, err := diskfile.HashFile(filepath.Join(out, "os.raw"))
	if err != nil {
		return "error: " + err.Error()
	}
	if n != b.img.Size || sum != want {
		b.badData = true
		fmt.Fprintf(os.Stderr, "\n!!! copy: THE DESTINATION'S POINT %s DIFFERS FROM THE IMAGE: %d bytes, sha256 %s, want %s\n\n", id, n, sum[:16], want[:16])
		return fmt.Sprintf("%d bytes, sha256 %s…, want %s…", n, sum[:16], want[:16])
	}
	return "ok"
}

// touchedChunks counts the chunks of chunkSize bytes that overlap an
// extent.
func touchedChunks(exts []diskfile.Extent, chunkSize int64) int64 {
	seen := map[int64]bool{}
	for _, e := range exts {
		if e.Length <= 0 {
			continue
		}
		for i := e.Offset / chunkSize; i <= (e.End()-1)/chunkSize; i++ {
			seen[i] = true
		}
	}
	return int64(len(seen))
}

// pollSection measures status polling under load: cairnbench-internal
// poll starts cairn serve and drives it.
func (b *bench) pollSection(ctx context.Context, helper string) {
	c := b.cfg
	ps := b.rep.Poll
	data := filepath.Join(c.work, "serve")
	serverLog := filepath.Join(c.work, "logs", "serve-"+time.Now().UTC().Format("20060102T150405Z")+".log")
	ps.Notes = []string{
		fmt.Sprintf("`cairn serve --data %s --listen 127.0.0.1:0 --regions eastus,westus,…` on a fresh data directory (TLS with its self-signed certificate, default settings: no copy rate limit); its log is %s.", b.rel(data), b.rel(serverLog)),
		"Through the native API: a VM whose disk is the base image is registered in eastus, a collection made for it and a restore point (a backup, run by the server); then a collection in westus copying the first, and a copy of the restore point into it. The polls start once that copy's operation is running.",
		fmt.Sprintf("The load generator (`internal/httpapi/loadtest`) runs %d clients, each with one keep-alive HTTP/1.1 connection over loopback, polling the copy's ARM URL with the admin token; latencies are of successful requests (nearest-rank percentiles), requests/s counts successful ones, errors are transport errors and statuses other than 200. It runs on the same machine as the server, sharing its CPUs with it and with the copy.", c.pollClients),
		"The server has no copy rate limit to set, so instead of slowing the copy down the benchmark keeps one running: whenever the running copy ends before the window does, it starts another copy of the restore point into the next region (further collections, regions given to `--regions`). The polled URL stays that of the first copy. The report says how much of the window a copy ran.",
		"\"No copy running\" polls the same URL after every copy has ended. Both polls run once per benchmark, not once per run.",
	}
	if err := os.RemoveAll(data); err != nil {
		ps.Err = err.Error()
		return
	}
	if !c.keep {
		defer os.RemoveAll(data)
	}
	b.logf("poll: cairn serve, %d clients for %v while a copy runs, then without", c.pollClients, c.pollFor)
	res := b.runner.Exec(ctx, run.Spec{Path: helper, Args: []string{"poll", "-cairn", c.cairnBin, "-data", data, "-image", b.img.Path,
		"-clients", strconv.Itoa(c.pollClients), "-duration", c.pollFor.String(), "-spare-regions", strconv.Itoa(c.pollRegions),
		"-server-log", serverLog}})
	if res.Err != nil {
		ps.Err = res.FirstLine()
		b.logf("poll: %s", ps.Err)
		return
	}
	var pr sections.PollResult
	if err := json.Unmarshal(res.Stdout, &pr); err != nil {
		ps.Err = fmt.Sprintf("cairnbench-internal poll printed no result: %v", err)
		return
	}
	ps.Res = &pr
	for _, l := range []struct {
		name string
		l    sections.Load
	}{{"while copying", pr.Loaded}, {"no copy", pr.Idle}} {
		b.logf("poll %-13s %d requests, %.0f/s, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms, %d errors",
			l.name, l.l.Requests, l.l.Throughput, l.l.P50, l.l.P90, l.l.P99, l.l.Max, l.l.Errors)
	}
	b.logf("poll: a copy ran for %.1f of %.1f s", pr.CopySeconds, pr.Loaded.Seconds)
}
