package service

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Disk access grants.
//
// A grant token is "v1.<payload>.<mac>": the payload, base64url JSON, names
// the disk restore point, the grant key id and the expiry; the mac is
// HMAC-SHA256 of the payload with the data directory's access-key. The
// disk restore point's Attrs hold the current grant key id under
// accessKeyAttr: every grant of the point carries it, and revoking removes
// it, so every token made so far stops working while new grants get a new
// id.

const (
	grantPrefix   = "v1."
	accessKeyAttr = "cairnAccessKey"
)

type grantPayload struct {
	Disk    string `json:"d"`
	Key     string `json:"k"`
	Expires int64  `json:"e"` // Unix seconds
}

func (s *Service) sign(payload []byte) []byte {
	m := hmac.New(sha256.New, s.accessKey)
	m.Write([]byte(grantPrefix))
	m.Write(payload)
	return m.Sum(nil)
}

// attrString returns the string at key of a JSON object, or "".
func attrString(attrs json.RawMessage, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(attrs, &m) != nil {
		return ""
	}
	var v string
	json.Unmarshal(m[key], &v)
	return v
}

// setAttr returns attrs with key set to value ("" removes it).
func setAttr(attrs json.RawMessage, key, value string) json.RawMessage {
	m := map[string]json.RawMessage{}
	if len(attrs) > 0 {
		if err := json.Unmarshal(attrs, &m); err != nil {
			m = map[string]json.RawMessage{"value": attrs}
		}
	}
	if value == "" {
		delete(m, key)
	} else {
		m[key], _ = json.Marshal(value)
	}
	if len(m) == 0 {
		return nil
	}
	out, _ := json.Marshal(m)
	return out
}

func (s *Service) grantDiskAccess(ctx context.Context, c Caller, id string, ttl time.Duration) (*AccessGrant, error) {
	switch {
	case ttl == 0:
		ttl = DefaultGrantTTL
	case ttl < 0 || ttl > MaxGrantTTL:
		return nil, invalid("access duration %s: must be more than 0 and at most %s", ttl, MaxGrantTTL)
	}
	var key string
	var d *catalog.DiskRestorePoint
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		var p *catalog.RestorePoint
		var err error
		d, p, err = getDiskTx(ctx, tx, c, id)
		if err != nil {
			return err
		}
		disks, err := listAll(func(pg catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
			return tx.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: p.ID}, pg)
		})
		if err != nil {
			return err
		}
		if !restorable(p, disks) {
			return cairn.E(cairn.Conflict, fmt.Errorf("restore point %s is %s: its disks cannot be read yet", p.Name, pointStatus(p, disks)))
		}
		key = attrString(d.Attrs, accessKeyAttr)
		if key == "" {
			var b [12]byte
			rand.Read(b[:])
			key = hex.EncodeToString(b[:])
			d.Attrs = setAttr(d.Attrs, accessKeyAttr, key)
			return tx.PutDiskRestorePoint(ctx, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	expires := s.clock.Now().Add(ttl).Truncate(time.Second)
	payload, _ := json.Marshal(grantPayload{Disk: d.ID, Key: key, Expires: expires.Unix()})
	enc := base64.RawURLEncoding
	token := grantPrefix + enc.EncodeToString(payload) + "." + enc.EncodeToString(s.sign(payload))
	s.log.Info("disk access granted", "disk", d.ID, "expires", expires, "by", c.TokenID)
	return &AccessGrant{Token: token, DiskRestorePointID: d.ID, Expires: expires}, nil
}

func (s *Service) revokeDiskAccess(ctx context.Context, c Caller, id string) error {
	return s.cat.Update(ctx, func(tx catalog.Tx) error {
		d, _, err := getDiskTx(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if attrString(d.Attrs, accessKeyAttr) == "" {
			return nil
		}
		d.Attrs = setAttr(d.Attrs, accessKeyAttr, "")
		return tx.PutDiskRestorePoint(ctx, d)
	})
}

var errBadGrant = cairn.E(cairn.Permission, errors.New("the access token is not valid"))

// checkGrant verifies a token's signature and expiry and returns its
// payload.
func (s *Service) checkGrant(token string) (*grantPayload, error) {
	rest, ok := strings.CutPrefix(token, grantPrefix)
	if !ok {
		return nil, errBadGrant
	}
	p64, m64, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, errBadGrant
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p64)
	mac, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.sign(payload)) {
		return nil, errBadGrant
	}
	var g grantPayload
	if err := json.Unmarshal(payload, &g); err != nil {
		return nil, errBadGrant
	}
	if !s.clock.Now().Before(time.Unix(g.Expires, 0)) {
		return nil, cairn.E(cairn.Permission, errors.New("the access token has expired"))
	}
	return &g, nil
}

func (s *Service) openDisk(ctx context.Context, token string) (DiskReader, error) {
	g, err := s.checkGrant(token)
	if err != nil {
		return nil, err
	}
	d, err := s.cat.GetDiskRestorePoint(ctx, g.Disk)
	if err != nil {
		return nil, hide(err, "disk restore point", g.Disk)
	}
	if k := attrString(d.Attrs, accessKeyAttr); k == "" || !hmac.Equal([]byte(k), []byte(g.Key)) {
		return nil, cairn.E(cairn.Permission, errors.New("the access token has been revoked"))
	}
	v, disk, m, err := s.openStoredDisk(ctx, d.ID)
	if err != nil {
		var oe *catalog.OpError
		if errors.As(err, &oe) {
			return nil, catalog.NotFound("disk restore point", g.Disk)
		}
		return nil, err
	}
	return newDiskReader(ctx, v, disk.Name, m), nil
}

// diskReader reads a disk from its manifest, fetching chunks on demand and
// keeping the last few in memory, so that reads smaller than a chunk do
// not fetch it again.
type diskReader struct {
	ctx     context.Context
	v       *vault.Vault
	name    string
	m       *vault.Manifest
	hashers sync.Pool

	mu    sync.Mutex
	lru   *list.List // of *cached, most recent first
	index map[int]*list.Element
}

type cached struct {
	i    int
	data []byte
}

// readerCache is how many chunks a diskReader keeps.
const readerCache = 4

var _ DiskReader = (*diskReader)(nil)

func newDiskReader(ctx context.Context, v *vault.Vault, name string, m *vault.Manifest) *diskReader {
	r := &diskReader{ctx: ctx, v: v, name: name, m: m, lru: list.New(), index: map[int]*list.Element{}}
	r.hashers.New = func() any { return v.Store().Keys().NewHasher() }
	return r
}

// Size returns the disk's size in bytes.
func (r *diskReader) Size() int64 { return r.m.DiskSize }

// Name returns the disk's name.
func (r *diskReader) Name() string { return r.name }

// Close releases the cached chunks.
func (r *diskReader) Close() error {
	r.mu.Lock()
	r.lru.Init()
	clear(r.index)
	r.mu.Unlock()
	return nil
}

var zeroChunk = make([]byte, vault.MaxChunkSize)

// ReadAt reads len(p) bytes at off, fetching the chunks it spans.
func (r *diskReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, cairn.E(cairn.Invalid, fmt.Errorf("disk %s: negative offset %d", r.name, off))
	}
	size := r.m.DiskSize
	cs := int64(r.m.ChunkSize)
	n := 0
	for n < len(p) && off+int64(n) < size {
		pos := off + int64(n)
		i := int(pos / cs)
		data, err := r.chunk(i)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], data[pos-int64(i)*cs:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunk returns the plaintext of chunk i. The caller must not change it.
func (r *diskReader) chunk(i int) ([]byte, error) {
	id := r.m.IDs[i]
	n := r.m.ChunkLen(i)
	if id.IsZero() {
		return zeroChunk[:n], nil
	}
	r.mu.Lock()
	if e, ok := r.index[i]; ok {
		r.lru.MoveToFront(e)
		data := e.Value.(*cached).data
		r.mu.Unlock()
		return data, nil
	}
	r.mu.Unlock()
	if err := r.ctx.Err(); err != nil {
		return nil, cairn.E(cairn.Canceled, err)
	}
	h := r.hashers.Get().(*chunkstore.Hasher)
	data, err := r.v.Store().Get(r.ctx, h, id, nil)
	r.hashers.Put(h)
	if err != nil {
		return nil, fmt.Errorf("disk %s at offset %d: %w", r.name, int64(i)*int64(r.m.ChunkSize), err)
	}
	if len(data) != n {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("disk %s: chunk %s has %d bytes, the manifest wants %d", r.name, id.Short(), len(data), n))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.index[i]; !ok {
		r.index[i] = r.lru.PushFront(&cached{i: i, data: data})
		for r.lru.Len() > readerCache {
			last := r.lru.Back()
			r.lru.Remove(last)
			delete(r.index, last.Value.(*cached).i)
		}
	}
	return data, nil
}
