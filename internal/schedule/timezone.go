package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// ParseTimezone returns the location a CBR timezone field names:
//
//   - "UTC+08:00", "UTC-05:30", "UTC+8", "UTC-03": a fixed offset, −12:00 to
//     +14:00, named as given with hours and minutes written out
//     ("UTC+08:00"); "GMT" may stand for "UTC";
//   - "UTC" (or "GMT", "Z"): UTC;
//   - an IANA zone name ("Asia/Shanghai", "Europe/Berlin"), with its
//     daylight saving time rules. Loading one needs the time zone database
//     of the host or a binary that embeds time/tzdata.
//
// "Local" and the empty string are refused: a policy must not depend on
// the host's zone. Errors have the kind [cairn.Invalid].
func ParseTimezone(s string) (*time.Location, error) {
	loc, err := parseTimezone(strings.TrimSpace(s))
	if err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("timezone %q: %w", s, err))
	}
	return loc, nil
}

func parseTimezone(s string) (*time.Location, error) {
	switch u := strings.ToUpper(s); {
	case s == "":
		return nil, errors.New("empty; want e.g. UTC+08:00 or Asia/Shanghai")
	case u == "UTC" || u == "GMT" || u == "Z":
		return time.UTC, nil
	case strings.HasPrefix(u, "UTC+") || strings.HasPrefix(u, "UTC-") ||
		strings.HasPrefix(u, "GMT+") || strings.HasPrefix(u, "GMT-"):
		return parseOffset(u[3:])
	case strings.EqualFold(s, "Local"):
		return nil, errors.New("the host's local zone is not allowed; want e.g. UTC+08:00 or Asia/Shanghai")
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("want UTC±HH:MM (e.g. UTC+08:00) or an IANA zone name: %w", err)
	}
	return loc, nil
}

// parseOffset parses "+08:00", "-5:30", "+8" or "+0800".
func parseOffset(s string) (*time.Location, error) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	hh, mm, colon := strings.Cut(s[1:], ":")
	if !colon && len(hh) == 4 {
		hh, mm = hh[:2], hh[2:]
	}
	bad := errors.New("offset must be UTC±HH:MM, from UTC-12:00 to UTC+14:00")
	if len(hh) < 1 || len(hh) > 2 || (colon && len(mm) != 2) {
		return nil, bad
	}
	h, err := parseNumber(hh, 0, 14)
	if err != nil {
		return nil, bad
	}
	m := 0
	if mm != "" {
		if m, err = parseNumber(mm, 0, 59); err != nil {
			return nil, bad
		}
	}
	off := sign * (h*3600 + m*60)
	if off < -12*3600 || off > 14*3600 {
		return nil, bad
	}
	c := byte('+')
	if off < 0 {
		c = '-'
	}
	return time.FixedZone(fmt.Sprintf("UTC%c%02d:%02d", c, h, m), off), nil
}
