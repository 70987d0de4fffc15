package imagegen

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/bytesize"
)

type generated struct {
	entries []entry
	parts   []Part
	regions map[string][]string // region -> paths inside the image
}

// LogStart is when the generated logs begin.
var LogStart = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// writeGenerated writes the generated parts into staging: random blobs,
// logs and the database file, plus a few small /etc files.
func writeGenerated(staging string, seed uint64, randomBytes, logBytes, dbBytes int64) (*generated, error) {
	g := &generated{regions: map[string][]string{}}
	mt := time.Unix(fakeTime, 0)
	mkdir := func(p string) error {
		g.entries = append(g.entries, entry{path: p, mtime: mt})
		return os.MkdirAll(filepath.Join(staging, p), 0o755)
	}
	for _, d := range []string{"/etc", "/srv", "/srv/media", "/var", "/var/log", "/var/log/nginx", "/var/lib", "/var/lib/appdb"} {
		if err := mkdir(d); err != nil {
			return nil, err
		}
	}
	small := map[string]string{
		"/etc/hostname": "web01\n",
		"/etc/hosts":    "127.0.0.1\tlocalhost\n127.0.1.1\tweb01\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"/etc/fstab":    "# <file system> <mount point> <type> <options> <dump> <pass>\nLABEL=benchroot / ext4 errors=remount-ro 0 1\n",
	}
	for _, p := range []string{"/etc/fstab", "/etc/hostname", "/etc/hosts"} {
		if err := os.WriteFile(filepath.Join(staging, p), []byte(small[p]), 0o644); err != nil {
			return nil, err
		}
		g.entries = append(g.entries, entry{path: p, mtime: mt})
	}

	// Random blobs: already-compressed media and archives.
	const blobSize = 64 * bytesize.MiB
	rs := NewRandomStream(seed, "blobs")
	buf := make([]byte, 4*bytesize.MiB)
	files := 0
	for left := randomBytes; left > 0; files++ {
		n := min(left, blobSize)
		p := fmt.Sprintf("/srv/media/blob-%03d.bin", files)
		if err := writeFileFunc(filepath.Join(staging, p), n, buf, func(b []byte) { rs.Read(b) }); err != nil {
			return nil, err
		}
		g.entries = append(g.entries, entry{path: p, mtime: mt.Add(-time.Duration(files) * time.Hour)})
		g.regions[RegionBlobs] = append(g.regions[RegionBlobs], p)
		left -= n
	}
	g.parts = append(g.parts, Part{Name: "random data", Bytes: randomBytes, Files: files})

	// Logs.
	logs := []struct {
		path  string
		kind  LogKind
		share float64
	}{
		{"/var/log/syslog", Syslog, 0.35},
		{"/var/log/nginx/access.log", AccessLog, 0.40},
		{"/var/log/auth.log", AuthLog, 0.15},
		{"/var/log/kern.log", KernLog, 0.10},
	}
	for _, l := range logs {
		n := int64(float64(logBytes) * l.share)
		lg := NewLogGen(l.kind, seed, "log"+l.path, LogStart)
		if err := writeFileFunc(filepath.Join(staging, l.path), n, buf, lg.Fill); err != nil {
			return nil, err
		}
		g.entries = append(g.entries, entry{path: l.path, mtime: mt})
		g.regions[RegionLogs] = append(g.regions[RegionLogs], l.path)
	}
	g.parts = append(g.parts, Part{Name: "logs (syslog-like text)", Bytes: logBytes, Files: len(logs)})

	// Database: 8 KiB pages of order records.
	db := NewDBGen(seed)
	const dbPath = "/var/lib/appdb/orders.db"
	page := int64(0)
	if err := writeFileFunc(filepath.Join(staging, dbPath), dbBytes, buf, func(b []byte) {
		for off := 0; off+PageSize <= len(b); off += PageSize {
			db.Page(page, 0, b[off:off+PageSize])
			page++
		}
	}); err != nil {
		return nil, err
	}
	g.entries = append(g.entries, entry{path: dbPath, mtime: mt})
	g.regions[RegionDB] = []string{dbPath}
	g.parts = append(g.parts, Part{Name: "database (8 KiB pages)", Bytes: dbBytes, Files: 1})
	return g, nil
}

// writeFileFunc writes a file of n bytes whose content fill produces,
// len(buf) bytes at a time. buf's length must be a multiple of PageSize.
func writeFileFunc(path string, n int64, buf []byte, fill func([]byte)) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for left := n; left > 0; {
		b := buf[:min(int64(len(buf)), left)]
		fill(b)
		if _, err := w.Write(b); err != nil {
			f.Close()
			return err
		}
		left -= int64(len(b))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
