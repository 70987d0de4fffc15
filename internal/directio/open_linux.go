package directio

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Flag is the open flag that asks for direct I/O (0 where unsupported).
const Flag = syscall.O_DIRECT

// OpenForWrite opens path for direct writes. It reports ok false, with no
// error, when the file system does not do direct I/O (tmpfs, some FUSE
// file systems): write through the page cache then.
func OpenForWrite(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_WRONLY|Flag, 0)
	if Unsupported(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return f, true, nil
}

// Unsupported reports whether an open with Flag failed because the file
// system does not do direct I/O.
func Unsupported(err error) bool { return errors.Is(err, syscall.EINVAL) }

// SetDirect turns direct I/O on or off for an open file.
func SetDirect(f *os.File, on bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		if err != nil {
			serr = err
			return
		}
		if on {
			flags |= unix.O_DIRECT
		} else {
			flags &^= unix.O_DIRECT
		}
		_, serr = unix.FcntlInt(fd, unix.F_SETFL, flags)
	})
	if err != nil {
		return err
	}
	return serr
}
