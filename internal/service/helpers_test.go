package service

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/vault"
)

// testChunk is the chunk size of test vaults: small, so that small images
// have many chunks.
const testChunk = 64 << 10

// testConfig returns a Config for a service in dir that is fast to open
// and quick to react.
func testConfig(dir string) Config {
	return Config{
		DataDir:   dir,
		KDF:       &vault.TestKDF,
		ChunkSize: testChunk,
		Jobs:      JobsConfig{Workers: 3, Lease: 3 * time.Second, Poll: 20 * time.Millisecond, ProgressEvery: 20 * time.Millisecond},
	}
}

// openTest opens and starts a service; it is closed when the test ends.
func openTest(t *testing.T, cfg Config) *Service {
	t.Helper()
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// admin bootstraps s and returns the admin caller of the default project.
func admin(t *testing.T, s *Service) Caller {
	t.Helper()
	b, err := s.Bootstrap(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	secret, err := s.ReadAdminToken()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Authenticate(t.Context(), secret)
	if err != nil {
		t.Fatal(err)
	}
	if c.ProjectID != b.Project.ID || !c.Admin {
		t.Fatalf("admin caller %+v, project %s", c, b.Project.ID)
	}
	return c
}

// writeImage writes a disk image of size bytes: random data with runs of
// zeros, the same for the same seed.
func writeImage(t *testing.T, path string, size int64, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed+1))
	buf := make([]byte, size)
	for off := int64(0); off < size; off += testChunk / 2 {
		end := min(off+testChunk/2, size)
		if r.IntN(4) == 0 {
			continue // zeros
		}
		for i := off; i < end; i += 8 {
			v := r.Uint64()
			for j := int64(0); j < 8 && i+j < end; j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readerSHA reads r in 1 MiB pieces with ReadAt and hashes it.
func readerSHA(t *testing.T, r DiskReader) string {
	t.Helper()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < r.Size(); {
		n, err := r.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			t.Fatalf("ReadAt %d: %v", off, err)
		}
		if n == 0 {
			t.Fatalf("ReadAt %d: no bytes", off)
		}
		h.Write(buf[:n])
		off += int64(n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// testVM makes two disk images in dir and registers a VM of them.
type testVM struct {
	vm    *catalog.Resource
	paths map[string]string // disk name -> image
	sums  map[string]string // disk name -> SHA-256
}

func registerTestVM(t *testing.T, s *Service, c Caller, dir, name, region string, sizes ...int64) *testVM {
	t.Helper()
	if len(sizes) == 0 {
		sizes = []int64{3 << 20, 2<<20 + 12345}
	}
	tv := &testVM{paths: map[string]string{}, sums: map[string]string{}}
	var disks []DiskSpec
	for i, size := range sizes {
		dname := name + "-os"
		if i > 0 {
			dname = name + "-data" + string(rune('0'+i))
		}
		p := filepath.Join(dir, dname+".raw")
		writeImage(t, p, size, uint64(len(name)*100+i))
		tv.paths[dname], tv.sums[dname] = p, fileSHA(t, p)
		d := DiskSpec{Name: dname, Path: "file://" + p, OS: i == 0, Lun: i - 1}
		if i == 0 {
			d.Lun = 0
		}
		disks = append(disks, d)
	}
	vm, created, err := s.RegisterVM(t.Context(), c, VMSpec{
		ResourceGroup: "rg1",
		Name:          name,
		Region:        region,
		Disks:         disks,
		Profile:       []byte(`{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"osProfile":{"computerName":"` + name + `"}}`),
	})
	if err != nil || !created {
		t.Fatalf("register VM: %v (created %v)", err, created)
	}
	// A profile without a storageProfile gets one naming the OS disk.
	var prof struct {
		HardwareProfile struct{ VMSize string }
		StorageProfile  struct {
			OSDisk    struct{ Name string }
			DataDisks []struct{ Name string }
		}
	}
	if err := json.Unmarshal(vm.Profile, &prof); err != nil || prof.HardwareProfile.VMSize == "" ||
		prof.StorageProfile.OSDisk.Name != name+"-os" || len(prof.StorageProfile.DataDisks) != len(sizes)-1 {
		t.Fatalf("VM profile %s (%v): want the given hardwareProfile and a storageProfile with OS disk %s-os", vm.Profile, err, name)
	}
	tv.vm = vm
	return tv
}

// wait waits for an operation to end and returns it.
func wait(t *testing.T, s *Service, c Caller, id string) *catalog.Operation {
	t.Helper()
	ctx, cancel := contextWithTimeout(t, 40*time.Second)
	defer cancel()
	op, err := s.WaitOperation(ctx, c, id)
	if err != nil {
		t.Fatalf("wait for operation %s: %v", id, err)
	}
	return op
}

func mustSucceed(t *testing.T, s *Service, c Caller, op *catalog.Operation) *catalog.Operation {
	t.Helper()
	got := wait(t, s, c, op.ID)
	if got.State != catalog.OpSucceeded {
		t.Fatalf("operation %s (%s): %s, %+v", op.ID, op.Kind, got.State, got.Error)
	}
	return got
}

func wantKind(t *testing.T, what string, err error, kind cairn.Kind) {
	t.Helper()
	if !cairn.IsKind(err, kind) {
		t.Errorf("%s: error %v (kind %v), want kind %v", what, err, cairn.KindOf(err), kind)
	}
}

// dirBytes returns the bytes of the files below dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// offsetClock is the real clock moved by an offset that tests change.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

func jsonUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}
