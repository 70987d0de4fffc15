package disksource

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/cairn"
)

func ext(offLen ...int64) ChangeMap {
	m := ChangeMap{}
	for i := 0; i < len(offLen); i += 2 {
		m = append(m, cairn.Extent{Offset: offLen[i], Length: offLen[i+1]})
	}
	return m
}

func TestParseChangeMap(t *testing.T) {
	const size = 1 << 20
	tests := []struct {
		name string
		json string
		want ChangeMap
	}{
		{"empty array", `[]`, ext()},
		{"empty object", `{"extents": []}`, ext()},
		{"plain array", `[{"offset":0,"length":65536},{"offset":131072,"length":4096}]`, ext(0, 65536, 131072, 4096)},
		{"object", ` {"extents":[{"offset":4096,"length":4096}], "disk":"vda"} `, ext(4096, 4096)},
		{"unsorted", `[{"offset":8192,"length":10},{"offset":0,"length":10}]`, ext(0, 10, 8192, 10)},
		{"overlapping", `[{"offset":0,"length":100},{"offset":50,"length":100}]`, ext(0, 150)},
		{"contained", `[{"offset":0,"length":1000},{"offset":10,"length":10}]`, ext(0, 1000)},
		{"adjacent", `[{"offset":100,"length":100},{"offset":0,"length":100},{"offset":200,"length":1}]`, ext(0, 201)},
		{"duplicates", `[{"offset":5,"length":5},{"offset":5,"length":5}]`, ext(5, 5)},
		{"same start, longer second", `[{"offset":0,"length":5},{"offset":0,"length":50},{"offset":50,"length":0}]`, ext(0, 50)},
		{"zero length dropped", `[{"offset":10,"length":0},{"offset":1048576,"length":0}]`, ext()},
		{"zero length does not bridge a gap", `[{"offset":0,"length":10},{"offset":10,"length":0},{"offset":11,"length":1}]`, ext(0, 10, 11, 1)},
		{"whole disk", `[{"offset":0,"length":1048576}]`, ext(0, size)},
		{"ends at the disk's end", `[{"offset":1048575,"length":1}]`, ext(size-1, 1)},
		{"dirty flags", `[{"start":0,"length":65536,"dirty":true},{"start":65536,"length":65536,"dirty":false},{"start":131072,"length":65536,"dirty":true}]`, ext(0, 65536, 131072, 65536)},
		{"dirty wins over data", `[{"start":0,"length":10,"dirty":false,"data":true},{"start":10,"length":10,"dirty":true,"data":false}]`, ext(10, 10)},
		{
			"qemu-img map: start is the position, offset is in the image file",
			`[{ "start": 0, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "compressed": false, "offset": 327680},
{ "start": 65536, "length": 458752, "depth": 1, "present": false, "zero": true, "data": false, "compressed": false},
{ "start": 524288, "length": 524288, "depth": 0, "present": true, "zero": false, "data": true, "compressed": false, "offset": 393216}]`,
			ext(0, 65536, 524288, 524288),
		},
		{
			"nbdinfo dirty bitmap",
			`[{ "offset": 0, "length": 65536, "type": 1, "description": "dirty" },
{ "offset": 65536, "length": 983040, "type": 0, "description": "clean" }]`,
			ext(0, 65536),
		},
		{"offset form with data flag", `[{"offset":0,"length":10,"data":false},{"offset":10,"length":10,"data":true}]`, ext(10, 10)},
		{"null flag is absent", `[{"offset":0,"length":10,"dirty":null}]`, ext(0, 10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseChangeMap([]byte(tc.json), size)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m, tc.want) {
				t.Fatalf("got %v, want %v", m, tc.want)
			}
			if m == nil {
				t.Error("nil change map")
			}
		})
	}
}

func TestParseChangeMapErrors(t *testing.T) {
	const size = 1 << 20
	tests := []struct {
		json string
		size int64
		want string // substring of the message
	}{
		{``, size, "empty document"},
		{`   `, size, "empty document"},
		{`null`, size, "want a JSON array"},
		{`42`, size, "want a JSON array"},
		{`"x"`, size, "want a JSON array"},
		{`{}`, size, `no "extents" array`},
		{`{"extents": null}`, size, `no "extents" array`},
		{`{"extents": 5}`, size, "change map: json: cannot unmarshal number"},
		{`[`, size, "change map: unexpected end of JSON input"},
		{`[{"offset":0,"length":1}] x`, size, "change map: invalid character 'x'"},
		{`[5]`, size, "change map entry 0: want an object, have 5"},
		{`[{"offset":0,"length":1}, null]`, size, "change map entry 1: want an object, have null"},
		{`[{"length":1}]`, size, `change map entry 0: has neither "offset" nor "start"`},
		{`[{"offset":0}]`, size, `change map entry 0: has no "length"`},
		{`[{"offset":0,"length":1},{"offset":-1,"length":1}]`, size, "change map entry 1: offset -1 is negative"},
		{`[{"start":-4096,"length":1,"offset":0}]`, size, "change map entry 0: start -4096 is negative"},
		{`[{"offset":0,"length":-1}]`, size, "change map entry 0: length -1 is negative"},
		{`[{"offset":0,"length":1},{"offset":0,"length":1},{"offset":1048570,"length":7}]`, size,
			"change map entry 2: offset 1048570 + length 7 ends at 1048577, past the end of the disk (1048576 bytes)"},
		{`[{"offset":1048577,"length":0}]`, size, "change map entry 0: offset 1048577 + length 0 ends at 1048577, past the end"},
		{`[{"offset":1,"length":9223372036854775807}]`, size, "ends at past 9223372036854775807"},
		{`[{"start":0,"length":2097152,"dirty":false}]`, size, "change map entry 0: start 0 + length 2097152 ends at 2097152, past the end"},
		{`[{"offset":0,"length":1}]`, 0, "past the end of the disk (0 bytes)"},
		{`[]`, -1, "disk size -1 is negative"},
		{`[{"offset":1.5,"length":1}]`, size, "change map entry 0: json: cannot unmarshal number 1.5"},
		{`[{"offset":"0","length":1}]`, size, "change map entry 0: json: cannot unmarshal string"},
		{`[{"offset":0,"length":99999999999999999999}]`, size, "change map entry 0: json: cannot unmarshal number 99999999999999999999"},
		{`[{"offset":0,"length":1,"dirty":"yes"}]`, size, "change map entry 0: json: cannot unmarshal string"},
		{`[{"offset":0,"length":1,"description":"data"}]`, size, `change map entry 0: description "data" is neither "dirty" nor "clean"`},
	}
	for _, tc := range tests {
		m, err := ParseChangeMap([]byte(tc.json), tc.size)
		if err == nil {
			t.Errorf("%s: got %v, want an error", tc.json, m)
			continue
		}
		if !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("%s: kind %v, want invalid", tc.json, cairn.KindOf(err))
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got error %q\n want it to contain %q", tc.json, err, tc.want)
		}
	}
}

func TestChangeMapBytes(t *testing.T) {
	if n := ChangeMap(nil).Bytes(); n != 0 {
		t.Errorf("nil: %d", n)
	}
	if n := ext(0, 10, 100, 5, 1<<40, 1<<30).Bytes(); n != 15+1<<30 {
		t.Errorf("Bytes() = %d", n)
	}
	m, err := ParseChangeMap([]byte(`[{"offset":0,"length":100},{"offset":50,"length":100},{"offset":1000,"length":24}]`), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if m.Bytes() != 174 {
		t.Errorf("Bytes() = %d, want 174 (overlap counted once)", m.Bytes())
	}
}

// FuzzParseChangeMap checks that whatever ParseChangeMap accepts is
// normalized and within the disk.
func FuzzParseChangeMap(f *testing.F) {
	f.Add([]byte(`[{"offset":0,"length":65536},{"offset":10,"length":5}]`), int64(1<<20))
	f.Add([]byte(`{"extents":[{"start":0,"length":5,"dirty":true}]}`), int64(10))
	f.Add([]byte(`[{"offset":5,"length":0}]`), int64(5))
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		m, err := ParseChangeMap(data, size)
		if err != nil {
			if !cairn.IsKind(err, cairn.Invalid) {
				t.Fatalf("kind %v: %v", cairn.KindOf(err), err)
			}
			return
		}
		for i, e := range m {
			if e.Offset < 0 || e.Length <= 0 || e.End() > size {
				t.Fatalf("extent %d %+v outside a disk of %d", i, e, size)
			}
			if i > 0 && e.Offset <= m[i-1].End() {
				t.Fatalf("extents %d and %d overlap or touch: %v", i-1, i, m)
			}
		}
	})
}

// fake is a Reader that is not sparse.
type fake struct{ size int64 }

func (f fake) ReadAt(p []byte, off int64) (int, error) { clear(p); return len(p), nil }
func (f fake) Size() int64                             { return f.size }
func (f fake) Close() error                            { return nil }

type sparseFake struct {
	fake
	ext []cairn.Extent
}

func (s sparseFake) Extents(context.Context) ([]cairn.Extent, error) { return s.ext, nil }

func TestExtents(t *testing.T) {
	ctx := context.Background()
	got, err := Extents(ctx, fake{size: 4096})
	if err != nil || !slices.Equal(got, []cairn.Extent{{Offset: 0, Length: 4096}}) {
		t.Errorf("plain reader: %v, %v", got, err)
	}
	got, err = Extents(ctx, fake{size: 0})
	if err != nil || len(got) != 0 {
		t.Errorf("empty reader: %v, %v", got, err)
	}
	want := []cairn.Extent{{Offset: 512, Length: 512}}
	got, err = Extents(ctx, sparseFake{fake{4096}, want})
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("sparse reader: %v, %v", got, err)
	}
}
