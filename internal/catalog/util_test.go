package catalog

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

func TestNewIDAndSecret(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id, s := NewID(), NewSecret()
		if !uuid.MatchString(id) {
			t.Fatalf("NewID() = %q, not a version 4 UUID", id)
		}
		if !strings.HasPrefix(s, SecretPrefix) || len(s) != len(SecretPrefix)+43 {
			t.Fatalf("NewSecret() = %q", s)
		}
		if seen[id] || seen[s] {
			t.Fatal("a repeated id or secret")
		}
		seen[id], seen[s] = true, true
	}
	// SHA-256 of "abc".
	if got := HashSecret("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashSecret(abc) = %s", got)
	}
}

func TestCursor(t *testing.T) {
	for _, c := range []Cursor{
		{Time: time.Date(2025, 3, 4, 5, 6, 7, 891011000, time.UTC), Key: "a-b/c"},
		{Key: "westeurope"},
		{},
	} {
		got, err := DecodeCursor(EncodeCursor(c))
		if err != nil || !got.Time.Equal(c.Time) || got.Key != c.Key {
			t.Errorf("round trip of %+v: %+v, %v", c, got, err)
		}
	}
	for _, bad := range []string{"", "x", "WyIyIiwiMCIsImEiXQ" /* version 2 */, "WyIxIiwieCIsImEiXQ" /* time x */} {
		if _, err := DecodeCursor(bad); !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("DecodeCursor(%q): %v, want kind invalid", bad, err)
		}
	}
}

func TestMergeProgress(t *testing.T) {
	list := []DiskProgress{{Disk: "a", BytesDone: 1, BytesTotal: 10}}
	got := MergeProgress(list, DiskProgress{Disk: "b", BytesTotal: 5}, DiskProgress{Disk: "a", BytesDone: 10, BytesTotal: 10})
	if len(got) != 2 || got[0] != (DiskProgress{Disk: "a", BytesDone: 10, BytesTotal: 10}) || got[1].Disk != "b" {
		t.Errorf("MergeProgress = %+v", got)
	}
	if list[0].BytesDone != 1 {
		t.Error("MergeProgress changed its input")
	}
	op := Operation{Progress: got}
	if op.Percent() != 66 {
		t.Errorf("Percent = %d, want 66", op.Percent())
	}
	if (DiskProgress{BytesDone: 5}).Percent() != 0 || (DiskProgress{BytesDone: 7, BytesTotal: 5}).Percent() != 100 {
		t.Error("Percent of an unsized or overfull disk")
	}
}

func TestTimestamp(t *testing.T) {
	in := time.Date(2025, 1, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	got := Timestamp(in)
	if got.Location() != time.UTC || got.Nanosecond() != 123456000 || !got.Equal(in.Truncate(time.Microsecond)) {
		t.Errorf("Timestamp(%s) = %s", in, got)
	}
	if !Timestamp(time.Time{}).IsZero() {
		t.Error("Timestamp of the zero time is not zero")
	}
}

func TestTokenExpired(t *testing.T) {
	now := time.Now()
	cases := []struct {
		expires time.Time
		want    bool
	}{{time.Time{}, false}, {now.Add(time.Second), false}, {now, true}, {now.Add(-time.Second), true}}
	for _, tc := range cases {
		tk := Token{Expires: tc.expires}
		if got := tk.Expired(now); got != tc.want {
			t.Errorf("Expired with Expires %s at %s = %v", tc.expires, now, got)
		}
	}
}
