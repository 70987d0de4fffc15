package replicate_test

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/restore"
	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

const (
	cs   = 64 << 10
	pass = "secret"
)

// memDisk is a disk image in memory.
type memDisk struct{ b []byte }

func (m *memDisk) ReadAt(p []byte, off int64) (int, error) { return copy(p, m.b[off:]), nil }
func (m *memDisk) Size() int64                             { return int64(len(m.b)) }

func (m *memDisk) clone() *memDisk { return &memDisk{append([]byte(nil), m.b...)} }

// newDisk returns a disk of size bytes whose 64 KiB chunks are random
// (incompressible), text-like (compressible) or zeros.
func newDisk(size int, seed uint64) *memDisk { return newDiskChunks(size, cs, seed) }

// newDiskChunks is newDisk with chunks of chunk bytes.
func newDiskChunks(size, chunk int, seed uint64) *memDisk {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, size)
	for off := 0; off < size; off += chunk {
		fill(r, b[off:min(off+chunk, size)], r.IntN(5))
	}
	return &memDisk{b}
}

var words = []string{"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dogs\n", "kernel: ", "eth0 ", "link ", "up\n"}

// fill writes content of a kind into b: 0 zeros, 1–2 text, 3–4 random.
func fill(r *rand.Rand, b []byte, kind int) {
	switch kind {
	case 0:
		clear(b)
	case 1, 2:
		for i := 0; i < len(b); {
			w := words[r.IntN(len(words))]
			i += copy(b[i:], w)
		}
	default:
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	}
}

// change rewrites n 64 KiB chunks of d with new random content, at
// distinct chunk indexes chosen by seed.
func change(d *memDisk, n int, seed uint64) { changeChunks(d, n, cs, seed) }

// changeChunks is change with chunks of chunk bytes.
func changeChunks(d *memDisk, n, chunk int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 9))
	chunks := (len(d.b) + chunk - 1) / chunk
	for _, i := range r.Perm(chunks)[:n] {
		off := i * chunk
		fill(r, d.b[off:min(off+chunk, len(d.b))], 3)
	}
}

func newVaultAt(t testing.TB, dir string, chunkSize int) *vault.Vault {
	t.Helper()
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Init(context.Background(), be, []byte(pass), vault.Options{ChunkSize: chunkSize, KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newVault(t testing.TB) *vault.Vault {
	t.Helper()
	return newVaultAt(t, filepath.Join(t.TempDir(), "vault"), cs)
}

func openVault(t testing.TB, dir string) *vault.Vault {
	t.Helper()
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(context.Background(), be, []byte(pass), vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func dirOf(v *vault.Vault) string { return v.Backend().(*local.Backend).Location() }

// backupPoint makes a restore point of the disks, named os, data, ...
func backupPoint(t testing.TB, v *vault.Vault, tags map[string]string, disks ...*memDisk) *vault.RestorePoint {
	t.Helper()
	names := []string{"os", "data", "logs"}
	var bd []backup.Disk
	for i, d := range disks {
		bd = append(bd, backup.Disk{Name: names[i], Source: d})
	}
	res, err := backup.Run(context.Background(), v, bd, backup.Options{
		VM:          vault.VM{Name: "web", ID: "vm-web", Location: "west"},
		Consistency: vault.ApplicationConsistent,
		Tags:        tags,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Point
}

// restoreSums restores every disk of rp and returns the SHA-256 of each
// image, by disk name.
func restoreSums(t testing.TB, v *vault.Vault, rp *vault.RestorePoint) map[string][32]byte {
	t.Helper()
	dir := t.TempDir()
	out, err := restore.ToDir(context.Background(), v, rp, dir, restore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string][32]byte{}
	for _, r := range out {
		b, err := os.ReadFile(r.Path)
		if err != nil {
			t.Fatal(err)
		}
		sums[r.Disk] = sha256.Sum256(b)
	}
	return sums
}

func diskSums(disks ...*memDisk) map[string][32]byte {
	names := []string{"os", "data", "logs"}
	sums := map[string][32]byte{}
	for i, d := range disks {
		sums[names[i]] = sha256.Sum256(d.b)
	}
	return sums
}

func checkRestores(t testing.TB, v *vault.Vault, rp *vault.RestorePoint, disks ...*memDisk) {
	t.Helper()
	got, want := restoreSums(t, v, rp), diskSums(disks...)
	if len(got) != len(want) {
		t.Fatalf("restored %d disks, want %d", len(got), len(want))
	}
	for name, w := range want {
		if got[name] != w {
			t.Fatalf("disk %s of restore point %s restores to other bytes than the source disk", name, rp.ID[:8])
		}
	}
}

// chunkObjects returns the vault's chunk objects and their sizes.
func chunkObjects(t testing.TB, v *vault.Vault) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if err := v.Backend().List(context.Background(), chunkstore.ChunkPrefix, func(oi storage.ObjectInfo) error {
		out[oi.Name] = oi.Size
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func sumSizes(m map[string]int64) (n int64) {
	for _, s := range m {
		n += s
	}
	return n
}

func verifyClean(t testing.TB, v *vault.Vault) *vault.VerifyReport {
	t.Helper()
	rep, err := v.Verify(context.Background(), vault.VerifyOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify found damage: %+v %v", rep.Points, rep.VaultProblems)
	}
	return rep
}

// progressRecorder is a progress.Reporter that keeps totals.
type progressRecorder struct {
	mu           sync.Mutex
	total, done  map[string]int64
	started, end map[string]bool
}

func newProgress() *progressRecorder {
	return &progressRecorder{total: map[string]int64{}, done: map[string]int64{}, started: map[string]bool{}, end: map[string]bool{}}
}

func (p *progressRecorder) Start(item string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total[item], p.started[item] = total, true
}

func (p *progressRecorder) Add(item string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[item] += n
}

func (p *progressRecorder) Done(item string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.end[item] = true
}
