// Package local implements storage.Backend on a directory of the local
// file system.
//
// # Layout
//
// An object's name is its path below the directory: "chunks/ab/abcd…" is
// the file <dir>/chunks/ab/abcd…. Directories are created as needed and
// never removed; an empty directory holds no objects and List ignores it.
//
// # Durability
//
// Put writes the data to a temporary file in the object's directory, syncs
// it, renames it over the object's name and syncs the directory. Directories
// that Put creates are made durable too, by syncing their parents. A Put
// that fails, including for a full disk, removes its temporary file; a
// process killed in the middle of a Put leaves one behind, which List never
// reports and [Backend.CleanTemp] removes.
//
// Temporary files are named "~tmp-" followed by 16 hex digits. '~' is not
// allowed in object names, so no object can be mistaken for one.
//
// Delete does not sync the directory: a deletion may be undone by a crash.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/directio"
	"github.com/cairn-vm/cairn/internal/storage"
)

// Permissions of the files and directories the Backend creates. Objects
// hold vault data, so only the owner may read them.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// tempPrefix starts the name of every temporary file. It contains '~',
// which storage.ValidName rejects, so List can never report a temporary
// file and no object can have such a name.
const tempPrefix = "~tmp-"

// Backend is a storage.Backend keeping objects as files below one
// directory. It is safe for concurrent use by multiple goroutines, and
// several processes may share a directory: every write is an atomic rename.
type Backend struct {
	root   string // absolute, cleaned
	closed atomic.Bool

	// dirs holds the directories below root (as full paths) that this
	// Backend knows to exist durably: it created them, or found them and
	// synced their parent once.
	dirs sync.Map // string → struct{}

	// syncFile, when set, replaces (*os.File).Sync, so tests can observe
	// which files and directories are synced.
	syncFile func(*os.File) error

	// noDirect is set once the file system refused direct I/O.
	noDirect atomic.Bool
}

var (
	_ storage.Backend  = (*Backend)(nil)
	_ storage.Location = (*Backend)(nil)
)

// Open returns a Backend storing objects below dir. It creates dir, and any
// missing parents, if they do not exist; a dir that exists must be a
// directory. Opening an existing directory changes nothing in it.
func Open(dir string) (*Backend, error) {
	if dir == "" {
		return nil, cairn.E(cairn.Invalid, errors.New("local: open: empty directory name"))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local: open %s: %w", dir, err)
	}
	b := &Backend{root: abs}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := b.createDirs(abs); err != nil {
			return nil, fmt.Errorf("local: open %s: %w", abs, err)
		}
	case err != nil:
		return nil, fmt.Errorf("local: open %s: %w", abs, err)
	case !fi.IsDir():
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("local: open %s: not a directory", abs))
	}
	return b, nil
}

// Location returns the absolute path of the Backend's directory.
func (b *Backend) Location() string { return b.root }

// String returns the Location, for messages.
func (b *Backend) String() string { return "local:" + b.root }

// Put stores data under name: see storage.Backend. Put does not keep data
// after it returns. A Put that fails leaves neither a partial object nor a
// temporary file; a failure to write, such as a full disk, returns an error
// wrapping the system's (errors.Is(err, syscall.ENOSPC)).
func (b *Backend) Put(ctx context.Context, name string, data []byte) error {
	if err := b.check(ctx, "put", name); err != nil {
		return err
	}
	p := b.path(name)
	dir := p[:strings.LastIndexByte(p, filepath.Separator)]
	if dir != b.root {
		if _, ok := b.dirs.Load(dir); !ok {
			if err := b.mkdirAll(dir); err != nil {
				return fmt.Errorf("local: put %s: %w", name, err)
			}
		}
	}
	if err := b.writeFile(dir, p, data); err != nil {
		return fmt.Errorf("local: put %s: %w", name, err)
	}
	return nil
}

// writeFile durably replaces the file p, in directory dir, with data.
//
// Objects of a few KiB and more are written with direct I/O where the file
// system allows it: they are synced at once anyway, and copying them
// through the page cache first costs more CPU than all the hashing of a
// backup (see writeDirect).
func (b *Backend) writeFile(dir, p string, data []byte) error {
	direct := len(data) >= directMin && !b.noDirect.Load()
	f, tmp, err := createTemp(dir, direct)
	if direct && directio.Unsupported(err) {
		b.noDirect.Store(true)
		direct = false
		f, tmp, err = createTemp(dir, false)
	}
	if errors.Is(err, fs.ErrNotExist) && dir != b.root {
		// Someone removed a directory this Backend had made: forget
		// it and its parents, and make them again.
		for d := dir; d != b.root && len(d) > len(b.root); d = filepath.Dir(d) {
			b.dirs.Delete(d)
		}
		if err := b.mkdirAll(dir); err != nil {
			return err
		}
		f, tmp, err = createTemp(dir, direct)
	}
	if err != nil {
		return err
	}
	if direct {
		err = writeDirect(f, data)
	} else {
		_, err = f.Write(data) // os.File.Write loops over short writes
	}
	if err == nil {
		err = b.sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		// Removing a file needs no free space, so this works on a
		// full disk too.
		_ = os.Remove(tmp)
		return err
	}
	return b.syncDir(dir)
}

// createTemp creates a new temporary file in dir, failing if dir does not
// exist.
func createTemp(dir string, direct bool) (*os.File, string, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if direct {
		flags |= directio.Flag
	}
	var buf [len(tempPrefix) + 16]byte
	for range 100 {
		n := copy(buf[:], tempPrefix)
		v := rand.Uint64()
		for i := len(buf) - 1; i >= n; i-- {
			buf[i] = "0123456789abcdef"[v&0xf]
			v >>= 4
		}
		tmp := dir + string(filepath.Separator) + string(buf[:])
		f, err := os.OpenFile(tmp, flags, fileMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", fmt.Errorf("create temporary file in %s: too many name collisions", dir)
}

// mkdirAll creates dir, below the root, and its missing parents, durably:
// it syncs the parent of every directory that this Backend has not used
// before, whether it created it or found it (another goroutine or process
// may have created it and not synced its parent yet).
func (b *Backend) mkdirAll(dir string) error {
	if dir == b.root {
		return nil
	}
	if _, ok := b.dirs.Load(dir); ok {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := b.mkdirAll(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := b.syncDir(parent); err != nil {
		return err
	}
	b.dirs.Store(strings.Clone(dir), struct{}{})
	return nil
}

// createDirs creates dir and its missing parents, syncing the parent of
// each directory it creates.
func (b *Backend) createDirs(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := b.createDirs(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return b.syncDir(parent)
}

// Get returns the object's data: see storage.Backend.
func (b *Backend) Get(ctx context.Context, name string) ([]byte, error) {
	if err := b.check(ctx, "get", name); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(b.path(name))
	if err != nil {
		return nil, fmt.Errorf("local: get %s: %w", name, notExist(err))
	}
	return data, nil
}

// Stat describes an object: see storage.Backend.
func (b *Backend) Stat(ctx context.Context, name string) (storage.ObjectInfo, error) {
	if err := b.check(ctx, "stat", name); err != nil {
		return storage.ObjectInfo{}, err
	}
	fi, err := os.Stat(b.path(name))
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("local: stat %s: %w", name, notExist(err))
	}
	if !fi.Mode().IsRegular() {
		// A directory holding other objects.
		return storage.ObjectInfo{}, fmt.Errorf("local: stat %s: %w", name, storage.ErrNotExist)
	}
	return storage.ObjectInfo{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete removes an object: see storage.Backend. It does not sync the
// directory, so a crash soon after may bring the object back.
func (b *Backend) Delete(ctx context.Context, name string) error {
	if err := b.check(ctx, "delete", name); err != nil {
		return err
	}
	p := b.path(name)
	// Not os.Remove: that would remove an empty directory of the same name.
	err := syscall.Unlink(p)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
		// A parent that is a file, or a name that is a directory: no
		// object of that name exists.
		return nil
	case errors.Is(err, syscall.EPERM):
		// Some systems say EPERM for unlinking a directory.
		if fi, serr := os.Lstat(p); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return fmt.Errorf("local: delete %s: %w", name, &fs.PathError{Op: "unlink", Path: p, Err: err})
}

// List calls fn for each object whose name starts with prefix: see
// storage.Backend. It never reports temporary files, nor files whose names
// are not valid object names. An error from fn is returned unchanged.
func (b *Backend) List(ctx context.Context, prefix string, fn func(storage.ObjectInfo) error) error {
	if err := b.checkCtx(ctx, "list", prefix); err != nil {
		return err
	}
	if !validPrefix(prefix) {
		return cairn.E(cairn.Invalid, fmt.Errorf("local: list %q: invalid prefix", prefix))
	}
	dir, partial := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, partial = prefix[:i], prefix[i+1:]
	}
	return b.walk(ctx, dir, partial, func(rel string, d fs.DirEntry) error {
		if !storage.ValidName(d.Name()) {
			return fs.SkipDir // temporary files and foreign names
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fs.SkipDir
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipDir // deleted since the directory was read
		}
		if err != nil {
			return fmt.Errorf("local: list %s: %w", prefix, err)
		}
		return fn(storage.ObjectInfo{Name: rel, Size: fi.Size(), ModTime: fi.ModTime()})
	})
}

// walk calls visit for each entry below the directory rel (slash-separated,
// relative to the root; "" for the root) whose name starts with match,
// recursively, in the caller's goroutine. Entries below rel are matched
// only against match at the first level. visit gets the entry's name
// relative to the root; returning fs.SkipDir skips the entry (and, for a
// directory, its contents). A rel that does not exist, or is not a
// directory, holds nothing; only a missing root is an error.
func (b *Backend) walk(ctx context.Context, rel, match string, visit func(rel string, d fs.DirEntry) error) error {
	dir := b.root
	if rel != "" {
		dir = b.path(rel)
	}
	f, err := os.Open(dir)
	if err != nil {
		if rel != "" && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
			return nil // removed meanwhile, or never there
		}
		return fmt.Errorf("local: %w", err)
	}
	defer f.Close()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("local: walk %s: %w", rel, err)
		}
		ents, rerr := f.ReadDir(512)
		for _, d := range ents {
			name := d.Name()
			if !strings.HasPrefix(name, match) {
				continue
			}
			full := name
			if rel != "" {
				full = rel + "/" + name
			}
			err := visit(full, d)
			if err == fs.SkipDir {
				continue
			}
			if err != nil {
				return err
			}
			if d.IsDir() {
				if err := b.walk(ctx, full, "", visit); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if rel != "" && (errors.Is(rerr, fs.ErrNotExist) || errors.Is(rerr, syscall.ENOTDIR)) {
				return nil // a file, or a directory removed while read
			}
			return fmt.Errorf("local: %w", rerr)
		}
	}
}

// TempFiles returns the names, relative to the Backend's directory and
// slash-separated, of the temporary files present: those of Puts in
// progress and those left by processes killed in the middle of a Put.
func (b *Backend) TempFiles(ctx context.Context) ([]string, error) {
	var names []string
	err := b.walkTemp(ctx, func(rel string, _ fs.FileInfo) error {
		names = append(names, rel)
		return nil
	})
	return names, err
}

// CleanTemp removes the temporary files last modified before cutoff and
// returns how many it removed. Temporary files belong to Puts in progress
// or to processes killed during a Put; pick a cutoff older than any Put can
// take (an hour ago is generous) so that no Put in progress, in this or
// another process, loses its file.
func (b *Backend) CleanTemp(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := b.walkTemp(ctx, func(rel string, fi fs.FileInfo) error {
		if !fi.ModTime().Before(cutoff) {
			return nil
		}
		err := os.Remove(b.path(rel))
		switch {
		case err == nil:
			n++
		case errors.Is(err, fs.ErrNotExist):
			// Renamed or removed meanwhile.
		default:
			return fmt.Errorf("local: clean temporary files: %w", err)
		}
		return nil
	})
	return n, err
}

// walkTemp calls fn for each temporary file below the root.
func (b *Backend) walkTemp(ctx context.Context, fn func(rel string, fi fs.FileInfo) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: temporary files: %w", err)
	}
	if b.closed.Load() {
		return errClosed
	}
	return b.walk(ctx, "", "", func(rel string, d fs.DirEntry) error {
		name := d.Name()
		if d.IsDir() {
			if storage.ValidName(name) {
				return nil
			}
			return fs.SkipDir
		}
		if !strings.HasPrefix(name, tempPrefix) || !d.Type().IsRegular() {
			return fs.SkipDir
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipDir
		}
		if err != nil {
			return fmt.Errorf("local: temporary files: %w", err)
		}
		if err := fn(rel, fi); err != nil {
			return err
		}
		return fs.SkipDir
	})
}

// Close marks the Backend closed; later calls fail. It holds no other
// resources.
func (b *Backend) Close() error {
	b.closed.Store(true)
	return nil
}

var errClosed = errors.New("local: backend is closed")

// check returns an error if ctx is done, the Backend is closed or name is
// not a valid object name.
func (b *Backend) check(ctx context.Context, op, name string) error {
	if err := b.checkCtx(ctx, op, name); err != nil {
		return err
	}
	if !storage.ValidName(name) {
		return cairn.E(cairn.Invalid, fmt.Errorf("local: %s %q: invalid object name", op, name))
	}
	return nil
}

func (b *Backend) checkCtx(ctx context.Context, op, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: %s %s: %w", op, name, err)
	}
	if b.closed.Load() {
		return errClosed
	}
	return nil
}

// path returns the file of the valid object name.
func (b *Backend) path(name string) string {
	return b.root + string(filepath.Separator) + filepath.FromSlash(name)
}

func (b *Backend) sync(f *os.File) error {
	if b.syncFile != nil {
		return b.syncFile(f)
	}
	return f.Sync()
}

// syncDir makes the entries of dir durable.
func (b *Backend) syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = b.sync(d)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// notExist turns the errors for a name that is not a file (missing, a
// directory, or below a file) into ones wrapping storage.ErrNotExist.
func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		return fmt.Errorf("%w: %w", storage.ErrNotExist, err)
	}
	return err
}

// validPrefix reports whether p can start a valid object name: "" or every
// full segment valid and the last, partial one made of allowed bytes.
func validPrefix(p string) bool {
	if p == "" {
		return true
	}
	if len(p) > 1024 {
		return false
	}
	i := strings.LastIndexByte(p, '/')
	if i >= 0 && !storage.ValidName(p[:i]) {
		return false
	}
	last := p[i+1:]
	// A partial segment may be "." or "..": they start valid segments
	// such as ".x". Check only the bytes, with a valid stand-in.
	return last == "" || storage.ValidName(strings.ReplaceAll(last, ".", "x"))
}
