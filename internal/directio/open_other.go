//go:build !linux

package directio

import (
	"errors"
	"os"
)

// Flag is the open flag that asks for direct I/O (0 where unsupported).
const Flag = 0

// OpenForWrite reports ok false: direct I/O is not used here.
func OpenForWrite(path string) (*os.File, bool, error) { return nil, false, nil }

// Unsupported reports false: nothing asks for direct I/O here.
func Unsupported(error) bool { return false }

// SetDirect fails: direct I/O is not used here.
func SetDirect(*os.File, bool) error { return errors.ErrUnsupported }
