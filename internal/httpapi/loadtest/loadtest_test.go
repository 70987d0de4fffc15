package loadtest_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/arm"
	"github.com/cairn-vm/cairn/internal/httpapi/client"
	"github.com/cairn-vm/cairn/internal/httpapi/httpapitest"
	"github.com/cairn-vm/cairn/internal/httpapi/loadtest"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// Environment variables that make TestPollWhileCopying a benchmark: the
// number of clients (default 32) and the seconds each poll runs (default
// 1; at most 2 when unset).
const (
	clientsEnv = "CAIRN_LOADTEST_CLIENTS"
	secondsEnv = "CAIRN_LOADTEST_SECONDS"
)

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

// TestPollWhileCopying polls a restore point's status (the native GET and
// ARM's GET ...?$expand=instanceView) from many clients while a
// rate-limited cross-region copy runs, and logs the latency percentiles:
//
//	CAIRN_LOADTEST_CLIENTS=200 CAIRN_LOADTEST_SECONDS=10 go test -run TestPollWhileCopying -v ./internal/httpapi/loadtest
func TestPollWhileCopying(t *testing.T) {
	clients := envInt(t, clientsEnv, 32)
	seconds := envInt(t, secondsEnv, 1)
	poll := time.Duration(seconds) * time.Second
	if os.Getenv(secondsEnv) == "" && poll > 2*time.Second {
		poll = 2 * time.Second
	}
	const diskSize = 32 << 20
	s := httpapitest.Start(t, httpapitest.Options{
		Dialects: []httpapi.Dialect{arm.New(arm.Options{})},
		Service: func(c *service.Config) {
			// Slow enough that the copy outlasts the polls.
			c.Copy.Rate = int64(diskSize) / int64(2*seconds+4)
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.New(s.URL, client.Options{Token: s.AdminToken, CACert: s.CACert})
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "os.raw")
	data := make([]byte, diskSize)
	rand.Read(data)
	if err := os.WriteFile(img, data, 0o600); err != nil {
		t.Fatal(err)
	}
	vm, _, err := c.RegisterVM(ctx, nativeapi.VMSpec{ResourceGroup: "rg", Name: "web", Region: "eastus",
		Disks: []nativeapi.DiskSpec{{Name: "os", Path: img, OS: true}}})
	if err != nil {
		t.Fatal(err)
	}
	east, _, err := c.CreateVault(ctx, nativeapi.VaultSpec{ResourceGroup: "rg", Name: "east", SourceResourceID: vm.ID})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: east.ID, Name: "rp1"})
	if err != nil {
		t.Fatal(err)
	}
	if op, err := client.WaitOperation(ctx, c, rp.Operation.ID, 20*time.Millisecond); err != nil || op.State != "succeeded" {
		t.Fatalf("backup: %+v %v", op, err)
	}
	west, _, err := c.CreateVault(ctx, nativeapi.VaultSpec{ResourceGroup: "rg", Name: "west", Region: "westus", SourceVaultID: east.ID})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: west.ID, Name: "rp1-copy", SourcePointID: rp.RestorePoint.ID})
	if err != nil {
		t.Fatal(err)
	}

	targets := []struct{ name, url string }{
		{"native", s.URL + "/cairn/v1/restorePoints/" + url.PathEscape(cp.RestorePoint.ID)},
		{"arm-instanceView", s.URL + "/subscriptions/" + s.ProjectID + "/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/west/restorePoints/rp1-copy?api-version=2024-03-01&$expand=instanceView"},
	}
	for _, target := range targets {
		res, err := loadtest.RunWith(ctx, target.url, s.AdminToken, clients, poll, loadtest.Options{CACert: s.CACert})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", target.name, res)
		if res.Errors > 0 || res.Requests == 0 || res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
			t.Errorf("%s: %+v", target.name, res)
		}
	}
	op, err := c.GetOperation(ctx, cp.Operation.ID)
	if err != nil {
		t.Fatal(err)
	}
	if op.Final() {
		t.Logf("the copy finished before the polls did: %+v", op)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		url      string
		clients  int
		duration time.Duration
	}{
		{"https://192.0.2.1:8443/x", 1, time.Millisecond}, // not loopback
		{"https://example.com/x", 1, time.Millisecond},    // not loopback
		{"ftp://127.0.0.1/x", 1, time.Millisecond},
		{"https://127.0.0.1:1/x", 0, time.Millisecond},
		{"https://127.0.0.1:1/x", 1, 0},
		{"https://127.0.0.1:1/x", 1, time.Hour},
	}
	for _, tc := range cases {
		if _, err := loadtest.Run(ctx, tc.url, "", tc.clients, tc.duration); !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("%s, %d clients, %v: %v", tc.url, tc.clients, tc.duration, err)
		}
	}
	// A server that is not there: errors counted, no panic.
	res, err := loadtest.Run(ctx, "https://127.0.0.1:1/x", "", 2, 50*time.Millisecond)
	if err != nil || res.Errors == 0 || res.FirstError == "" {
		t.Errorf("no server: %+v %v", res, err)
	}
}
