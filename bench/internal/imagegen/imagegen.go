// Package imagegen builds the benchmark's reproducible VM-like disk image:
// an ext4 file system made by mkfs.ext4 -d from a staging tree with fixed
// UUID, hash seed and times, holding a slice of this machine's /usr, random
// (incompressible) files, syslog-like logs and a database-like file of 8 KiB
// pages, the rest free space. The same size and seed give the same bytes
// on the same machine.
package imagegen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/bytesize"
	"github.com/cairn-vm/cairn/bench/internal/diskfile"
	"github.com/cairn-vm/cairn/bench/internal/run"
)

// Version names the generator's output format; change it when the bytes a
// given size and seed produce change, so cached images are not reused.
const Version = "v1"

// RefSize is the image size the part budgets below are given for; every
// part scales linearly with the requested size.
const RefSize = 4 * bytesize.GiB

// Budgets of each part at RefSize.
const (
	OSBytes     = 1126 * bytesize.MiB // copied from /usr
	RandomBytes = 512 * bytesize.MiB  // incompressible blobs
	LogBytes    = 128 * bytesize.MiB  // text logs
	DBBytes     = 128 * bytesize.MiB  // database pages
)

// Region names: byte ranges of the image that hold one kind of content.
const (
	RegionDB    = "db"    // the database file
	RegionLogs  = "logs"  // the log files
	RegionBlobs = "blobs" // the random files
	RegionFree  = "free"  // free blocks of the file system
)

// Part describes one kind of content in the image.
type Part struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
	Files int    `json:"files"`
}

// Image describes a disk image: the base of the benchmark. It is stored as
// meta.json next to the image.
type Image struct {
	Path      string                       `json:"-"`          // the raw image
	Generated bool                         `json:"generated"`  // made by this package (else given by the user)
	Version   string                       `json:"version"`    // generator version
	Size      int64                        `json:"size"`       // logical size in bytes
	Seed      uint64                       `json:"seed"`       // generator seed
	Allocated int64                        `json:"allocated"`  // bytes the image occupies on disk
	SHA256    string                       `json:"sha256"`     // of the whole image
	BlockSize int64                        `json:"block_size"` // file-system block size, 0 if unknown
	Parts     []Part                       `json:"parts"`
	OSSource  string                       `json:"os_source"` // digest of the copied /usr file list
	Regions   map[string][]diskfile.Extent `json:"regions"`
	Stamp     string                       `json:"stamp,omitempty"` // path, size and mtime of a user's image
}

// Options control Generate.
type Options struct {
	Size     int64       // image size in bytes
	Seed     uint64      // generator seed
	CacheDir string      // parent of the per-image cache directories
	OSRoot   string      // tree to copy OS files from; "" means /usr
	Log      io.Writer   // progress lines; may be nil
	Runner   *run.Runner // runs mkfs.ext4, debugfs, dumpe2fs, e2fsck
}

// Key names the cache directory of an image with these options.
func (o Options) Key() string {
	return fmt.Sprintf("ext4-%s-seed%d-%s", bytesize.Format(o.Size), o.Seed, Version)
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format, args...)
	}
}

// Load reads the image description in dir, if the image it describes is
// there; it returns (nil, nil) when there is none.
func Load(dir string) (*Image, error) {
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var img Image
	if err := json.Unmarshal(b, &img); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "meta.json"), err)
	}
	img.Path = filepath.Join(dir, "base.raw")
	st, err := os.Stat(img.Path)
	if os.IsNotExist(err) || err == nil && st.Size() != img.Size {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &img, nil
}

// Save writes the image description into dir.
func (img *Image) Save(dir string) error {
	b, err := json.MarshalIndent(img, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "meta.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "meta.json"))
}

// Generate returns the image for o, from the cache when it is there, or
// else builds it in CacheDir/Key().
func Generate(ctx context.Context, o Options) (*Image, error) {
	dir := filepath.Join(o.CacheDir, o.Key())
	if img, err := Load(dir); err != nil || img != nil {
		if img != nil {
			o.logf("image: using cached %s\n", img.Path)
		}
		return img, err
	}
	if o.Size < 64*bytesize.MiB {
		return nil, fmt.Errorf("image size %s: want at least 64MiB", bytesize.Format(o.Size))
	}
	if o.OSRoot == "" {
		o.OSRoot = "/usr"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	staging := filepath.Join(dir, "staging")
	if err := os.RemoveAll(staging); err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	scale := func(n int64) int64 {
		v := int64(float64(n) * float64(o.Size) / float64(RefSize))
		return v &^ (PageSize - 1)
	}
	img := &Image{Path: filepath.Join(dir, "base.raw"), Generated: true, Version: Version, Size: o.Size, Seed: o.Seed}
	start := time.Now()

	o.logf("image: copying up to %s of %s into the staging tree\n", bytesize.Format(scale(OSBytes)), o.OSRoot)
	osEntries, osBytes, osFiles, manifest, err := copyOSTree(o.OSRoot, staging, scale(OSBytes), []string{filepath.Join(o.OSRoot, "local")})
	if err != nil {
		return nil, err
	}
	img.OSSource = manifest
	img.Parts = append(img.Parts, Part{Name: "OS files (from " + o.OSRoot + ")", Bytes: osBytes, Files: osFiles})
	entries := osEntries

	gen, err := writeGenerated(staging, o.Seed, scale(RandomBytes), scale(LogBytes), scale(DBBytes))
	if err != nil {
		return nil, err
	}
	entries = append(entries, gen.entries...)
	img.Parts = append(img.Parts, gen.parts...)

	o.logf("image: mkfs.ext4 -d (%s)\n", bytesize.Format(o.Size))
	tmpImg := img.Path + ".tmp"
	if err := mkfs(ctx, o.Runner, tmpImg, staging, o.Size); err != nil {
		return nil, err
	}
	if err := fixTimes(ctx, o.Runner, tmpImg, filepath.Join(dir, "times.cmd"), entries); err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(dir, "times.cmd"))
	if err := fsck(ctx, o.Runner, tmpImg); err != nil {
		return nil, fmt.Errorf("generated image fails e2fsck: %w", err)
	}
	bs, free, err := fsInfo(ctx, o.Runner, tmpImg)
	if err != nil {
		return nil, err
	}
	img.BlockSize = bs
	var files []string
	for _, fs := range gen.regions {
		files = append(files, fs...)
	}
	ext, err := fileExtents(ctx, o.Runner, tmpImg, bs, files)
	if err != nil {
		return nil, err
	}
	img.Regions = map[string][]diskfile.Extent{RegionFree: free}
	for region, fs := range gen.regions {
		for _, f := range fs {
			img.Regions[region] = append(img.Regions[region], ext[f]...)
		}
	}
	if img.Allocated, err = diskfile.Allocated(tmpImg); err != nil {
		return nil, err
	}
	if img.SHA256, _, err = diskfile.HashFile(tmpImg); err != nil {
		return nil, err
	}
	if err := os.Rename(tmpImg, img.Path); err != nil {
		return nil, err
	}
	if err := img.Save(dir); err != nil {
		return nil, err
	}
	o.logf("image: %s built in %.1fs, %s allocated, sha256 %s\n", img.Path, time.Since(start).Seconds(), bytesize.Format(img.Allocated), img.SHA256[:16])
	return img, nil
}

// Inspect describes an image the user gave (any raw disk image), caching
// the description, keyed by the image's path, size and modification time,
// in a directory under cacheDir, which it returns.
func Inspect(path, cacheDir string) (*Image, string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, "", err
	}
	if !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("image %s: not a regular file", path)
	}
	stamp := fmt.Sprintf("%s|%d|%d", abs, st.Size(), st.ModTime().UnixNano())
	sum := sha256.Sum256([]byte(stamp))
	dir := filepath.Join(cacheDir, "user-"+hex.EncodeToString(sum[:6]))
	if b, err := os.ReadFile(filepath.Join(dir, "meta.json")); err == nil {
		var img Image
		if json.Unmarshal(b, &img) == nil && img.Stamp == stamp {
			img.Path = abs
			return &img, dir, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	img := &Image{Path: abs, Size: st.Size(), Stamp: stamp, Version: Version}
	if img.Allocated, err = diskfile.Allocated(abs); err != nil {
		return nil, "", err
	}
	if img.SHA256, _, err = diskfile.HashFile(abs); err != nil {
		return nil, "", err
	}
	return img, dir, img.Save(dir)
}
