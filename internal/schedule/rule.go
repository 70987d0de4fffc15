package schedule

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Limits on patterns.
const (
	// MaxInterval is the largest INTERVAL accepted: CBR's range for its
	// daily interval (1 to 30 days), which cairn applies to WEEKLY too.
	MaxInterval = 30
	// MaxPatternLen is the longest pattern accepted, in bytes, as CBR
	// limits it.
	MaxPatternLen = 10240
)

// Freq is how often a rule repeats: FREQ in a pattern.
type Freq int

// The frequencies a pattern may have.
const (
	Daily  Freq = iota + 1 // FREQ=DAILY
	Weekly                 // FREQ=WEEKLY
)

// String returns the FREQ value: "DAILY" or "WEEKLY".
func (f Freq) String() string {
	switch f {
	case Daily:
		return "DAILY"
	case Weekly:
		return "WEEKLY"
	}
	return "Freq(" + strconv.Itoa(int(f)) + ")"
}

// Rule is one parsed pattern, optionally anchored at a start time. The
// zero Rule never fires. A Rule is a value: it is safe for concurrent use
// and may be copied.
type Rule struct {
	freq     Freq
	interval int
	days     uint8  // bit time.Weekday; 0 = every day (DAILY without BYDAY)
	hours    uint32 // bit h for hour h
	minutes  uint64 // bit m for minute m
	start    time.Time
}

var dayNames = [7]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"} // by time.Weekday

// ParseRule parses one pattern, such as
// "FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=14;BYMINUTE=00"; the package
// documentation lists what it accepts. The rule has no start time (see
// [Rule.WithStart]). The error, of kind [cairn.Invalid], quotes the pattern
// and names the part at fault.
func ParseRule(pattern string) (Rule, error) {
	r, err := parseRule(pattern)
	if err != nil {
		return Rule{}, cairn.E(cairn.Invalid, fmt.Errorf("pattern %q: %w", pattern, err))
	}
	return r, nil
}

func parseRule(pattern string) (Rule, error) {
	if len(pattern) > MaxPatternLen {
		return Rule{}, fmt.Errorf("longer than %d bytes", MaxPatternLen)
	}
	s := strings.TrimSpace(pattern)
	if len(s) >= 6 && strings.EqualFold(s[:6], "RRULE:") {
		s = s[6:]
	}
	if strings.TrimSpace(s) == "" {
		return Rule{}, errors.New("empty; want e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=14;BYMINUTE=00")
	}
	r := Rule{interval: 1}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return Rule{}, fmt.Errorf("part %q: want NAME=VALUE", part)
		}
		key := strings.ToUpper(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if seen[key] {
			return Rule{}, fmt.Errorf("%s given twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "FREQ":
			r.freq, err = parseFreq(value)
		case "INTERVAL":
			r.interval, err = parseNumber(value, 1, MaxInterval)
		case "BYDAY":
			r.days, err = parseDays(value)
		case "BYHOUR":
			var m uint64
			m, err = parseList(value, "hour", 0, 23)
			r.hours = uint32(m)
		case "BYMINUTE":
			r.minutes, err = parseList(value, "minute", 0, 59)
		case "COUNT", "UNTIL", "BYSECOND", "BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS", "WKST":
			err = errors.New("not supported: CBR accepts FREQ, INTERVAL, BYDAY, BYHOUR and BYMINUTE")
		default:
			err = errors.New("unknown part: CBR accepts FREQ, INTERVAL, BYDAY, BYHOUR and BYMINUTE")
		}
		if err != nil {
			return Rule{}, fmt.Errorf("%s=%s: %w", key, value, err)
		}
	}
	switch {
	case r.freq == 0:
		return Rule{}, errors.New("FREQ is required (DAILY or WEEKLY)")
	case r.freq == Weekly && r.days == 0:
		return Rule{}, errors.New("BYDAY is required with FREQ=WEEKLY")
	case r.hours == 0:
		return Rule{}, errors.New("BYHOUR is required")
	case r.minutes == 0:
		return Rule{}, errors.New("BYMINUTE is required")
	}
	return r, nil
}

func parseFreq(v string) (Freq, error) {
	switch strings.ToUpper(v) {
	case "DAILY":
		return Daily, nil
	case "WEEKLY":
		return Weekly, nil
	case "HOURLY":
		return 0, errors.New("not supported: CBR accepts DAILY and WEEKLY; list the hours in BYHOUR instead")
	case "SECONDLY", "MINUTELY", "MONTHLY", "YEARLY":
		return 0, errors.New("not supported: CBR accepts DAILY and WEEKLY")
	}
	return 0, errors.New("unknown frequency: want DAILY or WEEKLY")
}

// parseNumber parses a decimal number of at most 5 digits, leading zeros
// allowed, and checks it is in [lo, hi].
func parseNumber(v string, lo, hi int) (int, error) {
	if v == "" || len(v) > 5 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", v)
	}
	n, _ := strconv.Atoi(v) // cannot fail: at most 5 digits
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range %d to %d", n, lo, hi)
	}
	return n, nil
}

func parseList(v, what string, lo, hi int) (uint64, error) {
	var set uint64
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return 0, fmt.Errorf("empty %s in the list", what)
		}
		n, err := parseNumber(item, lo, hi)
		if err != nil {
			return 0, fmt.Errorf("%s %w", what, err)
		}
		set |= 1 << n
	}
	return set, nil
}

func parseDays(v string) (uint8, error) {
	var set uint8
	for item := range strings.SplitSeq(v, ",") {
		item = strings.ToUpper(strings.TrimSpace(item))
		if item == "" {
			return 0, errors.New("empty day in the list")
		}
		d := -1
		for i, n := range dayNames {
			if n == item {
				d = i
			}
		}
		if d < 0 {
			return 0, fmt.Errorf("%q is not a day: want MO, TU, WE, TH, FR, SA or SU", item)
		}
		set |= 1 << d
	}
	return set, nil
}

// String renders the rule as a pattern in a canonical form: FREQ,
// INTERVAL (when not 1), BYDAY (Monday first), BYHOUR and BYMINUTE, with
// two-digit hours and minutes, e.g.
// "FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=02,14;BYMINUTE=00". The start time is
// not part of it. The zero Rule renders as "".
func (r Rule) String() string {
	if r.freq == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("FREQ=" + r.freq.String())
	if r.interval > 1 {
		fmt.Fprintf(&b, ";INTERVAL=%d", r.interval)
	}
	if r.days != 0 {
		var ds []string
		for i := range 7 {
			if d := (i + 1) % 7; r.days&(1<<d) != 0 { // Monday first
				ds = append(ds, dayNames[d])
			}
		}
		b.WriteString(";BYDAY=" + strings.Join(ds, ","))
	}
	b.WriteString(";BYHOUR=" + joinBits(uint64(r.hours)))
	b.WriteString(";BYMINUTE=" + joinBits(r.minutes))
	return b.String()
}

func joinBits(set uint64) string {
	var parts []string
	for set != 0 {
		n := bits.TrailingZeros64(set)
		set &^= 1 << n
		parts = append(parts, fmt.Sprintf("%02d", n))
	}
	return strings.Join(parts, ",")
}

// Freq returns the rule's frequency; 0 for the zero Rule.
func (r Rule) Freq() Freq { return r.freq }

// Interval returns the rule's INTERVAL (1 when the pattern has none).
func (r Rule) Interval() int { return r.interval }

// Start returns the rule's start time; the zero time if it has none.
func (r Rule) Start() time.Time { return r.start }

// WithStart returns a copy of r anchored at start: it fires at start or
// later, and start's day or week is the first of each run of INTERVAL
// (see the package documentation). The zero start removes the anchor.
func (r Rule) WithStart(start time.Time) Rule {
	r.start = start
	return r
}

// equal reports whether r and o fire at the same times.
func (r Rule) equal(o Rule) bool {
	return r.freq == o.freq && r.interval == o.interval && r.days == o.days &&
		r.hours == o.hours && r.minutes == o.minutes && r.start.Equal(o.start)
}

// onDay reports whether the rule may fire on weekday d, INTERVAL aside.
func (r Rule) onDay(d time.Weekday) bool { return r.days == 0 || r.days&(1<<d) != 0 }

// maxScanDays bounds Next's search. A valid rule fires within
// 7 × MaxInterval days of any instant but for a skipped time; the bound
// leaves ample room.
const maxScanDays = 7*MaxInterval*2 + 14

// Next returns the first time strictly after after at which r fires, on
// the wall clock of loc (nil means UTC), and not before r's start time. It
// returns the zero time if r never fires (the zero Rule). A wall-clock
// time that does not exist that day is skipped; one that occurs twice
// yields its first occurrence only.
func (r Rule) Next(after time.Time, loc *time.Location) time.Time {
	if r.freq == 0 || r.hours == 0 || r.minutes == 0 {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	lower := after // the result is strictly after lower
	if !r.start.IsZero() {
		if s := r.start.Add(-time.Nanosecond); s.After(lower) {
			lower = s
		}
	}
	interval := int64(max(r.interval, 1))
	var anchor int64 // civil day of the start, 0 = 1970-01-01
	if !r.start.IsZero() {
		anchor = civilDay(r.start.In(loc).Date())
	}
	day := civilDay(lower.In(loc).Date())
	for range maxScanDays {
		// Skip days outside the INTERVAL runs.
		if interval > 1 {
			switch r.freq {
			case Daily:
				if k := mod(day-anchor, interval); k != 0 {
					day += interval - k
					continue
				}
			case Weekly:
				if k := mod(week(day)-week(anchor), interval); k != 0 {
					day = monday(week(day) + interval - k)
					continue
				}
			}
		}
		if r.onDay(weekday(day)) {
			y, m, d := dateOf(day)
			for hs := r.hours; hs != 0; {
				h := bits.TrailingZeros32(hs)
				hs &^= 1 << h
				for ms := r.minutes; ms != 0; {
					mi := bits.TrailingZeros64(ms)
					ms &^= 1 << mi
					if t, ok := resolve(y, m, d, h, mi, loc); ok && t.After(lower) {
						return t
					}
				}
			}
		}
		day++
	}
	return time.Time{}
}

// civilDay numbers a calendar date: 1970-01-01 is 0.
func civilDay(y int, m time.Month, d int) int64 {
	return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400)
}

func dateOf(day int64) (int, time.Month, int) { return time.Unix(day*86400, 0).UTC().Date() }

// weekday returns the day of the week of a civil day; 1970-01-01 was a
// Thursday.
func weekday(day int64) time.Weekday { return time.Weekday(mod(day+4, 7)) }

// week numbers the Monday-to-Sunday week holding a civil day: the week of
// Monday 1969-12-29 is 0.
func week(day int64) int64 { return floorDiv(day+3, 7) }

// monday returns the civil day of the Monday of week w.
func monday(w int64) int64 { return w*7 - 3 }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func mod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// resolve returns the instant at which loc's wall clock reads the given
// date, hour and minute: false if the time does not exist that day (the
// clocks skip it), the first of the two instants if it exists twice.
func resolve(y int, m time.Month, d, h, mi int, loc *time.Location) (time.Time, bool) {
	t := time.Date(y, m, d, h, mi, 0, 0, loc)
	if !wallIs(t, y, m, d, h, mi) {
		return time.Time{}, false
	}
	// If the offset changes around t, t may have a twin one offset
	// difference earlier: prefer it.
	_, before := t.Add(-24 * time.Hour).Zone()
	_, after := t.Add(24 * time.Hour).Zone()
	if diff := before - after; diff != 0 {
		if diff < 0 {
			diff = -diff
		}
		if e := t.Add(-time.Duration(diff) * time.Second); wallIs(e, y, m, d, h, mi) {
			t = e
		}
	}
	return t, true
}

func wallIs(t time.Time, y int, m time.Month, d, h, mi int) bool {
	ty, tm, td := t.Date()
	return ty == y && tm == m && td == d && t.Hour() == h && t.Minute() == mi
}
