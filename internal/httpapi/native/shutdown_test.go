package native_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/httpapi/client"
	"github.com/cairn-vm/cairn/internal/httpapi/httpapitest"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// TestShutdownLeavesCopyResumable stops a server gracefully while a
// rate-limited copy runs, starts a new one on the same data directory,
// and sees the copy finish there.
func TestShutdownLeavesCopyResumable(t *testing.T) {
	const size = 8 << 20
	slow := func(c *service.Config) {
		c.Copy.Rate = size / 2 // about two seconds
		c.Jobs.Lease = time.Second
	}
	s := httpapitest.Start(t, httpapitest.Options{Service: slow})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := client.New(s.URL, client.Options{Token: s.AdminToken, CACert: s.CACert})
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "os.raw")
	data := make([]byte, size)
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
	cp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: west.ID, Name: "copy", SourcePointID: rp.RestorePoint.ID})
	if err != nil {
		t.Fatal(err)
	}
	for {
		op, err := c.GetOperation(ctx, cp.Operation.ID)
		if err != nil {
			t.Fatal(err)
		}
		if op.State == "running" {
			break
		}
		if op.Final() {
			t.Fatalf("the copy ended before the shutdown: %+v", op)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	s2 := httpapitest.Start(t, httpapitest.Options{Service: slow, DataDir: s.DataDir})
	c2, err := client.New(s2.URL, client.Options{Token: s2.AdminToken, CACert: s2.CACert})
	if err != nil {
		t.Fatal(err)
	}
	op, err := c2.GetOperation(ctx, cp.Operation.ID)
	if err != nil {
		t.Fatal(err)
	}
	if op.Final() {
		t.Fatalf("the shutdown finished the copy: %+v", op)
	}
	op, err = client.WaitOperation(ctx, c2, cp.Operation.ID, 50*time.Millisecond)
	if err != nil || op.State != "succeeded" || op.Attempt < 2 {
		t.Fatalf("the copy after the restart: %+v %v", op, err)
	}
	got, err := c2.GetRestorePoint(ctx, cp.RestorePoint.ID)
	if err != nil || !got.Restorable {
		t.Fatalf("copied point: %+v %v", got, err)
	}
}
