package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/sections"
	"github.com/cairn-vm/cairn/internal/httpapi/client"
	"github.com/cairn-vm/cairn/internal/httpapi/loadtest"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
	"github.com/cairn-vm/cairn/internal/service"
)

type pollOptions struct {
	cairn, data, image, serverLog string
	clients                       int
	duration                      time.Duration
	spare                         int
	apiVersion                    string
}

// spareRegions are the regions, beyond eastus and westus, that further
// copies go to when the first copy ends before the loaded window does.
var spareRegions = []string{"westus2", "westus3", "centralus", "northeurope", "westeurope", "eastasia"}

const resourceGroup = "bench"

// runPoll starts cairn serve on a fresh data directory, registers a VM
// whose disk is the image, backs it up in eastus, starts a copy of that
// restore point to westus, and polls the copy's ARM GET
// ...?$expand=instanceView with the load generator while copies run; then,
// when every copy has finished, polls the same URL again.
func runPoll(ctx context.Context, o pollOptions) (*sections.PollResult, error) {
	if o.data == "" || o.image == "" {
		return nil, errors.New("poll: -data and -image are required")
	}
	if o.spare < 0 || o.spare > len(spareRegions) {
		return nil, fmt.Errorf("poll: -spare-regions %d: want 0 to %d", o.spare, len(spareRegions))
	}
	image, err := filepath.Abs(o.image)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(o.data); err != nil {
		return nil, err
	}
	regions := append([]string{"eastus", "westus"}, spareRegions[:o.spare]...)
	srv, err := startServer(ctx, o, regions)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	logf("cairn serve at %s (pid %d), regions %s", srv.banner.URL, srv.cmd.Process.Pid, strings.Join(regions, ","))

	c, err := client.New(srv.banner.URL, client.Options{Token: srv.banner.AdminToken, CACert: srv.banner.CACert})
	if err != nil {
		return nil, err
	}
	who, err := c.WhoAmI(ctx)
	if err != nil {
		return nil, fmt.Errorf("whoami: %w", err)
	}
	vm, _, err := c.RegisterVM(ctx, nativeapi.VMSpec{ResourceGroup: resourceGroup, Name: "web", Region: "eastus",
		Disks: []nativeapi.DiskSpec{{Name: "os", Path: image, OS: true}}})
	if err != nil {
		return nil, fmt.Errorf("register the VM: %w", err)
	}
	east, _, err := c.CreateVault(ctx, nativeapi.VaultSpec{ResourceGroup: resourceGroup, Name: "web-eastus", SourceResourceID: vm.ID})
	if err != nil {
		return nil, fmt.Errorf("create the eastus collection: %w", err)
	}
	rp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: east.ID, Name: "rp1"})
	if err != nil {
		return nil, fmt.Errorf("create the restore point: %w", err)
	}
	bop, err := finalOp(ctx, c, rp.Operation.ID)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if bop.State != "succeeded" {
		return nil, fmt.Errorf("backup %s: %s", bop.State, opError(bop))
	}
	res := &sections.PollResult{BackupSeconds: opSeconds(bop)}
	logf("backed up %s in %.2f s", image, res.BackupSeconds)

	// startCopy creates a collection in region that copies eastus's, and a
	// copy of rp1 in it, and returns the copy's operation id.
	startCopy := func(ctx context.Context, region string) (string, error) {
		v, _, err := c.CreateVault(ctx, nativeapi.VaultSpec{ResourceGroup: resourceGroup, Name: "web-" + region, Region: region, SourceVaultID: east.ID})
		if err != nil {
			return "", fmt.Errorf("create the %s collection: %w", region, err)
		}
		cp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: v.ID, Name: "rp1-copy", SourcePointID: rp.RestorePoint.ID})
		if err != nil {
			return "", fmt.Errorf("copy to %s: %w", region, err)
		}
		return cp.Operation.ID, nil
	}
	type tracked struct{ region, op string }
	first, err := startCopy(ctx, "westus")
	if err != nil {
		return nil, err
	}
	copies := []tracked{{"westus", first}}
	// The window starts once the copy does.
	for {
		op, err := c.GetOperation(ctx, first)
		if err != nil {
			return nil, err
		}
		if op.State == "running" {
			break
		}
		if op.Final() {
			return nil, fmt.Errorf("the copy ended (%s) before polling could start: %s", op.State, opError(op))
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return nil, err
		}
	}

	armPath := func(sub string) string {
		return "/subscriptions/" + sub + "/resourceGroups/" + resourceGroup +
			"/providers/Microsoft.Compute/restorePointCollections/web-westus/restorePoints/rp1-copy?$expand=instanceView&api-version=" + url.QueryEscape(o.apiVersion)
	}
	res.Path = armPath("{subscription}")
	target := srv.banner.URL + armPath(url.PathEscape(who.ProjectID))
	lopts := loadtest.Options{CACert: srv.banner.CACert}
	// One client for a moment: the URL answers 200, and the server has
	// served it once.
	if w, err := loadtest.RunWith(ctx, target, srv.banner.AdminToken, 1, 200*time.Millisecond, lopts); err != nil {
		return nil, err
	} else if w.Errors > 0 || w.Requests == 0 {
		return nil, fmt.Errorf("GET %s: %s", res.Path, w.FirstError)
	}

	// While the clients poll, a watcher starts a copy into the next spare
	// region whenever the running one ends, so that a copy runs for the
	// whole window.
	var (
		mu       sync.Mutex
		watchErr error
		wg       sync.WaitGroup
	)
	loadCtx, endLoad := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		next := 0
		for sleep(loadCtx, 50*time.Millisecond) == nil {
			mu.Lock()
			cur := copies[len(copies)-1]
			mu.Unlock()
			op, err := c.GetOperation(loadCtx, cur.op)
			if err != nil || !op.Final() {
				continue
			}
			if op.State != "succeeded" || next >= o.spare {
				return
			}
			region := spareRegions[next]
			next++
			id, err := startCopy(loadCtx, region)
			if err != nil {
				if loadCtx.Err() == nil {
					mu.Lock()
					watchErr = err
					mu.Unlock()
				}
				return
			}
			mu.Lock()
			copies = append(copies, tracked{region, id})
			mu.Unlock()
			logf("the copy to %s ended; started one to %s", cur.region, region)
		}
	}()
	logf("polling %s with %d clients for %v while the copy runs", res.Path, o.clients, o.duration)
	loadStart := time.Now()
	loaded, err := loadtest.RunWith(ctx, target, srv.banner.AdminToken, o.clients, o.duration, lopts)
	endLoad()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if watchErr != nil {
		return nil, watchErr
	}
	res.Loaded = toLoad(loaded)
	logf("while copying: %s", loaded)

	// Let every copy finish.
	window := loaded.Duration.Seconds()
	var all, polled []span
	for i, t := range copies {
		op, err := finalOp(ctx, c, t.op)
		if err != nil {
			return nil, fmt.Errorf("copy to %s: %w", t.region, err)
		}
		pc := sections.PollCopy{Region: t.region, State: op.State, Error: opError(op)}
		if op.Started != nil {
			pc.Start = op.Started.Sub(loadStart).Seconds()
		}
		if op.Ended != nil {
			pc.End = op.Ended.Sub(loadStart).Seconds()
		}
		var cr service.CopyResult
		if len(op.Result) > 0 {
			if err := json.Unmarshal(op.Result, &cr); err != nil {
				return nil, fmt.Errorf("copy to %s: result: %w", t.region, err)
			}
		}
		pc.BytesRead, pc.BytesWritten, pc.ChunksCopied, pc.Verified = cr.BytesRead, cr.BytesWritten, cr.ChunksCopied, cr.Verified
		res.Copies = append(res.Copies, pc)
		all = append(all, span{pc.Start, pc.End})
		if i == 0 {
			polled = append(polled, span{pc.Start, pc.End})
		}
		if op.State != "succeeded" {
			return nil, fmt.Errorf("copy to %s %s: %s", t.region, op.State, pc.Error)
		}
		logf("copy to %s: %.2f s (%.2f–%.2f s of the window), wrote %d B", t.region, pc.End-pc.Start, pc.Start, pc.End, pc.BytesWritten)
	}
	res.CopySeconds = covered(all, window)
	res.PolledCopySeconds = covered(polled, window)

	logf("polling %s with %d clients for %v, no copy running", res.Path, o.clients, o.duration)
	idle, err := loadtest.RunWith(ctx, target, srv.banner.AdminToken, o.clients, o.duration, lopts)
	if err != nil {
		return nil, err
	}
	res.Idle = toLoad(idle)
	logf("idle: %s", idle)
	res.ServerPeakRSS = peakRSS(srv.cmd.Process.Pid)
	return res, nil
}

// server is a running cairn serve.
type server struct {
	cmd    *exec.Cmd
	banner struct {
		URL        string `json:"url"`
		AdminToken string `json:"adminToken"`
		CACert     string `json:"caCert"`
	}
	done chan error
	log  *os.File
}

// startServer starts cairn serve on a free loopback port and reads its
// JSON banner.
func startServer(ctx context.Context, o pollOptions, regions []string) (*server, error) {
	s := &server{done: make(chan error, 1)}
	s.cmd = exec.Command(o.cairn, "serve", "--data", o.data, "--listen", "127.0.0.1:0",
		"--regions", strings.Join(regions, ","), "--json", "--log-format", "json")
	s.cmd.Stderr = io.Discard
	if o.serverLog != "" {
		f, err := os.Create(o.serverLog)
		if err != nil {
			return nil, err
		}
		s.log, s.cmd.Stderr = f, f
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start cairn serve: %w", err)
	}
	banner := make(chan error, 1)
	go func() {
		br := bufio.NewReader(stdout)
		banner <- json.NewDecoder(br).Decode(&s.banner)
		io.Copy(io.Discard, br)
		s.done <- s.cmd.Wait()
	}()
	select {
	case err = <-banner:
	case <-time.After(2 * time.Minute):
		err = errors.New("no banner after 2 minutes")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil && (s.banner.URL == "" || s.banner.AdminToken == "") {
		err = fmt.Errorf("banner without URL or admin token: %+v", s.banner)
	}
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("cairn serve: %w (see its log)", err)
	}
	return s, nil
}

// stop ends the server with SIGTERM, and SIGKILL if it has not exited
// after 30 s.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	if s.log != nil {
		s.log.Close()
	}
}

// finalOp waits, up to 30 minutes, for operation id to end.
func finalOp(ctx context.Context, c *client.Client, id string) (*nativeapi.Operation, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	return client.WaitOperation(ctx, c, id, 50*time.Millisecond)
}

func opSeconds(op *nativeapi.Operation) float64 {
	if op.Started == nil || op.Ended == nil {
		return 0
	}
	return op.Ended.Sub(*op.Started).Seconds()
}

func opError(op *nativeapi.Operation) string {
	if op.Error == nil {
		return ""
	}
	return op.Error.Code + ": " + op.Error.Message
}

func toLoad(r loadtest.Result) sections.Load {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return sections.Load{Clients: r.Clients, Seconds: r.Duration.Seconds(), Requests: r.Requests, Errors: r.Errors,
		FirstError: r.FirstError, Throughput: r.Throughput, P50: ms(r.P50), P90: ms(r.P90), P99: ms(r.P99), Max: ms(r.Max)}
}

// span is an interval in seconds.
type span struct{ from, to float64 }

// covered returns how much of [0, window] the union of spans covers.
func covered(spans []span, window float64) float64 {
	slices.SortFunc(spans, func(a, b span) int {
		switch {
		case a.from < b.from:
			return -1
		case a.from > b.from:
			return 1
		}
		return 0
	})
	var total, reach float64
	for _, s := range spans {
		from, to := max(s.from, reach, 0), min(s.to, window)
		if to > from {
			total += to - from
		}
		reach = max(reach, s.to)
	}
	return total
}

// peakRSS returns the VmHWM of process pid in bytes, or 0.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
