package schedule

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin for the DST cases, whatever the host has

	"github.com/cairn-vm/cairn/internal/cairn"
)

var (
	plus8  = time.FixedZone("UTC+08:00", 8*3600)
	berlin = mustLoad("Europe/Berlin")
)

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at parses "2006-01-02 15:04" in loc.
func at(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

// utc parses "2006-01-02 15:04" in UTC.
func utc(s string) time.Time { return at(time.UTC, s) }

func mustRule(t *testing.T, p string) Rule {
	t.Helper()
	r, err := ParseRule(p)
	if err != nil {
		t.Fatalf("ParseRule(%q): %v", p, err)
	}
	return r
}

func TestParseRuleErrors(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // substring of the error
	}{
		{"", "empty"},
		{"  ", "empty"},
		{"RRULE:", "empty"},
		{strings.Repeat("X", MaxPatternLen+1), "longer than 10240 bytes"},
		{"BYHOUR=1;BYMINUTE=0", "FREQ is required"},
		{"FREQ=WEEKLY;BYHOUR=1;BYMINUTE=0", "BYDAY is required with FREQ=WEEKLY"},
		{"FREQ=DAILY;BYMINUTE=0", "BYHOUR is required"},
		{"FREQ=DAILY;BYHOUR=3", "BYMINUTE is required"},
		{"FREQ=MONTHLY;BYHOUR=1;BYMINUTE=0", "FREQ=MONTHLY: not supported: CBR accepts DAILY and WEEKLY"},
		{"FREQ=HOURLY;BYMINUTE=0", "FREQ=HOURLY: not supported: CBR accepts DAILY and WEEKLY; list the hours in BYHOUR"},
		{"FREQ=MINUTELY;BYHOUR=1;BYMINUTE=0", "FREQ=MINUTELY: not supported"},
		{"FREQ=FORTNIGHTLY;BYHOUR=1;BYMINUTE=0", "FREQ=FORTNIGHTLY: unknown frequency: want DAILY or WEEKLY"},
		{"FREQ=;BYHOUR=1;BYMINUTE=0", "FREQ=: unknown frequency"},
		{"FREQ=DAILY;FREQ=WEEKLY;BYHOUR=1;BYMINUTE=0", "FREQ given twice"},
		{"FREQ=DAILY;byhour=1;BYHOUR=2;BYMINUTE=0", "BYHOUR given twice"},
		{"FREQ=DAILY;BYHOUR;BYMINUTE=0", `part "BYHOUR": want NAME=VALUE`},
		{"FREQ=DAILY;INTERVAL=0;BYHOUR=1;BYMINUTE=0", "INTERVAL=0: 0 is out of range 1 to 30"},
		{"FREQ=DAILY;INTERVAL=31;BYHOUR=1;BYMINUTE=0", "INTERVAL=31: 31 is out of range 1 to 30"},
		{"FREQ=DAILY;INTERVAL=-1;BYHOUR=1;BYMINUTE=0", `INTERVAL=-1: "-1" is not a number`},
		{"FREQ=DAILY;INTERVAL=two;BYHOUR=1;BYMINUTE=0", `INTERVAL=two: "two" is not a number`},
		{"FREQ=DAILY;INTERVAL=;BYHOUR=1;BYMINUTE=0", `INTERVAL=: "" is not a number`},
		{"FREQ=DAILY;BYHOUR=24;BYMINUTE=0", "BYHOUR=24: hour 24 is out of range 0 to 23"},
		{"FREQ=DAILY;BYHOUR=1,,2;BYMINUTE=0", "BYHOUR=1,,2: empty hour in the list"},
		{"FREQ=DAILY;BYHOUR=;BYMINUTE=0", "BYHOUR=: empty hour in the list"},
		{"FREQ=DAILY;BYHOUR=1x;BYMINUTE=0", `BYHOUR=1x: hour "1x" is not a number`},
		{"FREQ=DAILY;BYHOUR=+1;BYMINUTE=0", `BYHOUR=+1: hour "+1" is not a number`},
		{"FREQ=DAILY;BYHOUR=1;BYMINUTE=60", "BYMINUTE=60: minute 60 is out of range 0 to 59"},
		{"FREQ=DAILY;BYHOUR=1;BYMINUTE=000000", `BYMINUTE=000000: minute "000000" is not a number`},
		{"FREQ=WEEKLY;BYDAY=MO,XX;BYHOUR=1;BYMINUTE=0", `BYDAY=MO,XX: "XX" is not a day: want MO, TU, WE, TH, FR, SA or SU`},
		{"FREQ=WEEKLY;BYDAY=1MO;BYHOUR=1;BYMINUTE=0", `BYDAY=1MO: "1MO" is not a day`},
		{"FREQ=WEEKLY;BYDAY=MONDAY;BYHOUR=1;BYMINUTE=0", `BYDAY=MONDAY: "MONDAY" is not a day`},
		{"FREQ=WEEKLY;BYDAY=MO,;BYHOUR=1;BYMINUTE=0", "BYDAY=MO,: empty day in the list"},
		{"FREQ=DAILY;BYHOUR=1;BYMINUTE=0;COUNT=3", "COUNT=3: not supported: CBR accepts FREQ, INTERVAL, BYDAY, BYHOUR and BYMINUTE"},
		{"FREQ=DAILY;BYHOUR=1;BYMINUTE=0;UNTIL=20260101T000000Z", "UNTIL=20260101T000000Z: not supported"},
		{"FREQ=DAILY;BYHOUR=1;BYMINUTE=0;BYSECOND=0", "BYSECOND=0: not supported"},
		{"FREQ=WEEKLY;BYDAY=MO;BYHOUR=1;BYMINUTE=0;WKST=SU", "WKST=SU: not supported"},
		{"FREQ=DAILY;BYHOUR=1;BYMINUTE=0;BYMONTH=1", "BYMONTH=1: not supported"},
		{"FREQ=DAILY;BYHOUR=1;BYMINUTE=0;COLOR=red", "COLOR=red: unknown part"},
	}
	for _, tc := range tests {
		name := tc.pattern
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			_, err := ParseRule(tc.pattern)
			if err == nil {
				t.Fatalf("ParseRule(%q) = nil error, want %q", tc.pattern, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseRule(%q) = %q, want it to contain %q", tc.pattern, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "pattern ") {
				t.Errorf("error %q does not quote the pattern", err)
			}
			if !cairn.IsKind(err, cairn.Invalid) {
				t.Errorf("kind = %v, want invalid", cairn.KindOf(err))
			}
		})
	}
}

func TestParseRuleAccepts(t *testing.T) {
	tests := []struct {
		pattern  string
		want     string // canonical String()
		freq     Freq
		interval int
	}{
		{"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00",
			"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00", Weekly, 1},
		// order- and case-insensitive, whitespace, trailing ';', RRULE: prefix
		{" rrule:byminute=5; byHour = 23,1 ;byday=su,mo;Freq=weekly; ",
			"FREQ=WEEKLY;BYDAY=MO,SU;BYHOUR=01,23;BYMINUTE=05", Weekly, 1},
		{"FREQ=DAILY;INTERVAL=3;BYHOUR=2,14;BYMINUTE=30",
			"FREQ=DAILY;INTERVAL=3;BYHOUR=02,14;BYMINUTE=30", Daily, 3},
		{"FREQ=DAILY;INTERVAL=01;BYHOUR=0;BYMINUTE=0",
			"FREQ=DAILY;BYHOUR=00;BYMINUTE=00", Daily, 1},
		{"FREQ=DAILY;BYDAY=SA,SU,SA;BYHOUR=6;BYMINUTE=0;;",
			"FREQ=DAILY;BYDAY=SA,SU;BYHOUR=06;BYMINUTE=00", Daily, 1},
		{"FREQ=WEEKLY;INTERVAL=30;BYDAY=FR;BYHOUR=23;BYMINUTE=59",
			"FREQ=WEEKLY;INTERVAL=30;BYDAY=FR;BYHOUR=23;BYMINUTE=59", Weekly, 30},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			r := mustRule(t, tc.pattern)
			if got := r.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if r.Freq() != tc.freq || r.Interval() != tc.interval {
				t.Errorf("Freq, Interval = %v, %d; want %v, %d", r.Freq(), r.Interval(), tc.freq, tc.interval)
			}
			// The canonical form parses to the same rule.
			if r2 := mustRule(t, r.String()); !r2.equal(r) {
				t.Errorf("round trip: %q parses to %q", r.String(), r2)
			}
		})
	}
}

func TestZeroRule(t *testing.T) {
	var r Rule
	if got := r.Next(utc("2026-01-01 00:00"), nil); !got.IsZero() {
		t.Errorf("zero Rule Next = %v, want zero", got)
	}
	if r.String() != "" {
		t.Errorf("zero Rule String = %q", r.String())
	}
	if got := (Trigger{}).Next(utc("2026-01-01 00:00"), nil); !got.IsZero() {
		t.Errorf("zero Trigger Next = %v, want zero", got)
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		start   string // in loc; "" for none
		loc     *time.Location
		after   time.Time
		want    []time.Time // the successive firings
	}{
		{
			name:    "every day 14:00, Sunday to Monday across the week boundary",
			pattern: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00",
			loc:     plus8,
			after:   at(plus8, "2026-01-04 13:59"), // a Sunday
			want:    []time.Time{at(plus8, "2026-01-04 14:00"), at(plus8, "2026-01-05 14:00"), at(plus8, "2026-01-06 14:00")},
		},
		{
			name:    "strictly after: a firing at after is not returned",
			pattern: "FREQ=DAILY;BYHOUR=14;BYMINUTE=00",
			loc:     plus8,
			after:   at(plus8, "2026-01-04 14:00"),
			want:    []time.Time{at(plus8, "2026-01-05 14:00")},
		},
		{
			name:    "Fridays only: into the next week",
			pattern: "FREQ=WEEKLY;BYDAY=FR;BYHOUR=9;BYMINUTE=0",
			loc:     plus8,
			after:   at(plus8, "2026-01-09 09:00"),
			want:    []time.Time{at(plus8, "2026-01-16 09:00"), at(plus8, "2026-01-23 09:00")},
		},
		{
			name:    "Sunday night to Monday night",
			pattern: "FREQ=WEEKLY;BYDAY=SU,MO;BYHOUR=23;BYMINUTE=59",
			loc:     plus8,
			after:   at(plus8, "2026-01-03 00:00"),
			want:    []time.Time{at(plus8, "2026-01-04 23:59"), at(plus8, "2026-01-05 23:59"), at(plus8, "2026-01-11 23:59")},
		},
		{
			name:    "across the year boundary",
			pattern: "FREQ=WEEKLY;BYDAY=TH;BYHOUR=0;BYMINUTE=0",
			loc:     plus8,
			after:   at(plus8, "2025-12-30 12:00"),
			want:    []time.Time{at(plus8, "2026-01-01 00:00"), at(plus8, "2026-01-08 00:00")},
		},
		{
			name:    "the zone decides the day: Monday 07:00 UTC is Monday 15:00 in UTC+8",
			pattern: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=2;BYMINUTE=0",
			loc:     plus8,
			after:   utc("2026-01-04 17:00"), // Monday 01:00 in UTC+8
			want:    []time.Time{utc("2026-01-04 18:00"), utc("2026-01-11 18:00")},
		},
		{
			name:    "several hours and minutes, in order",
			pattern: "FREQ=DAILY;BYHOUR=14,2;BYMINUTE=30,0",
			loc:     plus8,
			after:   at(plus8, "2026-01-05 02:00"),
			want: []time.Time{at(plus8, "2026-01-05 02:30"), at(plus8, "2026-01-05 14:00"),
				at(plus8, "2026-01-05 14:30"), at(plus8, "2026-01-06 02:00")},
		},
		{
			name:    "DAILY limited by BYDAY",
			pattern: "FREQ=DAILY;BYDAY=SA,SU;BYHOUR=6;BYMINUTE=0",
			loc:     plus8,
			after:   at(plus8, "2026-01-05 00:00"), // Monday
			want:    []time.Time{at(plus8, "2026-01-10 06:00"), at(plus8, "2026-01-11 06:00"), at(plus8, "2026-01-17 06:00")},
		},
		{
			name:    "nil location is UTC",
			pattern: "FREQ=DAILY;BYHOUR=0;BYMINUTE=0",
			loc:     nil,
			after:   utc("2026-01-05 12:00"),
			want:    []time.Time{utc("2026-01-06 00:00")},
		},
		{
			name:    "INTERVAL=2 weekly, anchored at a Wednesday start: that week, then every other week",
			pattern: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;BYHOUR=9;BYMINUTE=0",
			start:   "2026-01-07 10:00",
			loc:     plus8,
			after:   at(plus8, "2026-01-01 00:00"),
			want: []time.Time{at(plus8, "2026-01-09 09:00"), // Monday 5th is before the start
				at(plus8, "2026-01-19 09:00"), at(plus8, "2026-01-23 09:00"),
				at(plus8, "2026-02-02 09:00"), at(plus8, "2026-02-06 09:00")},
		},
		{
			name:    "INTERVAL=2 weekly, from the middle of an off week",
			pattern: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;BYHOUR=9;BYMINUTE=0",
			start:   "2026-01-07 10:00",
			loc:     plus8,
			after:   at(plus8, "2026-01-13 00:00"),
			want:    []time.Time{at(plus8, "2026-01-19 09:00")},
		},
		{
			name:    "INTERVAL=2 weekly across DST in Berlin keeps the wall time",
			pattern: "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;BYHOUR=12;BYMINUTE=0",
			start:   "2026-03-15 00:00",
			loc:     berlin,
			after:   at(berlin, "2026-03-14 00:00"),
			want:    []time.Time{utc("2026-03-15 11:00"), utc("2026-03-29 10:00"), utc("2026-04-12 10:00")},
		},
		{
			name:    "INTERVAL=3 daily anchored at the start's day",
			pattern: "FREQ=DAILY;INTERVAL=3;BYHOUR=1;BYMINUTE=0",
			start:   "2026-01-10 05:00",
			loc:     plus8,
			after:   at(plus8, "2026-01-01 00:00"),
			want:    []time.Time{at(plus8, "2026-01-13 01:00"), at(plus8, "2026-01-16 01:00"), at(plus8, "2026-01-19 01:00")},
		},
		{
			name:    "a firing exactly at the start time counts",
			pattern: "FREQ=DAILY;BYHOUR=5;BYMINUTE=0",
			start:   "2026-01-10 05:00",
			loc:     plus8,
			after:   at(plus8, "2026-01-01 00:00"),
			want:    []time.Time{at(plus8, "2026-01-10 05:00"), at(plus8, "2026-01-11 05:00")},
		},
		{
			name:    "DST spring forward: 02:30 does not exist on 29 March in Berlin and is skipped",
			pattern: "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
			loc:     berlin,
			after:   at(berlin, "2026-03-27 12:00"),
			want:    []time.Time{utc("2026-03-28 01:30"), utc("2026-03-30 00:30")},
		},
		{
			name:    "DST spring forward: weekly Sunday 02:30 skips a week",
			pattern: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30",
			loc:     berlin,
			after:   at(berlin, "2026-03-21 00:00"),
			want:    []time.Time{utc("2026-03-22 01:30"), utc("2026-04-05 00:30")},
		},
		{
			name:    "DST spring forward: the hours around the gap still fire",
			pattern: "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=30",
			loc:     berlin,
			after:   at(berlin, "2026-03-29 00:00"),
			want:    []time.Time{utc("2026-03-29 00:30"), utc("2026-03-29 01:30"), utc("2026-03-29 23:30")},
		},
		{
			name:    "DST fall back: 02:30 happens twice on 25 October and fires once, the first time",
			pattern: "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
			loc:     berlin,
			after:   at(berlin, "2026-10-24 12:00"),
			want:    []time.Time{utc("2026-10-25 00:30"), utc("2026-10-26 01:30")},
		},
		{
			name:    "DST fall back: from between the two 02:30s, the next is the following day",
			pattern: "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
			loc:     berlin,
			after:   utc("2026-10-25 00:45"),
			want:    []time.Time{utc("2026-10-26 01:30")},
		},
		{
			name:    "DST fall back: 01:30, 02:30 and 03:30 each fire once",
			pattern: "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=30",
			loc:     berlin,
			after:   utc("2026-10-24 22:00"),
			want:    []time.Time{utc("2026-10-24 23:30"), utc("2026-10-25 00:30"), utc("2026-10-25 02:30"), utc("2026-10-26 00:30")},
		},
		{
			name:    "DST in UTC+08:00 does not exist: same UTC time every day",
			pattern: "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
			loc:     plus8,
			after:   at(plus8, "2026-03-28 12:00"),
			want:    []time.Time{utc("2026-03-28 18:30"), utc("2026-03-29 18:30"), utc("2026-03-30 18:30")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRule(t, tc.pattern)
			if tc.start != "" {
				loc := tc.loc
				if loc == nil {
					loc = time.UTC
				}
				r = r.WithStart(at(loc, tc.start))
			}
			after := tc.after
			for i, want := range tc.want {
				got := r.Next(after, tc.loc)
				if !got.Equal(want) {
					t.Fatalf("firing %d: Next(%v) = %v, want %v", i, after, got, want.In(got.Location()))
				}
				after = got
			}
		})
	}
}

// TestNextBruteForce checks Next against a minute-by-minute walk of the
// wall clock, for random rules around both DST transitions of 2026.
func TestNextBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	days := []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
	for i := range 60 {
		var p strings.Builder
		weekly := rng.IntN(2) == 0
		if weekly {
			p.WriteString("FREQ=WEEKLY")
		} else {
			p.WriteString("FREQ=DAILY")
		}
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&p, ";INTERVAL=%d", 1+rng.IntN(3))
		}
		if weekly || rng.IntN(3) == 0 {
			var ds []string
			for _, d := range days {
				if rng.IntN(3) == 0 {
					ds = append(ds, d)
				}
			}
			if len(ds) == 0 {
				ds = []string{days[rng.IntN(7)]}
			}
			p.WriteString(";BYDAY=" + strings.Join(ds, ","))
		}
		fmt.Fprintf(&p, ";BYHOUR=%d,%d;BYMINUTE=%d", rng.IntN(24), rng.IntN(4)+1, rng.IntN(60))
		r := mustRule(t, p.String())
		loc := berlin
		if i%4 == 0 {
			loc = plus8
		}
		base := utc("2026-03-20 00:00")
		if i%2 == 1 {
			base = utc("2026-10-16 00:00")
		}
		if i%3 == 0 {
			r = r.WithStart(base.Add(time.Duration(rng.IntN(7*24*60)) * time.Minute))
		}
		after := base.Add(time.Duration(rng.IntN(10*24*60)) * time.Minute)
		got := r.Next(after, loc)
		want := bruteNext(r, after, loc)
		if !got.Equal(want) {
			t.Errorf("%s start %v in %v: Next(%v) = %v, brute force says %v", r, r.Start(), loc, after, got, want)
		}
	}
}

// bruteNext walks UTC minutes after after (within 60 days) and returns the
// first whose wall clock in loc matches r and did not occur an hour
// earlier.
func bruteNext(r Rule, after time.Time, loc *time.Location) time.Time {
	var anchor int64
	if !r.start.IsZero() {
		anchor = civilDay(r.start.In(loc).Date())
	}
	for t := after.Truncate(time.Minute).Add(time.Minute); t.Before(after.Add(60 * 24 * time.Hour)); t = t.Add(time.Minute) {
		if t.Before(r.start) {
			continue
		}
		w := t.In(loc)
		if r.hours&(1<<w.Hour()) == 0 || r.minutes&(1<<w.Minute()) == 0 || !r.onDay(w.Weekday()) {
			continue
		}
		day := civilDay(w.Date())
		switch {
		case r.freq == Daily && mod(day-anchor, int64(r.interval)) != 0:
			continue
		case r.freq == Weekly && mod(week(day)-week(anchor), int64(r.interval)) != 0:
			continue
		}
		e := t.Add(-time.Hour).In(loc)
		if e.Hour() == w.Hour() && e.Minute() == w.Minute() && e.Day() == w.Day() {
			continue // the second occurrence of a repeated wall-clock time
		}
		return t
	}
	return time.Time{}
}
