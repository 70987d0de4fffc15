package imagegen

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func TestLogGenDeterministic(t *testing.T) {
	fill := func() []byte {
		g := NewLogGen(Syslog, 1, "t", LogStart)
		b := make([]byte, 100000)
		g.Fill(b[:333])
		g.Fill(b[333:])
		return b
	}
	a, b := fill(), fill()
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different logs")
	}
	if bytes.Count(a, []byte("\n")) < 100 || !bytes.HasPrefix(a, []byte("Sep  1 00:00:00 ")) {
		t.Fatalf("logs do not look like syslog: %q", a[:80])
	}
	g := NewLogGen(AccessLog, 2, "t", time.Unix(0, 0))
	c := make([]byte, 100000)
	g.Fill(c)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same logs")
	}
}

func TestDBPage(t *testing.T) {
	g := NewDBGen(1)
	p0, p1, p0b := make([]byte, PageSize), make([]byte, PageSize), make([]byte, PageSize)
	g.Page(5, 0, p0)
	g.Page(5, 1, p1)
	g.Page(5, 0, p0b)
	if !bytes.Equal(p0, p0b) || bytes.Equal(p0, p1) {
		t.Fatal("pages are not deterministic per (page, version)")
	}
	lower, upper := binary.LittleEndian.Uint16(p0[12:]), binary.LittleEndian.Uint16(p0[14:])
	if lower <= 24 || upper <= lower || upper > PageSize {
		t.Fatalf("bad page header: lower %d upper %d", lower, upper)
	}
	if !bytes.Contains(p0, []byte("@example.com")) {
		t.Fatal("page holds no records")
	}
}
