package chunkstore

import (
	"errors"

	"github.com/cairn-vm/cairn/internal/storage"
)

func isNotExist(err error) bool { return errors.Is(err, storage.ErrNotExist) }
