// Package storage defines where a vault's objects live: a Backend holds
// named, immutable objects and offers the five operations that every object
// store has (put, get, stat, list, delete). Nothing in the vault format relies
// on appending to an object or on renaming one.
package storage

import (
	"context"
	"errors"
	"time"
)

// ErrNotExist is returned (wrapped) when a named object does not exist.
// Test with errors.Is.
var ErrNotExist = errors.New("object does not exist")

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Name    string    // full object name, e.g. "chunks/ab/ab12..."
	Size    int64     // bytes
	ModTime time.Time // when the object was last written
}

// Backend stores immutable objects under slash-separated names made of
// [A-Za-z0-9._-] segments. Implementations must be safe for concurrent use.
type Backend interface {
	// Put stores data under name. When Put returns nil the object is
	// durable (it survives a crash or power loss of the storing machine)
	// and readers see either the whole object or, before Put, nothing:
	// never a part. Putting an existing name replaces the object
	// atomically; the vault does so only with identical content, or for
	// objects it documents as replaceable (locks).
	Put(ctx context.Context, name string, data []byte) error

	// Get returns the whole object. A missing object gives an error
	// wrapping ErrNotExist.
	Get(ctx context.Context, name string) ([]byte, error)

	// Stat describes an object without reading it. A missing object gives
	// an error wrapping ErrNotExist.
	Stat(ctx context.Context, name string) (ObjectInfo, error)

	// List calls fn, in the caller's goroutine, for every object whose name
	// starts with prefix, in no particular order. An error from fn stops
	// the listing and is returned. Objects put or deleted during a listing
	// may or may not be seen.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error

	// Delete removes an object. Deleting a missing object is not an error.
	Delete(ctx context.Context, name string) error

	// Close releases resources. The Backend must not be used after.
	Close() error
}

// Location describes where a Backend keeps its objects, for messages.
type Location interface {
	Location() string
}

// ValidName reports whether name is a valid object name: non-empty
// segments of [A-Za-z0-9._-] separated by '/', no segment "." or "..", at
// most 1024 bytes.
func ValidName(name string) bool {
	if name == "" || len(name) > 1024 {
		return false
	}
	seg := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '/' {
			s := name[seg:i]
			if s == "" || s == "." || s == ".." {
				return false
			}
			seg = i + 1
			continue
		}
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
