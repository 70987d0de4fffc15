// Package bytesize parses and formats byte counts such as "4GiB".
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// Common sizes.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
)

// Parse reads a size like "4GiB", "512MiB", "4G", "1.5GiB" or "1048576".
// The suffixes K, M, G, T (with or without "iB" or "B") are binary
// multiples; so are "KB", "MB", "GB" for convenience.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("size %q: empty", s)
	}
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "ib"), "b")
	var mult int64
	switch unit {
	case "":
		mult = 1
	case "k":
		mult = KiB
	case "m":
		mult = MiB
	case "g":
		mult = GiB
	case "t":
		mult = GiB << 10
	default:
		return 0, fmt.Errorf("size %q: unknown unit", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number with an optional unit (KiB, MiB, GiB)", s)
	}
	return int64(f * float64(mult)), nil
}

// Format renders n with a binary unit, e.g. "4GiB" or "1.5GiB" (at most
// two decimals).
func Format(n int64) string {
	units := []struct {
		name string
		size int64
	}{{"TiB", GiB << 10}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}}
	for _, u := range units {
		if n >= u.size {
			s := strconv.FormatFloat(float64(n)/float64(u.size), 'f', 2, 64)
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
			return s + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// MiBString renders n in MiB with one decimal, e.g. "1843.2".
func MiBString(n int64) string {
	return strconv.FormatFloat(float64(n)/float64(MiB), 'f', 1, 64)
}
