package chunkstore

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage/local"
)

func testKeys(t *testing.T) *Keys {
	t.Helper()
	mk, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := DeriveKeys(mk)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestSealOpenChunk(t *testing.T) {
	k := testKeys(t)
	s := New(nil, k, CompressionAuto, 1<<20)
	h := k.NewHasher()
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 20000)[:1<<19]
	random := randomBytes(1<<19, 1)
	cases := []struct {
		name       string
		data       []byte
		compressed bool
	}{
		{"text", text, true},
		{"random", random, false},
		{"one byte", []byte{7}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := h.Sum(c.data)
			sealed := s.SealChunk(nil, id, c.data)
			if c.compressed && len(sealed) > len(c.data)/2 {
				t.Fatalf("compressible chunk sealed to %d of %d bytes", len(sealed), len(c.data))
			}
			if !c.compressed && len(sealed) != len(c.data)+Overhead {
				t.Fatalf("incompressible chunk sealed to %d bytes, want %d (stored as is)", len(sealed), len(c.data)+Overhead)
			}
			out, err := s.OpenChunk(h, id, append([]byte(nil), sealed...), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, c.data) {
				t.Fatal("round trip changed the data")
			}
			// Every flipped byte is caught.
			for _, pos := range []int{0, 5, Overhead, len(sealed) / 2, len(sealed) - 1} {
				bad := append([]byte(nil), sealed...)
				bad[pos] ^= 0x40
				if _, err := s.OpenChunk(h, id, bad, nil); err == nil {
					t.Fatalf("flipped byte %d not detected", pos)
				} else if k := cairn.KindOf(err); k != cairn.Corrupt {
					t.Fatalf("flipped byte %d: kind %v, want corrupt", pos, k)
				}
			}
			// A sealed chunk cannot pass for another id.
			other := id
			other[0] ^= 1
			if _, err := s.OpenChunk(h, other, append([]byte(nil), sealed...), nil); !cairn.IsKind(err, cairn.Corrupt) {
				t.Fatalf("chunk opened under another id: %v", err)
			}
		})
	}
}

func TestChunkIDKeyed(t *testing.T) {
	a, b := testKeys(t), testKeys(t)
	data := []byte("same data")
	if a.NewHasher().Sum(data) == b.NewHasher().Sum(data) {
		t.Fatal("two vaults give the same chunk id: ids are not keyed")
	}
	h := a.NewHasher()
	if h.Sum(data) != h.Sum(data) {
		t.Fatal("hasher is not deterministic")
	}
}

func TestObjectsBoundToName(t *testing.T) {
	k := testKeys(t)
	sealed := k.SealObject("points/a", []byte(`{"x":1}`))
	if _, err := k.OpenObject("points/b", append([]byte(nil), sealed...)); err == nil {
		t.Fatal("object opened under another name")
	}
	out, err := k.OpenObject("points/a", sealed)
	if err != nil || string(out) != `{"x":1}` {
		t.Fatalf("open: %q %v", out, err)
	}
}

func TestStoreGetPut(t *testing.T) {
	be, err := local.Open(filepath.Join(t.TempDir(), "v"))
	if err != nil {
		t.Fatal(err)
	}
	k := testKeys(t)
	s := New(be, k, CompressionAuto, 1<<20)
	h := k.NewHasher()
	data := randomBytes(100000, 2)
	id := h.Sum(data)
	ctx := context.Background()
	if err := s.PutSealed(ctx, id, s.SealChunk(nil, id, data)); err != nil {
		t.Fatal(err)
	}
	if got, ok := ParseChunkName(ChunkName(id)); !ok || got != id {
		t.Fatal("chunk name does not parse back")
	}
	out, err := s.Get(ctx, h, id, nil)
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("get: %v", err)
	}
	var missing cairn.ChunkID
	missing[0] = 1
	if _, err := s.Get(ctx, h, missing, nil); !cairn.IsKind(err, cairn.Corrupt) {
		t.Fatalf("missing chunk: %v, want kind corrupt", err)
	}
}

func FuzzOpenChunk(f *testing.F) {
	mk := make([]byte, MasterKeySize)
	k, _ := DeriveKeys(mk)
	s := New(nil, k, CompressionAuto, 1<<20)
	h := k.NewHasher()
	data := []byte("hello hello hello hello")
	id := h.Sum(data)
	f.Add(s.SealChunk(nil, id, data))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, sealed []byte) {
		out, err := s.OpenChunk(h, id, sealed, nil)
		if err == nil && !bytes.Equal(out, data) {
			t.Fatal("opened to other data")
		}
	})
}

func TestCompressionModes(t *testing.T) {
	k := testKeys(t)
	h := k.NewHasher()
	// Log-like text of random words: S2 shrinks it more than 3 times,
	// zstd more still.
	words := strings.Fields("kernel: eth0 link up down session opened closed")
	r := rand.New(rand.NewPCG(5, 5))
	var tb []byte
	for len(tb) < 1<<20 {
		tb = append(tb, words[r.IntN(len(words))]...)
		tb = append(tb, " \n"[r.IntN(2)])
	}
	text := tb[:1<<20]
	// Half random, half text: S2 shrinks it less than 3 times.
	mixed := append(randomBytes(1<<19, 9), text[:1<<19]...)
	for _, mode := range []Compression{CompressionAuto, CompressionZstd, CompressionBetter, CompressionNone} {
		s := New(nil, k, mode, 1<<20)
		for name, data := range map[string][]byte{"text": text, "mixed": mixed, "random": randomBytes(1<<20, 3)} {
			id := h.Sum(data)
			sealed := s.SealChunk(nil, id, data)
			out, err := s.OpenChunk(h, id, append([]byte(nil), sealed...), nil)
			if err != nil || !bytes.Equal(out, data) {
				t.Fatalf("%s %s: round trip failed: %v", mode, name, err)
			}
			codec, _, err := k.open(sealed, chunkAD(new([38]byte), id))
			if err != nil {
				t.Fatal(err)
			}
			want := map[Compression]map[string]byte{
				CompressionAuto:   {"text": codecZstd, "mixed": codecS2, "random": codecNone},
				CompressionZstd:   {"text": codecZstd, "mixed": codecZstd, "random": codecNone},
				CompressionBetter: {"text": codecZstd, "mixed": codecZstd, "random": codecNone},
				CompressionNone:   {"text": codecNone, "mixed": codecNone, "random": codecNone},
			}[mode][name]
			if codec != want {
				t.Errorf("%s %s: codec %d, want %d", mode, name, codec, want)
			}
		}
	}
}
