// Package storagetest is the conformance suite for storage.Backend: every
// implementation runs [Run] from its tests, so all of them keep the same
// contract.
//
// Besides what the storage.Backend documentation states, the suite
// requires that an invalid object name is rejected with an error of kind
// cairn.Invalid, and that a canceled context makes every operation fail
// with an error wrapping the context's error before it changes anything.
// The suite never stores both "a" and "a/b": a file system cannot, and the
// vault does not.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage"
)

// Run runs the conformance suite as parallel subtests of t. newBackend
// must return a new, empty Backend each time it is called; Run closes it
// when the subtest ends and fails the subtest if Close fails.
func Run(t *testing.T, newBackend func(t *testing.T) storage.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b storage.Backend)
	}{
		{"RoundTrip", testRoundTrip},
		{"NoAliasing", testNoAliasing},
		{"Overwrite", testOverwrite},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"List", testList},
		{"ListStop", testListStop},
		{"ListDuringPuts", testListDuringPuts},
		{"ConcurrentPutDistinct", testConcurrentPutDistinct},
		{"ConcurrentPutSame", testConcurrentPutSame},
		{"InvalidNames", testInvalidNames},
		{"Canceled", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, b)
		})
	}
}

// data returns n pseudo-random bytes determined by seed.
func data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

func put(t *testing.T, b storage.Backend, name string, p []byte) {
	t.Helper()
	if err := b.Put(t.Context(), name, p); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", name, len(p), err)
	}
}

// check asserts that the object name holds exactly want, through Get and
// Stat.
func check(t *testing.T, b storage.Backend, name string, want []byte) {
	t.Helper()
	got, err := b.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q): got %d bytes %s, want %d bytes %s", name, len(got), head(got), len(want), head(want))
	}
	info, err := b.Stat(t.Context(), name)
	if err != nil {
		t.Fatalf("Stat(%q): %v", name, err)
	}
	if info.Name != name || info.Size != int64(len(want)) {
		t.Fatalf("Stat(%q) = name %q size %d, want name %q size %d", name, info.Name, info.Size, name, len(want))
	}
	if d := time.Since(info.ModTime); info.ModTime.IsZero() || d > time.Hour || d < -time.Hour {
		t.Fatalf("Stat(%q).ModTime = %v, want about now", name, info.ModTime)
	}
}

func head(p []byte) string {
	if len(p) > 8 {
		return fmt.Sprintf("%x…", p[:8])
	}
	return fmt.Sprintf("%x", p)
}

func checkMissing(t *testing.T, b storage.Backend, name string) {
	t.Helper()
	if p, err := b.Get(t.Context(), name); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Get(%q) = %d bytes, %v; want an error wrapping ErrNotExist", name, len(p), err)
	}
	if info, err := b.Stat(t.Context(), name); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Stat(%q) = %+v, %v; want an error wrapping ErrNotExist", name, info, err)
	}
}

// list returns the objects under prefix by name, failing on duplicates.
func list(t *testing.T, b storage.Backend, prefix string) map[string]storage.ObjectInfo {
	t.Helper()
	m := map[string]storage.ObjectInfo{}
	err := b.List(t.Context(), prefix, func(info storage.ObjectInfo) error {
		if _, dup := m[info.Name]; dup {
			return fmt.Errorf("%q reported twice", info.Name)
		}
		m[info.Name] = info
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return m
}

func keys(m map[string]storage.ObjectInfo) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func testRoundTrip(t *testing.T, b storage.Backend) {
	cases := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one", 1},
		{"a/b/c/nested", 1000},
		{"chunks/ab/ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab", 1 << 20},
		{"big", 4 << 20},
		{".dotted/-_.x", 10},
	}
	for i, c := range cases {
		p := data(uint64(i), c.size)
		put(t, b, c.name, p)
		check(t, b, c.name, p)
	}
	// Put with nil data stores an empty object.
	put(t, b, "nil", nil)
	check(t, b, "nil", nil)
	// Everything is still there, unchanged, after the other puts.
	for i, c := range cases {
		check(t, b, c.name, data(uint64(i), c.size))
	}
}

func testNoAliasing(t *testing.T, b storage.Backend) {
	p := data(1, 100)
	orig := bytes.Clone(p)
	put(t, b, "x", p)
	p[0]++ // Put must not keep the caller's slice
	check(t, b, "x", orig)
	got, err := b.Get(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	got[1]++ // nor Get hand out its own storage
	check(t, b, "x", orig)
}

func testOverwrite(t *testing.T, b storage.Backend) {
	first, second := data(1, 5000), data(2, 3000)
	put(t, b, "lock/x", first)
	info1, err := b.Stat(t.Context(), "lock/x")
	if err != nil {
		t.Fatal(err)
	}
	put(t, b, "lock/x", second)
	check(t, b, "lock/x", second)
	info2, err := b.Stat(t.Context(), "lock/x")
	if err != nil {
		t.Fatal(err)
	}
	if info2.ModTime.Before(info1.ModTime) {
		t.Errorf("ModTime went back from %v to %v on overwrite", info1.ModTime, info2.ModTime)
	}
	m := list(t, b, "")
	if len(m) != 1 || m["lock/x"].Size != int64(len(second)) {
		t.Fatalf("after overwrite, List = %v, want only lock/x of %d bytes", m, len(second))
	}
	// Overwriting with an empty object, and back.
	put(t, b, "lock/x", nil)
	check(t, b, "lock/x", nil)
	put(t, b, "lock/x", first)
	check(t, b, "lock/x", first)
}

func testMissing(t *testing.T, b storage.Backend) {
	checkMissing(t, b, "nothing")
	checkMissing(t, b, "no/such/dir/x")
	put(t, b, "d/x", []byte("x"))
	checkMissing(t, b, "d")     // a prefix of an object, not an object
	checkMissing(t, b, "d/x/y") // below an object
	checkMissing(t, b, "d/y")
	checkMissing(t, b, "d/x.")
	check(t, b, "d/x", []byte("x"))
}

func testDelete(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	put(t, b, "a/x", []byte("x"))
	put(t, b, "a/y", []byte("y"))
	if err := b.Delete(ctx, "a/x"); err != nil {
		t.Fatalf("Delete(a/x): %v", err)
	}
	checkMissing(t, b, "a/x")
	check(t, b, "a/y", []byte("y"))
	for _, name := range []string{"a/x", "never", "no/such/dir", "a", "a/y/below"} {
		if err := b.Delete(ctx, name); err != nil {
			t.Errorf("Delete(%q) of a missing object: %v, want nil", name, err)
		}
	}
	// Deleting "a", which only prefixes an object, did not touch it.
	check(t, b, "a/y", []byte("y"))
	if m := list(t, b, ""); !slices.Equal(keys(m), []string{"a/y"}) {
		t.Errorf("List after deletes = %v, want [a/y]", keys(m))
	}
	// A deleted name can be used again.
	put(t, b, "a/x", []byte("again"))
	check(t, b, "a/x", []byte("again"))
}

func testList(t *testing.T, b storage.Backend) {
	names := []string{
		"a1", "ab", "a/b", "a/bc/d", "b/c", ".hidden",
		"chunks/ab/abcd", "chunks/ab/abef", "chunks/ac/acde", "chunks/b0/b0aa",
		"chunks/ab/abcd.x",
	}
	want := map[string]int64{}
	for i, name := range names {
		put(t, b, name, data(uint64(i), i)) // sizes tell the objects apart
		want[name] = int64(i)
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", names},
		{"chunks/", []string{"chunks/ab/abcd", "chunks/ab/abcd.x", "chunks/ab/abef", "chunks/ac/acde", "chunks/b0/b0aa"}},
		{"chunks", []string{"chunks/ab/abcd", "chunks/ab/abcd.x", "chunks/ab/abef", "chunks/ac/acde", "chunks/b0/b0aa"}},
		{"chunks/a", []string{"chunks/ab/abcd", "chunks/ab/abcd.x", "chunks/ab/abef", "chunks/ac/acde"}},
		{"chunks/ab", []string{"chunks/ab/abcd", "chunks/ab/abcd.x", "chunks/ab/abef"}},
		{"chunks/ab/", []string{"chunks/ab/abcd", "chunks/ab/abcd.x", "chunks/ab/abef"}},
		{"chunks/ab/abc", []string{"chunks/ab/abcd", "chunks/ab/abcd.x"}},
		{"chunks/ab/abcd", []string{"chunks/ab/abcd", "chunks/ab/abcd.x"}},
		{"chunks/ab/abcd.", []string{"chunks/ab/abcd.x"}},
		{"chunks/ab/abcd/", nil},
		{"chunks/ab/abcd.x/y", nil},
		{"a", []string{"a1", "ab", "a/b", "a/bc/d"}},
		{"a/", []string{"a/b", "a/bc/d"}},
		{"a/b", []string{"a/b", "a/bc/d"}},
		{"a/bc/", []string{"a/bc/d"}},
		{".", []string{".hidden"}},
		{"b", []string{"b/c"}},
		{"zzz", nil},
		{"no/such/dir/", nil},
	}
	for _, c := range cases {
		m := list(t, b, c.prefix)
		got, w := keys(m), slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, w) {
			t.Errorf("List(%q) = %q, want %q", c.prefix, got, w)
			continue
		}
		for name, info := range m {
			if info.Size != want[name] {
				t.Errorf("List(%q): %s has size %d, want %d", c.prefix, name, info.Size, want[name])
			}
			if info.ModTime.IsZero() {
				t.Errorf("List(%q): %s has no ModTime", c.prefix, name)
			}
		}
	}
	// Empty directories left by deletes hold no objects.
	for _, name := range names {
		if err := b.Delete(t.Context(), name); err != nil {
			t.Fatal(err)
		}
	}
	if m := list(t, b, ""); len(m) != 0 {
		t.Errorf("List after deleting everything = %q, want nothing", keys(m))
	}
}

func testListStop(t *testing.T, b storage.Backend) {
	for i := range 10 {
		put(t, b, fmt.Sprintf("d%d/x", i), []byte{byte(i)})
	}
	stop := errors.New("stop")
	calls := 0
	err := b.List(t.Context(), "", func(storage.ObjectInfo) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("List = %v, want the error of fn", err)
	}
	if calls != 1 {
		t.Errorf("fn called %d times after returning an error, want 1", calls)
	}
}

func testListDuringPuts(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	// Stable objects sit in the same directories as the churning ones.
	stable := map[string]int64{}
	for i := range 8 {
		name := fmt.Sprintf("d%d/stable%d", i%2, i)
		put(t, b, name, data(uint64(i), 100+i))
		stable[name] = int64(100 + i)
	}
	churn := func(w, i int) string { return fmt.Sprintf("d%d/churn-%d-%d", w%2, w, i%4) }

	var stopped atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stopped.Load(); i++ {
				name := churn(w, i)
				if err := b.Put(ctx, name, data(uint64(i), 50)); err != nil {
					errs <- err
					return
				}
				if i%3 == 0 {
					if err := b.Delete(ctx, name); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	defer func() {
		stopped.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("writer: %v", err)
		}
	}()
	for range 50 {
		for _, prefix := range []string{"", "d0/", "d1/s"} {
			seen := map[string]bool{}
			err := b.List(ctx, prefix, func(info storage.ObjectInfo) error {
				if size, ok := stable[info.Name]; ok {
					if seen[info.Name] {
						return fmt.Errorf("%s reported twice", info.Name)
					}
					seen[info.Name] = true
					if info.Size != size {
						return fmt.Errorf("%s has size %d, want %d", info.Name, info.Size, size)
					}
					return nil
				}
				var w, i int
				if _, err := fmt.Sscanf(info.Name[3:], "churn-%d-%d", &w, &i); err != nil || churn(w, i) != info.Name {
					return fmt.Errorf("reported %q, which was never put", info.Name)
				}
				if info.Size != 50 {
					return fmt.Errorf("%s has size %d, want 50: a partial object", info.Name, info.Size)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("List(%q) during puts: %v", prefix, err)
			}
			for name := range stable {
				if strings.HasPrefix(name, prefix) && !seen[name] {
					t.Fatalf("List(%q) during puts missed %s, which was not touched", prefix, name)
				}
			}
		}
	}
}

func testConcurrentPutDistinct(t *testing.T, b storage.Backend) {
	const writers, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	name := func(w, i int) string { return fmt.Sprintf("c/%02x/%d-%d", (w*each+i)%7, w, i) }
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := b.Put(t.Context(), name(w, i), data(uint64(w), 1000+i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Put: %v", err)
	}
	for w := range writers {
		for i := range each {
			check(t, b, name(w, i), data(uint64(w), 1000+i))
		}
	}
	if m := list(t, b, "c/"); len(m) != writers*each {
		t.Fatalf("List(c/) found %d objects, want %d", len(m), writers*each)
	}
}

func testConcurrentPutSame(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	// Two versions of different sizes, so a mix or a truncation shows.
	versions := [][]byte{data(1, 256<<10), data(2, 100<<10+7)}
	put(t, b, "same", versions[0])

	const writers, readers, puts = 4, 4, 16
	var (
		wg      sync.WaitGroup
		done    atomic.Bool
		reads   atomic.Int64
		failure = make(chan error, writers+readers)
	)
	fail := func(err error) {
		select {
		case failure <- err:
		default:
		}
	}
	var wwg sync.WaitGroup
	for w := range writers {
		wwg.Go(func() {
			for i := range puts {
				if err := b.Put(ctx, "same", versions[(w+i)%2]); err != nil {
					fail(fmt.Errorf("Put: %w", err))
					return
				}
			}
		})
	}
	for range readers {
		wg.Go(func() {
			// Read until the writers are done, and at least a few times.
			for n := 0; !done.Load() || n < 4; n++ {
				p, err := b.Get(ctx, "same")
				if err != nil {
					fail(fmt.Errorf("Get during puts: %w", err))
					return
				}
				if !bytes.Equal(p, versions[0]) && !bytes.Equal(p, versions[1]) {
					fail(fmt.Errorf("Get during puts returned %d bytes that are neither version (%d or %d bytes)", len(p), len(versions[0]), len(versions[1])))
					return
				}
				info, err := b.Stat(ctx, "same")
				if err != nil {
					fail(fmt.Errorf("Stat during puts: %w", err))
					return
				}
				if info.Size != int64(len(versions[0])) && info.Size != int64(len(versions[1])) {
					fail(fmt.Errorf("Stat during puts: size %d is neither version's", info.Size))
					return
				}
				reads.Add(1)
			}
		})
	}
	wwg.Wait()
	done.Store(true)
	wg.Wait()
	close(failure)
	for err := range failure {
		t.Fatal(err)
	}
	p, err := b.Get(ctx, "same")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p, versions[0]) && !bytes.Equal(p, versions[1]) {
		t.Fatalf("after concurrent puts, the object (%d bytes) is neither version", len(p))
	}
	if m := list(t, b, ""); len(m) != 1 {
		t.Fatalf("after concurrent puts of one name, List = %q, want [same]", keys(m))
	}
	t.Logf("%d reads during %d puts", reads.Load(), writers*puts)
}

// InvalidNames lists names that storage.ValidName rejects, for backends'
// own tests.
var InvalidNames = []string{
	"", "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/./b", "a/../b",
	"../a", "../../etc/passwd", "a b", `a\b`, "a:b", "a*", "~tmp-1", "ä",
	"a\x00b", "a\nb", strings.Repeat("a", 1025),
}

func testInvalidNames(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	put(t, b, "a/b", []byte("ok")) // so that a sloppy path could hit something
	for _, name := range InvalidNames {
		if storage.ValidName(name) {
			t.Fatalf("storage.ValidName(%q) = true; fix the suite", name)
		}
		if err := b.Put(ctx, name, []byte("x")); !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("Put(%q) = %v, want an error of kind Invalid", name, err)
		}
		if _, err := b.Get(ctx, name); !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("Get(%q) = %v, want an error of kind Invalid", name, err)
		}
		if _, err := b.Stat(ctx, name); !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("Stat(%q) = %v, want an error of kind Invalid", name, err)
		}
		if err := b.Delete(ctx, name); !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("Delete(%q) = %v, want an error of kind Invalid", name, err)
		}
	}
	// No prefix that no valid name can start with lists anything; the
	// backend may list nothing or refuse.
	for _, prefix := range []string{"/", "/a", "../", "a//", "./", "a/../", "../a/b"} {
		var got []string
		err := b.List(ctx, prefix, func(info storage.ObjectInfo) error {
			got = append(got, info.Name)
			return nil
		})
		if len(got) != 0 {
			t.Errorf("List(%q) = %q, %v; want nothing", prefix, got, err)
		}
		if err != nil && !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("List(%q) = %v, want nil or an error of kind Invalid", prefix, err)
		}
	}
	if m := list(t, b, ""); !slices.Equal(keys(m), []string{"a/b"}) {
		t.Errorf("after invalid puts, List = %q, want [a/b]", keys(m))
	}
	check(t, b, "a/b", []byte("ok"))
}

func testCanceled(t *testing.T, b storage.Backend) {
	put(t, b, "x", []byte("x"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Put(ctx, "y", []byte("y")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with canceled context = %v, want context.Canceled", err)
	}
	checkMissing(t, b, "y")
	if err := b.Put(ctx, "x", []byte("new")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put over x with canceled context = %v, want context.Canceled", err)
	}
	if _, err := b.Get(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with canceled context = %v, want context.Canceled", err)
	}
	if _, err := b.Stat(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with canceled context = %v, want context.Canceled", err)
	}
	if err := b.Delete(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with canceled context = %v, want context.Canceled", err)
	}
	called := false
	err := b.List(ctx, "", func(storage.ObjectInfo) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("List with canceled context = %v (fn called: %v), want context.Canceled and no call", err, called)
	}
	check(t, b, "x", []byte("x")) // neither replaced nor deleted
}
