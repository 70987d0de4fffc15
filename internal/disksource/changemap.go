package disksource

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// ChangeMap lists the byte ranges of a disk that changed since a previous
// backup. A ChangeMap returned by [ParseChangeMap] is normalized: its
// extents are sorted by offset, have a positive length, and neither
// overlap nor touch (adjacent ranges are merged).
type ChangeMap []cairn.Extent

// Bytes returns the total length of the extents.
func (m ChangeMap) Bytes() int64 {
	var n int64
	for _, e := range m {
		n += e.Length
	}
	return n
}

// ParseChangeMap parses a JSON change map of a disk of diskSize bytes,
// validates it and returns it normalized. Errors are of kind
// [cairn.Invalid]; they name the offending entry by its index (from 0) and
// the rule it breaks.
//
// # Accepted input
//
// The document is either an array of entries or an object whose "extents"
// member is an array of entries (other members are ignored). An empty
// array means nothing changed. Each entry is an object with:
//
//   - a position: "start" if the entry has one, else "offset". With
//     "start", as in `qemu-img map --output=json`, "offset" is the position
//     of the data in the image file and is ignored;
//   - "length";
//   - optionally, whether the range changed, from the first of these that
//     the entry has: "dirty" (boolean), "data" (boolean, as in qemu-img
//     map), or "description" ("dirty" or "clean", as in
//     `nbdinfo --map=qemu:dirty-bitmap:NAME --json`; any other description
//     is an error). An entry with none of them is a change.
//
// Positions and lengths are JSON integers. Other members ("depth",
// "present", "zero", "compressed", "type", …) are ignored. Every entry must
// satisfy 0 ≤ position, 0 ≤ length and position + length ≤ diskSize,
// whether it is a change or not. Zero-length entries are then dropped,
// entries that are not changes are ignored, and the rest are sorted and
// merged where they overlap or touch.
//
// So all of these are accepted:
//
//	[{"offset": 0, "length": 65536}, {"offset": 1048576, "length": 4096}]
//	{"extents": [{"offset": 0, "length": 65536}]}
//	[{"start": 0, "length": 65536, "dirty": true}, {"start": 65536, "length": 65536, "dirty": false}]
//	[{"start": 0, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "offset": 327680}]
//	[{"offset": 0, "length": 65536, "type": 1, "description": "dirty"}]
//
// Caution: `qemu-img map` run on an NBD export with the x-dirty-bitmap
// option reports the bitmap's dirty bit in place of the "hole" bit, so
// there dirty ranges appear as "data": false. ParseChangeMap cannot tell
// such output from an allocation map and would read it backwards; convert
// it to "dirty" entries first, or use nbdinfo.
func ParseChangeMap(data []byte, diskSize int64) (ChangeMap, error) {
	if diskSize < 0 {
		return nil, invalid(fmt.Errorf("change map: disk size %d is negative", diskSize))
	}
	entries, err := changeMapEntries(data)
	if err != nil {
		return nil, err
	}
	var m ChangeMap
	for i, raw := range entries {
		e, changed, err := parseEntry(raw, diskSize)
		if err != nil {
			return nil, invalid(fmt.Errorf("change map entry %d: %w", i, err))
		}
		if changed && e.Length > 0 {
			m = append(m, e)
		}
	}
	return normalize(m), nil
}

func invalid(err error) error { return cairn.E(cairn.Invalid, err) }

// changeMapEntries returns the entries of either accepted document shape.
func changeMapEntries(data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, invalid(errors.New("change map: empty document; want a JSON array of extents or an object with \"extents\""))
	}
	var entries []json.RawMessage
	switch data[0] {
	case '[':
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, invalid(fmt.Errorf("change map: %w", err))
		}
	case '{':
		var doc struct {
			Extents *[]json.RawMessage `json:"extents"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, invalid(fmt.Errorf("change map: %w", err))
		}
		if doc.Extents == nil {
			return nil, invalid(errors.New("change map: the object has no \"extents\" array"))
		}
		entries = *doc.Extents
	default:
		return nil, invalid(errors.New("change map: want a JSON array of extents or an object with \"extents\""))
	}
	return entries, nil
}

// rawEntry is one entry of any accepted shape.
type rawEntry struct {
	Start       *int64  `json:"start"`
	Offset      *int64  `json:"offset"`
	Length      *int64  `json:"length"`
	Dirty       *bool   `json:"dirty"`
	Data        *bool   `json:"data"`
	Description *string `json:"description"`
}

// parseEntry decodes and validates one entry and says whether it is a
// change.
func parseEntry(raw json.RawMessage, diskSize int64) (cairn.Extent, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return cairn.Extent{}, false, fmt.Errorf("want an object, have %.40s", raw)
	}
	var r rawEntry
	if err := json.Unmarshal(raw, &r); err != nil {
		return cairn.Extent{}, false, err
	}
	var e cairn.Extent
	name := "offset"
	switch {
	case r.Start != nil:
		e.Offset, name = *r.Start, "start"
	case r.Offset != nil:
		e.Offset = *r.Offset
	default:
		return e, false, errors.New(`has neither "offset" nor "start"`)
	}
	if r.Length == nil {
		return e, false, errors.New(`has no "length"`)
	}
	e.Length = *r.Length

	switch {
	case e.Offset < 0:
		return e, false, fmt.Errorf("%s %d is negative", name, e.Offset)
	case e.Length < 0:
		return e, false, fmt.Errorf("length %d is negative", e.Length)
	case e.Offset > diskSize || e.Length > diskSize-e.Offset:
		end := "past " + fmt.Sprint(int64(math.MaxInt64))
		if e.Length <= math.MaxInt64-e.Offset {
			end = fmt.Sprint(e.End())
		}
		return e, false, fmt.Errorf("%s %d + length %d ends at %s, past the end of the disk (%d bytes)", name, e.Offset, e.Length, end, diskSize)
	}

	changed := true
	switch {
	case r.Dirty != nil:
		changed = *r.Dirty
	case r.Data != nil:
		changed = *r.Data
	case r.Description != nil:
		switch *r.Description {
		case "dirty":
		case "clean":
			changed = false
		default:
			return e, false, fmt.Errorf(`description %q is neither "dirty" nor "clean" (is it a dirty-bitmap map?)`, *r.Description)
		}
	}
	return e, changed, nil
}

// normalize sorts m and merges extents that overlap or touch, in place.
func normalize(m ChangeMap) ChangeMap {
	if len(m) == 0 {
		return ChangeMap{}
	}
	slices.SortFunc(m, func(a, b cairn.Extent) int {
		return cmp.Or(cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Length, b.Length))
	})
	out := m[:1]
	for _, e := range m[1:] {
		last := &out[len(out)-1]
		if e.Offset <= last.End() {
			last.Length = max(last.End(), e.End()) - last.Offset
			continue
		}
		out = append(out, e)
	}
	return out
}
