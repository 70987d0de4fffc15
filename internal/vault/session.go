package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/storage"
)

// Session is a backup in progress: it holds a backup lock and knows which
// chunks the vault already has and may be relied on. It is safe for
// concurrent use.
type Session struct {
	v       *Vault
	lock    *Lock
	PointID string

	known  map[cairn.ChunkID]struct{} // stored and not doomed; read-only
	doomed map[cairn.ChunkID]struct{} // a garbage collection may delete these

	mu      sync.Mutex
	claimed map[cairn.ChunkID]struct{}
}

// BeginBackup starts a backup of a new restore point. The order matters to
// garbage collection (see gc.go): the lock is written first, then the
// pending deletions are read, then the chunks are listed.
func (v *Vault) BeginBackup(ctx context.Context) (*Session, error) {
	id := NewPointID()
	l, err := v.lock(ctx, LockBackup, id)
	if err != nil {
		return nil, err
	}
	s := &Session{v: v, lock: l, PointID: id, claimed: map[cairn.ChunkID]struct{}{}}
	if s.doomed, err = v.pendingDeletions(ctx); err != nil {
		_ = l.Release(context.WithoutCancel(ctx))
		return nil, err
	}
	s.known = map[cairn.ChunkID]struct{}{}
	err = v.be.List(ctx, chunkstore.ChunkPrefix, func(oi storage.ObjectInfo) error {
		if id, ok := chunkstore.ParseChunkName(oi.Name); ok && oi.Size >= chunkstore.Overhead {
			if _, d := s.doomed[id]; !d {
				s.known[id] = struct{}{}
			}
		}
		return nil
	})
	if err != nil {
		_ = l.Release(context.WithoutCancel(ctx))
		return nil, cairn.E(cairn.IO, fmt.Errorf("list chunks: %w", err))
	}
	return s, nil
}

// Usable reports whether the vault has chunk id and this backup may refer
// to it without storing it again (for chunks inherited from a parent).
func (s *Session) Usable(id cairn.ChunkID) bool {
	if id.IsZero() {
		return true
	}
	_, ok := s.known[id]
	return ok
}

// Claim reports whether the caller must store chunk id: it is neither in
// the vault nor already being stored by this backup. Exactly one caller
// gets true for each new id.
func (s *Session) Claim(id cairn.ChunkID) bool {
	if _, ok := s.known[id]; ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.claimed[id]; ok {
		return false
	}
	s.claimed[id] = struct{}{}
	return true
}

// Commit checks that the backup lock still protects this backup and makes
// the restore point visible, then releases the lock.
func (s *Session) Commit(ctx context.Context, rp *RestorePoint, manifests []*Manifest) error {
	if rp.ID != s.PointID {
		return fmt.Errorf("commit: restore point %s in session %s", rp.ID, s.PointID)
	}
	if err := s.lock.Check(); err != nil {
		return fmt.Errorf("commit restore point: %w", err)
	}
	if err := s.v.Commit(ctx, rp, manifests); err != nil {
		return err
	}
	return s.lock.Release(context.WithoutCancel(ctx))
}

// Abort ends the session without a restore point. Chunks it stored stay
// until garbage collection removes them.
func (s *Session) Abort(ctx context.Context) error {
	return s.lock.Release(ctx)
}

const gcPrefix = "gc/"

// pendingList is the content of a gc/ object: chunks a garbage collection
// intends to delete.
type pendingList struct {
	ID      string `json:"id"`
	LockID  string `json:"lock"`
	Chunks  []byte `json:"chunks"` // concatenated 32-byte ids
	Created string `json:"created"`
}

func (p *pendingList) ids() []cairn.ChunkID {
	out := make([]cairn.ChunkID, len(p.Chunks)/32)
	for i := range out {
		copy(out[i][:], p.Chunks[32*i:])
	}
	return out
}

// pendingLists reads every gc/ object.
func (v *Vault) pendingLists(ctx context.Context) ([]*pendingList, error) {
	var names []string
	if err := v.be.List(ctx, gcPrefix, func(oi storage.ObjectInfo) error {
		names = append(names, oi.Name)
		return nil
	}); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("list pending deletions: %w", err))
	}
	var out []*pendingList
	for _, n := range names {
		data, err := v.getRaw(ctx, n)
		if cairn.IsKind(err, cairn.NotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var p pendingList
		if err := json.Unmarshal(data, &p); err != nil || len(p.Chunks)%32 != 0 {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("%s: not a pending deletion list", n))
		}
		p.ID = strings.TrimPrefix(n, gcPrefix)
		out = append(out, &p)
	}
	return out, nil
}

// pendingDeletions returns the union of all pending deletion lists.
func (v *Vault) pendingDeletions(ctx context.Context) (map[cairn.ChunkID]struct{}, error) {
	lists, err := v.pendingLists(ctx)
	if err != nil {
		return nil, err
	}
	out := map[cairn.ChunkID]struct{}{}
	for _, p := range lists {
		for _, id := range p.ids() {
			out[id] = struct{}{}
		}
	}
	return out, nil
}
