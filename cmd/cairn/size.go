package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
)

var sizeRE = regexp.MustCompile(`^([0-9]+) ?([A-Za-z]*)$`)

var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KIB": 1 << 10,
	"M": 1 << 20, "MIB": 1 << 20,
	"G": 1 << 30, "GIB": 1 << 30,
	"T": 1 << 40, "TIB": 1 << 40,
}

// parseSize parses a byte size given on the command line: a whole number
// and an optional binary unit (B, K/KiB, M/MiB, G/GiB, T/TiB), e.g.
// "1MiB", "64K" or "4096". flag names the option in errors.
func parseSize(flag, s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	bad := func(why string) error {
		return cairn.E(cairn.Invalid, fmt.Errorf("%s %q: %s; give a whole number with an optional unit B, KiB, MiB, GiB or TiB, e.g. 1MiB", flag, s, why))
	}
	if m == nil {
		return 0, bad("not a size")
	}
	unit, ok := sizeUnits[strings.ToUpper(m[2])]
	if !ok {
		return 0, bad(fmt.Sprintf("unknown unit %q", m[2]))
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > (1<<62)/unit {
		return 0, bad("too large")
	}
	return n * unit, nil
}
