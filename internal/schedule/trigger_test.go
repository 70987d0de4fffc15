package schedule

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

func TestParseTriggerErrors(t *testing.T) {
	var tooMany []string
	for h := range 25 {
		tooMany = append(tooMany, fmt.Sprintf("FREQ=WEEKLY;BYDAY=MO;BYHOUR=%d;BYMINUTE=0", h%24))
	}
	tests := []struct {
		name     string
		patterns []string
		want     string
	}{
		{"none", nil, "trigger.properties.pattern: at least one pattern is required"},
		{"too many", tooMany, "trigger.properties.pattern: 25 patterns, at most 24 are allowed"},
		{"bad pattern named by index", []string{"FREQ=DAILY;BYHOUR=1;BYMINUTE=0", "FREQ=DAILY;BYMINUTE=0"},
			`trigger.properties.pattern[1]: pattern "FREQ=DAILY;BYMINUTE=0": BYHOUR is required`},
		{"two minutes of one hour", []string{"FREQ=DAILY;BYHOUR=14;BYMINUTE=0,30"},
			"trigger.properties.pattern: time points 14:00 and 14:30 on MO are less than an hour apart"},
		{"two patterns 59 minutes apart on a shared day", []string{
			"FREQ=WEEKLY;BYDAY=TU,WE;BYHOUR=10;BYMINUTE=0",
			"FREQ=WEEKLY;BYDAY=WE;BYHOUR=10;BYMINUTE=59"},
			"time points 10:00 and 10:59 on WE are less than an hour apart"},
		{"a daily rule meets a weekly one", []string{
			"FREQ=DAILY;BYHOUR=8;BYMINUTE=0",
			"FREQ=WEEKLY;BYDAY=SU;BYHOUR=7;BYMINUTE=30"},
			"time points 07:30 and 08:00 on SU are less than an hour apart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTrigger(tc.patterns, time.Time{})
			if err == nil {
				t.Fatalf("ParseTrigger = nil error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseTrigger = %q, want it to contain %q", err, tc.want)
			}
			if !cairn.IsKind(err, cairn.Invalid) {
				t.Errorf("kind = %v, want invalid", cairn.KindOf(err))
			}
		})
	}
}

func TestParseTriggerAccepts(t *testing.T) {
	var hourly []string
	for h := range 24 {
		hourly = append(hourly, fmt.Sprintf("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=%02d;BYMINUTE=00", h))
	}
	tests := []struct {
		name     string
		patterns []string
	}{
		{"CBR's example", []string{"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00"}},
		{"24 patterns, one an hour", hourly},
		{"24 hours in one pattern", []string{"FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=15"}},
		{"close times on different days", []string{
			"FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0",
			"FREQ=WEEKLY;BYDAY=TU;BYHOUR=10;BYMINUTE=30"}},
		{"exactly an hour apart", []string{
			"FREQ=DAILY;BYHOUR=10;BYMINUTE=15",
			"FREQ=DAILY;BYHOUR=11;BYMINUTE=15"}},
		{"the same time twice", []string{
			"FREQ=DAILY;BYHOUR=3;BYMINUTE=0",
			"FREQ=WEEKLY;BYDAY=SU;BYHOUR=3;BYMINUTE=0"}},
		{"late and early are not compared across midnight", []string{
			"FREQ=DAILY;BYHOUR=23;BYMINUTE=30",
			"FREQ=DAILY;BYHOUR=0;BYMINUTE=10"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ParseTrigger(tc.patterns, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Rules) != len(tc.patterns) {
				t.Errorf("%d rules, want %d", len(tr.Rules), len(tc.patterns))
			}
		})
	}
}

func TestTriggerNextIsEarliest(t *testing.T) {
	start := at(plus8, "2026-01-07 00:00")
	tr, err := ParseTrigger([]string{
		"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
		"FREQ=DAILY;INTERVAL=2;BYHOUR=21;BYMINUTE=0",
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;BYHOUR=12;BYMINUTE=0",
	}, start)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tr.Rules {
		if !r.Start().Equal(start) {
			t.Fatalf("rule %s has start %v, want %v", r, r.Start(), start)
		}
	}
	want := []string{
		"2026-01-07 21:00", // daily, start's day
		"2026-01-09 21:00",
		"2026-01-10 12:00", // Saturday of the start's week
		"2026-01-11 21:00",
		"2026-01-12 09:00", // Monday
		"2026-01-13 21:00",
		"2026-01-15 21:00",
		"2026-01-17 21:00", // Saturday of an off week: nothing at 12:00
		"2026-01-19 09:00",
		"2026-01-19 21:00",
		"2026-01-21 21:00",
		"2026-01-23 21:00",
		"2026-01-24 12:00",
	}
	after := at(plus8, "2026-01-01 00:00")
	for i, w := range want {
		got := tr.Next(after, plus8)
		if !got.Equal(at(plus8, w)) {
			t.Fatalf("firing %d: Next(%v) = %v, want %s", i, after, got.In(plus8), w)
		}
		after = got
	}
	if got := tr.Patterns(); !slices.Equal(got, []string{
		"FREQ=WEEKLY;BYDAY=MO;BYHOUR=09;BYMINUTE=00",
		"FREQ=DAILY;INTERVAL=2;BYHOUR=21;BYMINUTE=00",
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=SA;BYHOUR=12;BYMINUTE=00",
	}) {
		t.Errorf("Patterns() = %q", got)
	}
}

func TestParseStartTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{in: "", want: time.Time{}},
		{in: "2020-01-08 09:59:49", want: time.Date(2020, 1, 8, 9, 59, 49, 0, time.UTC)},
		{in: " 2020-01-08T09:59:49 ", want: time.Date(2020, 1, 8, 9, 59, 49, 0, time.UTC)},
		{in: "2020-01-08 09:59:49.123456", want: time.Date(2020, 1, 8, 9, 59, 49, 123456000, time.UTC)},
		{in: "2020-01-08 09:59", want: time.Date(2020, 1, 8, 9, 59, 0, 0, time.UTC)},
		{in: "2020-01-08T09:59:49+08:00", want: time.Date(2020, 1, 8, 1, 59, 49, 0, time.UTC)},
		{in: "2020-01-08T09:59:49Z", want: time.Date(2020, 1, 8, 9, 59, 49, 0, time.UTC)},
		{in: "2020-13-08 09:59:49", err: true},
		{in: "yesterday", err: true},
		{in: "2020-01-08", err: true},
	}
	for _, tc := range tests {
		got, err := ParseStartTime(tc.in)
		if tc.err {
			if err == nil || !cairn.IsKind(err, cairn.Invalid) || !strings.Contains(err.Error(), "trigger.properties.start_time") {
				t.Errorf("ParseStartTime(%q) = %v, %v; want an invalid error naming the field", tc.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseStartTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTimezone(t *testing.T) {
	tests := []struct {
		in      string
		name    string // Location.String()
		offset  int    // seconds east of UTC on 2026-01-15
		wantErr string
	}{
		{in: "UTC+08:00", name: "UTC+08:00", offset: 8 * 3600},
		{in: "utc+8", name: "UTC+08:00", offset: 8 * 3600},
		{in: "UTC-05:30", name: "UTC-05:30", offset: -(5*3600 + 1800)},
		{in: "UTC+0545", name: "UTC+05:45", offset: 5*3600 + 45*60},
		{in: "GMT+01:00", name: "UTC+01:00", offset: 3600},
		{in: "UTC+14:00", name: "UTC+14:00", offset: 14 * 3600},
		{in: "UTC-12:00", name: "UTC-12:00", offset: -12 * 3600},
		{in: "UTC+00:00", name: "UTC+00:00", offset: 0},
		{in: "UTC", name: "UTC", offset: 0},
		{in: "Z", name: "UTC", offset: 0},
		{in: "Asia/Shanghai", name: "Asia/Shanghai", offset: 8 * 3600},
		{in: "Europe/Berlin", name: "Europe/Berlin", offset: 3600},
		{in: "", wantErr: "empty"},
		{in: "Local", wantErr: "local zone is not allowed"},
		{in: "UTC+15:00", wantErr: "from UTC-12:00 to UTC+14:00"},
		{in: "UTC-13", wantErr: "from UTC-12:00 to UTC+14:00"},
		{in: "UTC+08:60", wantErr: "offset must be"},
		{in: "UTC+8:0", wantErr: "offset must be"},
		{in: "UTC+", wantErr: "offset must be"},
		{in: "UTC+ab:00", wantErr: "offset must be"},
		{in: "Mars/Olympus_Mons", wantErr: "want UTC±HH:MM (e.g. UTC+08:00) or an IANA zone name"},
	}
	ref := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			loc, err := ParseTimezone(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !cairn.IsKind(err, cairn.Invalid) {
					t.Fatalf("ParseTimezone(%q) = %v, %v; want an invalid error with %q", tc.in, loc, err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), fmt.Sprintf("timezone %q", tc.in)) {
					t.Errorf("error %q does not name the input", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, off := ref.In(loc).Zone(); loc.String() != tc.name || off != tc.offset {
				t.Errorf("ParseTimezone(%q) = %s (offset %d), want %s (offset %d)", tc.in, loc, off, tc.name, tc.offset)
			}
		})
	}
}
