// Package change makes the benchmark's incremental workload: a copy of the
// base image with about 1 % of its allocated bytes rewritten in scattered
// 64 KiB-aligned extents, and the change map that lists exactly those
// extents, as a QEMU dirty bitmap with 64 KiB granularity would report
// them.
//
// On a generated image the extents fall in the OS files, the database
// file, the logs, the random files and some free space; the new content is
// mostly a rewrite of what was there (new database page versions, new log
// lines, patched binaries: compressible) and partly random.
package change

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/diskfile"
	"github.com/cairn-vm/cairn/bench/internal/imagegen"
)

// ChunkSize is the granularity of the change: a QEMU dirty bitmap's
// default.
const ChunkSize = 64 << 10

// Class names the kind of data an extent of the change rewrote.
type Class string

// The classes.
const (
	OS    Class = "os"    // OS files and file-system metadata
	DB    Class = "db"    // database pages
	Logs  Class = "logs"  // log files
	Blobs Class = "blobs" // random files
	Free  Class = "free"  // free space, newly written
	Data  Class = "data"  // any non-zero data (images the user gave)
)

// Stat sums what the change did to one class.
type Stat struct {
	Class   Class `json:"class"`
	Extents int   `json:"extents"`
	Bytes   int64 `json:"bytes"`
}

// Change describes the changed image. It is stored as change.json.
type Change struct {
	Path     string            `json:"-"`         // changed image
	MapPath  string            `json:"-"`         // change map (JSON extents)
	Base     string            `json:"base"`      // SHA-256 of the base image
	Percent  float64           `json:"percent"`   // requested share of allocated bytes
	Seed     uint64            `json:"seed"`      // selection and content seed
	SHA256   string            `json:"sha256"`    // of the changed image
	Bytes    int64             `json:"bytes"`     // bytes rewritten
	Extents  []diskfile.Extent `json:"extents"`   // sorted, disjoint, not adjacent
	Stats    []Stat            `json:"stats"`     // per class
	Elapsed  float64           `json:"elapsed_s"` // seconds it took to make
	Producer string            `json:"producer"`  // change generator version
}

// Version names the change generator's output; change it when the bytes
// it produces change.
const Version = "v1"

// Load reads the change stored in dir for the base image sha and the
// given percent and seed, or returns (nil, nil) if there is none.
func Load(dir, baseSHA string, percent float64, seed uint64) (*Change, error) {
	b, err := os.ReadFile(filepath.Join(dir, "change.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c Change
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	c.Path, c.MapPath = filepath.Join(dir, "changed.raw"), filepath.Join(dir, "changes.json")
	if c.Base != baseSHA || c.Percent != percent || c.Seed != seed || c.Producer != Version {
		return nil, nil
	}
	for _, p := range []string{c.Path, c.MapPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, nil
		}
	}
	return &c, nil
}

// Make writes dir/changed.raw (the base image with the change applied),
// dir/changes.json (the change map) and dir/change.json (this
// description), unless Load finds them.
func Make(ctx context.Context, img *imagegen.Image, dir string, percent float64, seed uint64) (*Change, error) {
	if c, err := Load(dir, img.SHA256, percent, seed); err != nil || c != nil {
		return c, err
	}
	start := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cls, err := classify(img)
	if err != nil {
		return nil, err
	}
	exts, classes := plan(cls, img, percent, seed)
	if len(exts) == 0 {
		return nil, fmt.Errorf("image %s has no data to change", img.Path)
	}
	c := &Change{
		Path: filepath.Join(dir, "changed.raw"), MapPath: filepath.Join(dir, "changes.json"),
		Base: img.SHA256, Percent: percent, Seed: seed, Producer: Version,
	}
	tmp := c.Path + ".tmp"
	if err := diskfile.SparseCopy(tmp, img.Path); err != nil {
		return nil, err
	}
	if err := apply(tmp, exts, classes, seed); err != nil {
		return nil, err
	}
	stats := map[Class]*Stat{}
	for i, e := range exts {
		s := stats[classes[i]]
		if s == nil {
			s = &Stat{Class: classes[i]}
			stats[classes[i]] = s
		}
		s.Extents++
		s.Bytes += e.Length
		c.Bytes += e.Length
	}
	for _, k := range []Class{OS, DB, Logs, Blobs, Free, Data} {
		if s := stats[k]; s != nil {
			c.Stats = append(c.Stats, *s)
		}
	}
	c.Extents = exts
	if c.SHA256, _, err = diskfile.HashFile(tmp); err != nil {
		return nil, err
	}
	if c.SHA256 == img.SHA256 {
		return nil, fmt.Errorf("changed image equals the base image")
	}
	m, err := json.Marshal(exts)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.MapPath, append(m, '\n'), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, c.Path); err != nil {
		return nil, err
	}
	c.Elapsed = time.Since(start).Seconds()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "change.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return c, nil
}

// classify returns, per 64 KiB chunk of the image, the class a change there
// would belong to, or "" where no change may go.
func classify(img *imagegen.Image) ([]Class, error) {
	f, err := os.Open(img.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := img.Size / ChunkSize // a partial last chunk is never changed
	cls := make([]Class, n)
	nonzero := make([]bool, n)
	data, err := diskfile.DataExtents(f)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, ChunkSize)
	for _, e := range data {
		for c := e.Offset / ChunkSize; c*ChunkSize < e.End() && c < n; c++ {
			if _, err := f.ReadAt(buf, c*ChunkSize); err != nil && err != io.EOF {
				return nil, err
			}
			nonzero[c] = !allZero(buf)
		}
	}
	if !img.Generated || len(img.Regions) == 0 {
		for c := range cls {
			if nonzero[c] {
				cls[c] = Data
			} else {
				cls[c] = Free
			}
		}
		return cls, nil
	}
	// Chunks fully inside a file region take its class; chunks touching one
	// are left out; other non-zero chunks are OS files or metadata.
	touched := make([]bool, n)
	for region, class := range map[string]Class{imagegen.RegionDB: DB, imagegen.RegionLogs: Logs, imagegen.RegionBlobs: Blobs} {
		for _, e := range img.Regions[region] {
			for c := e.Offset / ChunkSize; c*ChunkSize < e.End() && c < n; c++ {
				touched[c] = true
				if c*ChunkSize >= e.Offset && (c+1)*ChunkSize <= e.End() && nonzero[c] {
					cls[c] = class
				}
			}
		}
	}
	for c := range cls {
		if cls[c] == "" && !touched[c] && nonzero[c] {
			cls[c] = OS
		}
	}
	for _, e := range img.Regions[imagegen.RegionFree] {
		for c := (e.Offset + ChunkSize - 1) / ChunkSize; (c+1)*ChunkSize <= e.End() && c < n; c++ {
			if cls[c] == "" && !touched[c] && !nonzero[c] {
				cls[c] = Free
			}
		}
	}
	return cls, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// share is the part of the change each class gets.
var shares = map[bool][]struct {
	class Class
	share float64
}{
	true:  {{OS, 0.35}, {DB, 0.30}, {Logs, 0.15}, {Blobs, 0.12}, {Free, 0.08}},
	false: {{Data, 0.90}, {Free, 0.10}},
}

// runLen draws the length, in chunks, of one extent of class.
func runLen(r *rand.Rand, class Class) int64 {
	switch class {
	case DB: // single page updates dominate
		switch x := r.IntN(10); {
		case x < 7:
			return 1
		case x < 9:
			return 2
		default:
			return 3 + r.Int64N(2)
		}
	case Logs:
		return 1 + r.Int64N(8)
	case Blobs:
		return 4 + r.Int64N(13)
	case Free:
		return 2 + r.Int64N(15)
	default: // OS, Data: 64 KiB to 1 MiB
		return int64(1) << r.IntN(5)
	}
}

// plan picks the extents to change: percent of the image's allocated
// bytes, split over the classes, each extent inside one class, none
// touching another.
func plan(cls []Class, img *imagegen.Image, percent float64, seed uint64) ([]diskfile.Extent, []Class) {
	r := imagegen.NewRand(seed, "change/select")
	total := int64(float64(img.Allocated)*percent/100+ChunkSize-1) / ChunkSize
	cands := map[Class][]int64{}
	for c, k := range cls {
		if k != "" {
			cands[k] = append(cands[k], int64(c))
		}
	}
	used := make([]bool, len(cls)+1)
	free := func(c int64) bool {
		return c >= 0 && c < int64(len(cls)) && !used[c] && (c == 0 || !used[c-1]) && !used[c+1]
	}
	type pick struct {
		first, n int64
		class    Class
	}
	var picks []pick
	var done int64
	take := func(class Class, budget int64) int64 {
		list := cands[class]
		var got int64
		for tries := 0; got < budget && len(list) > 0 && tries < 100000; tries++ {
			c := list[r.IntN(len(list))]
			if !free(c) {
				continue
			}
			want := min(runLen(r, class), budget-got)
			n := int64(1)
			for n < want && c+n < int64(len(cls)) && cls[c+n] == class && free(c+n) {
				n++
			}
			for i := c; i < c+n; i++ {
				used[i] = true
			}
			picks = append(picks, pick{c, n, class})
			got += n
		}
		return got
	}
	sh := shares[img.Generated && len(img.Regions) > 0]
	for _, s := range sh {
		done += take(s.class, int64(float64(total)*s.share+0.5))
	}
	// Whatever a small class could not take goes to the first class.
	if done < total {
		done += take(sh[0].class, total-done)
	}
	sort.Slice(picks, func(i, j int) bool { return picks[i].first < picks[j].first })
	exts := make([]diskfile.Extent, len(picks))
	classes := make([]Class, len(picks))
	for i, p := range picks {
		exts[i] = diskfile.Extent{Offset: p.first * ChunkSize, Length: p.n * ChunkSize}
		classes[i] = p.class
	}
	return exts, classes
}

// apply writes the new content of each extent into the image at path.
func apply(path string, exts []diskfile.Extent, classes []Class, seed uint64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	db := imagegen.NewDBGen(seed)
	logs := imagegen.NewLogGen(imagegen.Syslog, seed, "change/logs", imagegen.LogStart.Add(30*24*time.Hour))
	access := imagegen.NewLogGen(imagegen.AccessLog, seed, "change/access", imagegen.LogStart.Add(30*24*time.Hour))
	rnd := imagegen.NewRandomStream(seed, "change/random")
	r := imagegen.NewRand(seed, "change/content")
	for i, e := range exts {
		buf := make([]byte, e.Length)
		switch classes[i] {
		case DB: // new versions of the pages
			for off := int64(0); off < e.Length; off += imagegen.PageSize {
				db.Page((e.Offset+off)/imagegen.PageSize, 1, buf[off:off+imagegen.PageSize])
			}
		case Logs: // new log lines
			if r.IntN(2) == 0 {
				logs.Fill(buf)
			} else {
				access.Fill(buf)
			}
		case Blobs:
			rnd.Read(buf)
		case Free: // new files: text or random
			if r.IntN(2) == 0 {
				logs.Fill(buf)
			} else {
				rnd.Read(buf)
			}
		default: // OS, Data: half patched in place (compressible), half new random content
			if r.IntN(2) == 0 {
				rnd.Read(buf)
				break
			}
			if _, err := f.ReadAt(buf, e.Offset); err != nil {
				f.Close()
				return err
			}
			for blk := int64(0); blk < e.Length; blk += 4096 {
				for k := 1 + r.IntN(4); k > 0; k-- {
					n := 16 + r.Int64N(240)
					at := blk + r.Int64N(4096-n)
					rnd.Read(buf[at : at+n])
				}
			}
		}
		if _, err := f.WriteAt(buf, e.Offset); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
