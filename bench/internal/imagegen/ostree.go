package imagegen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// entry is one file, directory or symlink put in the staging tree, with the
// times its inode gets in the image.
type entry struct {
	path  string // absolute inside the image, e.g. /usr/bin/ls
	mtime time.Time
}

// safeName reports whether a path component needs no quoting in a debugfs
// command file.
func safeName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("._+-@,=~:", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// copyOSTree copies directories, regular files and symlinks from src (e.g.
// /usr) into staging under the same name (staging/usr/...), walking in
// lexical order, until budget bytes of regular files are copied. Trees
// named in skip (absolute paths) are left out. It returns the entries made
// and a digest of what was copied (names, sizes, mtimes).
func copyOSTree(src, staging string, budget int64, skip []string) ([]entry, int64, int, string, error) {
	var (
		entries []entry
		copied  int64
		files   int
		manif   = sha256.New()
		buf     = make([]byte, 1<<20)
	)
	errStop := fmt.Errorf("budget reached")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() && p != src {
				return fs.SkipDir // unreadable directory: leave it out
			}
			return err
		}
		for _, s := range skip {
			if p == s {
				return fs.SkipDir
			}
		}
		if p != src && !safeName(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // vanished
		}
		dst := filepath.Join(staging, p)
		mode := info.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(dst, mode.Perm()); err != nil {
				return err
			}
		case mode.IsRegular():
			if copied >= budget {
				return errStop
			}
			if err := copyFile(dst, p, mode.Perm(), buf); err != nil {
				return err
			}
			copied += info.Size()
			files++
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return nil
			}
			if err := os.Symlink(target, dst); err != nil {
				return err
			}
		default:
			return nil // devices, sockets, fifos
		}
		fmt.Fprintf(manif, "%s %o %d %d\n", p, mode, info.Size(), info.ModTime().Unix())
		entries = append(entries, entry{path: p, mtime: info.ModTime()})
		return nil
	})
	if err != nil && err != errStop {
		return nil, 0, 0, "", fmt.Errorf("copy OS tree from %s: %w", src, err)
	}
	return entries, copied, files, hex.EncodeToString(manif.Sum(nil)), nil
}

func copyFile(dst, src string, perm fs.FileMode, buf []byte) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(out, in, buf); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Chmod(perm); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
