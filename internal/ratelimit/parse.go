package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// rateRule is the grammar ParseRate accepts, for error messages.
const rateRule = `a rate is a number of bytes per second: digits with an optional fraction, ` +
	`an optional unit (B; K, M, G, T or KiB, MiB, GiB, TiB for powers of 1024; KB, MB, GB, TB for powers of 1000) ` +
	`and an optional "/s", e.g. "200MiB/s", "50MB/s", "10M" or "1048576"; 0 means unlimited`

var rateRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?([A-Za-z]*)(/[sS])?$`)

// rateUnits maps upper-cased units to their size in bytes.
var rateUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
	"M": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
	"G": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
	"T": 1 << 40, "TIB": 1 << 40, "TB": 1e12,
}

// ParseRate parses a byte rate given on the command line and returns it in
// bytes per second, for [New]. It accepts a non-negative decimal number
// (digits, optionally a '.' and more digits; no sign, no exponent),
// optionally one space, an optional unit and an optional "/s":
//
//   - no unit or "B": bytes;
//   - "K", "M", "G", "T" and "KiB", "MiB", "GiB", "TiB": 1024, 1024², …
//     bytes (as dd, qemu-img and rclone read "10M");
//   - "KB", "MB", "GB", "TB": 1000, 1000², … bytes.
//
// Units and "/s" are case-insensitive; they are always bytes, never bits.
// Fractions are rounded down to whole bytes: "1.5KiB/s" is 1536. "0" (with
// any unit) is 0, which New reads as unlimited; a non-zero rate that rounds
// down to 0 bytes per second is an error, as is one above math.MaxInt64.
// Errors are of kind [cairn.Invalid] and state the rule.
func ParseRate(s string) (int64, error) {
	m := rateRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, rateError(s, errors.New("not a number with a unit"))
	}
	unit, ok := rateUnits[strings.ToUpper(m[2])]
	if !ok {
		return 0, rateError(s, fmt.Errorf("unknown unit %q", m[2]))
	}
	num, ok := new(big.Rat).SetString(m[1])
	if !ok { // cannot happen: the regexp admits only decimals
		return 0, rateError(s, errors.New("not a number"))
	}
	v := new(big.Int).Quo(new(big.Int).Mul(num.Num(), big.NewInt(unit)), num.Denom())
	switch {
	case !v.IsInt64():
		return 0, rateError(s, fmt.Errorf("more than %d bytes per second", int64(math.MaxInt64)))
	case v.Sign() == 0 && num.Sign() != 0:
		return 0, rateError(s, errors.New("less than 1 byte per second"))
	}
	return v.Int64(), nil
}

func rateError(s string, err error) error {
	return cairn.E(cairn.Invalid, fmt.Errorf("rate %q: %w; %s", s, err, rateRule))
}
