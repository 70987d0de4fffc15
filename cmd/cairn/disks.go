package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/disksource"
	"github.com/cairn-vm/cairn/internal/disksource/file"
)

// diskSource adapts a disksource.Reader to the backup engine: it is a
// backup.Source, and a backup.Allocator that reports the reader's data
// extents (the whole disk when the reader cannot tell), so that the holes
// of a sparse image are not read.
type diskSource struct {
	disksource.Reader
}

var (
	_ backup.Source    = diskSource{}
	_ backup.Allocator = diskSource{}
)

// Allocated returns the extents that may hold data.
func (d diskSource) Allocated(ctx context.Context) ([]cairn.Extent, error) {
	return disksource.Extents(ctx, d.Reader)
}

// openDisks opens the disks of a backup and reads their change maps,
// checking that each disk can be read and each change map fits its disk.
// On success the caller must call the returned function to close them.
func openDisks(args []diskArg, changes map[string]string) ([]backup.Disk, func(), error) {
	var opened []*file.Disk
	closeAll := func() {
		for _, d := range opened {
			_ = d.Close()
		}
	}
	var disks []backup.Disk
	for _, a := range args {
		d, err := openDisk(a)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		opened = append(opened, d)
		bd := backup.Disk{Name: a.Name, Source: diskSource{d}}
		if path, ok := changes[a.Name]; ok {
			cm, err := readChangeMap(a.Name, path, d.Size())
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			bd.Changes = []cairn.Extent(cm)
		}
		disks = append(disks, bd)
	}
	return disks, closeAll, nil
}

// openDisk opens one disk image and reads its first bytes, so that a disk
// that cannot be read is found before the backup starts.
func openDisk(a diskArg) (*file.Disk, error) {
	d, err := file.Open(a.Path)
	if err != nil {
		switch cairn.KindOf(err) {
		case cairn.NotExist:
			return nil, cairn.E(cairn.NotExist, fmt.Errorf("disk %q: %s does not exist: check the path", a.Name, a.Path))
		case cairn.Permission:
			return nil, cairn.E(cairn.IO, fmt.Errorf("disk %q: %s cannot be read (permission denied): run cairn as a user who may read it", a.Name, a.Path))
		}
		return nil, fmt.Errorf("disk %q: %w", a.Name, err)
	}
	buf := make([]byte, min(4096, d.Size()))
	if _, err := d.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		d.Close()
		return nil, fmt.Errorf("disk %q: %s cannot be read: %w", a.Name, a.Path, err)
	}
	return d, nil
}

// readChangeMap reads and checks the change map of disk name.
func readChangeMap(name, path string, size int64) (disksource.ChangeMap, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, cairn.E(cairn.NotExist, fmt.Errorf("--changes %s=%s: the change map does not exist: check the path", name, path))
	}
	if err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("--changes %s=%s: %w", name, path, err))
	}
	cm, err := disksource.ParseChangeMap(data, size)
	if err != nil {
		return nil, fmt.Errorf("--changes %s=%s: %w", name, path, err)
	}
	return cm, nil
}
