package imagegen

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cairn-vm/cairn/bench/internal/diskfile"
	"github.com/cairn-vm/cairn/bench/internal/run"
)

// Fixed identifiers and times make mkfs.ext4 deterministic.
const (
	fsUUID     = "6c1f7d3e-0b7a-4d57-9a55-2f0f6c3a1b2c"
	fsHashSeed = "2a4f9c3e-5d61-4b8e-8f0a-7e3b1c9d2f46"
	fakeTime   = 1790000000 // 2026-09-21 14:13:20 UTC
)

func e2env() []string {
	return []string{"E2FSPROGS_FAKE_TIME=" + strconv.Itoa(fakeTime), "TZ=UTC", "LC_ALL=C"}
}

// mkfs makes an ext4 file system of size bytes in the new file img,
// populated from staging.
func mkfs(ctx context.Context, r *run.Runner, img, staging string, size int64) error {
	if err := os.Remove(img); err != nil && !os.IsNotExist(err) {
		return err
	}
	_, err := r.Output(ctx, run.Spec{
		Path: "mkfs.ext4",
		Args: []string{"-q", "-F", "-b", "4096", "-T", "default", "-L", "benchroot",
			"-U", fsUUID, "-E", "hash_seed=" + fsHashSeed + ",root_owner=0:0",
			"-d", staging, img, strconv.FormatInt(size/1024, 10) + "k"},
		Env: e2env(),
	})
	return err
}

// fixTimes sets atime, mtime and ctime of every entry (and of the root) to
// the entry's mtime, with debugfs: mkfs.ext4 -d copies the staging tree's
// ctimes, which would differ on every generation.
func fixTimes(ctx context.Context, r *run.Runner, img, cmdFile string, entries []entry) error {
	f, err := os.Create(cmdFile)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	all := append([]entry{{path: "/"}}, entries...)
	for _, e := range all {
		t := int64(fakeTime)
		if !e.mtime.IsZero() {
			t = e.mtime.Unix()
		}
		for _, field := range []string{"atime", "mtime", "ctime"} {
			fmt.Fprintf(w, "set_inode_field %s %s @%d\n", e.path, field, t)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	res := r.Exec(ctx, run.Spec{Path: "debugfs", Args: []string{"-w", "-f", cmdFile, img}, Env: e2env()})
	if res.Err != nil {
		return res.Err
	}
	// debugfs exits 0 even when a command fails; its errors name the command.
	for _, line := range strings.Split(string(res.Stderr), "\n") {
		if strings.HasPrefix(line, "set_inode_field:") {
			return fmt.Errorf("debugfs: %s", line)
		}
	}
	return nil
}

// fsck checks the image read-only.
func fsck(ctx context.Context, r *run.Runner, img string) error {
	_, err := r.Output(ctx, run.Spec{Path: "e2fsck", Args: []string{"-f", "-n", img}, Env: e2env()})
	return err
}

// fileExtents returns the byte extents of the image that hold each of the
// named files' blocks, merged and sorted.
func fileExtents(ctx context.Context, r *run.Runner, img string, blockSize int64, files []string) (map[string][]diskfile.Extent, error) {
	cmdFile := img + ".blocks.cmd"
	defer os.Remove(cmdFile)
	var b strings.Builder
	for _, p := range files {
		fmt.Fprintf(&b, "blocks %s\n", p)
	}
	if err := os.WriteFile(cmdFile, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	out, err := r.Output(ctx, run.Spec{Path: "debugfs", Args: []string{"-f", cmdFile, img}, Env: e2env()})
	if err != nil {
		return nil, err
	}
	res := map[string][]diskfile.Extent{}
	cur := ""
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(line, "debugfs: blocks "); ok {
			cur = strings.TrimSpace(p)
			continue
		}
		if cur == "" {
			continue
		}
		var blocks []int64
		for _, f := range strings.Fields(line) {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("debugfs blocks %s: unexpected %q", cur, f)
			}
			blocks = append(blocks, n)
		}
		res[cur] = append(res[cur], blockRuns(blocks, blockSize)...)
	}
	for _, p := range files {
		if len(res[p]) == 0 {
			return nil, fmt.Errorf("debugfs found no blocks for %s", p)
		}
	}
	return res, nil
}

// blockRuns turns block numbers into merged byte extents.
func blockRuns(blocks []int64, bs int64) []diskfile.Extent {
	sort.Slice(blocks, func(i, j int) bool { return blocks[i] < blocks[j] })
	var out []diskfile.Extent
	for _, b := range blocks {
		if n := len(out); n > 0 && out[n-1].End() == b*bs {
			out[n-1].Length += bs
			continue
		}
		out = append(out, diskfile.Extent{Offset: b * bs, Length: bs})
	}
	return out
}

var freeRe = regexp.MustCompile(`^\s+Free blocks: (.+)$`)

// fsInfo returns the block size and the free block ranges (as byte
// extents) of the image, from dumpe2fs.
func fsInfo(ctx context.Context, r *run.Runner, img string) (int64, []diskfile.Extent, error) {
	out, err := r.Output(ctx, run.Spec{Path: "dumpe2fs", Args: []string{img}, Env: e2env()})
	if err != nil {
		return 0, nil, err
	}
	var bs int64
	var free []diskfile.Extent
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Block size:"); ok {
			bs, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("dumpe2fs block size %q", v)
			}
			continue
		}
		m := freeRe.FindStringSubmatch(line)
		if m == nil || bs == 0 {
			continue
		}
		for _, rng := range strings.Split(m[1], ",") {
			rng = strings.TrimSpace(rng)
			lo, hi, ok := strings.Cut(rng, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.ParseInt(lo, 10, 64)
			b, err2 := strconv.ParseInt(hi, 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			free = append(free, diskfile.Extent{Offset: a * bs, Length: (b - a + 1) * bs})
		}
	}
	if bs == 0 {
		return 0, nil, fmt.Errorf("dumpe2fs printed no block size")
	}
	return bs, free, nil
}
