package retention

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin for the DST case, whatever the host has

	"github.com/cairn-vm/cairn/internal/cairn"
)

// at parses "2006-01-02 15:04" in UTC.
func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// items builds items whose IDs are their times ("2025-01-02 15:04").
func items(times ...string) []Item {
	var out []Item
	for _, s := range times {
		out = append(out, Item{ID: s, Time: at(s)})
	}
	return out
}

// kept renders keep as "id: reason, reason" lines, in order.
func render(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		if d.Reasons == nil {
			out = append(out, d.Item.ID)
			continue
		}
		out = append(out, d.Item.ID+": "+strings.Join(d.Reasons, ", "))
	}
	return out
}

func ids(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Item.ID)
	}
	return out
}

func TestApply(t *testing.T) {
	now := at("2026-01-10 12:00")
	plus8 := time.FixedZone("UTC+8", 8*3600)
	tests := []struct {
		name   string
		p      Policy
		items  []Item
		loc    *time.Location
		keep   []string // "id: reasons", newest first
		forget []string // ids, newest first
	}{
		{
			name:  "no items",
			p:     Policy{Last: 3},
			items: nil,
		},
		{
			name:  "empty policy keeps all, newest first",
			p:     Policy{},
			items: items("2026-01-01 00:00", "2026-01-03 00:00", "2026-01-02 00:00"),
			keep: []string{
				"2026-01-03 00:00: empty policy",
				"2026-01-02 00:00: empty policy",
				"2026-01-01 00:00: empty policy",
			},
		},
		{
			name:   "last 3 of 5, unsorted input",
			p:      Policy{Last: 3},
			items:  items("2026-01-02 00:00", "2026-01-05 00:00", "2026-01-01 00:00", "2026-01-04 00:00", "2026-01-03 00:00"),
			keep:   []string{"2026-01-05 00:00: last", "2026-01-04 00:00: last", "2026-01-03 00:00: last"},
			forget: []string{"2026-01-02 00:00", "2026-01-01 00:00"},
		},
		{
			name:  "last larger than the list keeps all",
			p:     Policy{Last: 10},
			items: items("2026-01-01 00:00", "2026-01-01 00:01"),
			keep:  []string{"2026-01-01 00:01: last", "2026-01-01 00:00: last"},
		},
		{
			name: "daily keeps the newest of each of the N newest days",
			p:    Policy{Daily: 2},
			items: items(
				"2026-01-05 23:00", "2026-01-05 08:00", "2026-01-05 00:00",
				"2026-01-04 12:00", "2026-01-04 11:00",
				"2026-01-03 12:00"),
			keep:   []string{"2026-01-05 23:00: daily 2026-01-05", "2026-01-04 12:00: daily 2026-01-04"},
			forget: []string{"2026-01-05 08:00", "2026-01-05 00:00", "2026-01-04 11:00", "2026-01-03 12:00"},
		},
		{
			name: "days without points do not count",
			p:    Policy{Daily: 2},
			items: items(
				"2026-01-09 10:00", "2026-01-01 10:00", "2025-12-20 10:00"),
			keep:   []string{"2026-01-09 10:00: daily 2026-01-09", "2026-01-01 10:00: daily 2026-01-01"},
			forget: []string{"2025-12-20 10:00"},
		},
		{
			name: "budget left keeps the oldest point too",
			p:    Policy{Daily: 5},
			items: items(
				"2026-01-02 10:00", "2026-01-01 10:00", "2026-01-01 09:00", "2026-01-01 08:00"),
			keep: []string{
				"2026-01-02 10:00: daily 2026-01-02",
				"2026-01-01 10:00: daily 2026-01-01",
				"2026-01-01 08:00: daily 2026-01-01 (oldest)",
			},
			forget: []string{"2026-01-01 09:00"},
		},
		{
			name: "budget spent exactly: the oldest is not kept",
			p:    Policy{Daily: 2},
			items: items(
				"2026-01-02 10:00", "2026-01-01 10:00", "2026-01-01 08:00"),
			keep:   []string{"2026-01-02 10:00: daily 2026-01-02", "2026-01-01 10:00: daily 2026-01-01"},
			forget: []string{"2026-01-01 08:00"},
		},
		{
			name: "ties: the smaller id counts as newer, whatever the input order",
			p:    Policy{Last: 1},
			items: []Item{
				{ID: "b", Time: at("2026-01-01 10:00")},
				{ID: "a", Time: at("2026-01-01 10:00")},
				{ID: "c", Time: at("2026-01-01 10:00")},
			},
			keep:   []string{"a: last"},
			forget: []string{"b", "c"},
		},
		{
			name: "ties in a bucket",
			p:    Policy{Daily: 1, Last: 2},
			items: []Item{
				{ID: "z", Time: at("2026-01-01 10:00")},
				{ID: "y", Time: at("2026-01-01 10:00")},
				{ID: "old", Time: at("2026-01-01 09:00")},
			},
			keep:   []string{"y: last, daily 2026-01-01", "z: last"},
			forget: []string{"old"},
		},
		{
			name: "hourly",
			p:    Policy{Hourly: 3},
			items: items(
				"2026-01-01 10:59", "2026-01-01 10:01", "2026-01-01 09:30",
				"2026-01-01 07:00", "2026-01-01 06:59"),
			keep: []string{
				"2026-01-01 10:59: hourly 2026-01-01T10",
				"2026-01-01 09:30: hourly 2026-01-01T09",
				"2026-01-01 07:00: hourly 2026-01-01T07",
			},
			forget: []string{"2026-01-01 10:01", "2026-01-01 06:59"},
		},
		{
			name: "weekly uses ISO weeks across the year boundary",
			p:    Policy{Weekly: 3},
			items: items(
				"2025-01-05 12:00", // Sunday, 2025-W01
				"2024-12-31 12:00", // Tuesday, 2025-W01
				"2024-12-30 00:00", // Monday, 2025-W01
				"2024-12-29 23:59", // Sunday, 2024-W52
				"2024-12-23 00:00", // Monday, 2024-W52
				"2024-12-22 12:00", // Sunday, 2024-W51
				"2024-12-16 12:00", // Monday, 2024-W51
			),
			keep: []string{
				"2025-01-05 12:00: weekly 2025-W01",
				"2024-12-29 23:59: weekly 2024-W52",
				"2024-12-22 12:00: weekly 2024-W51",
			},
			forget: []string{"2024-12-31 12:00", "2024-12-30 00:00", "2024-12-23 00:00", "2024-12-16 12:00"},
		},
		{
			name: "ISO week 53",
			p:    Policy{Weekly: 2},
			items: items(
				"2021-01-03 12:00", // Sunday, 2020-W53
				"2020-12-28 12:00", // Monday, 2020-W53
				"2020-12-27 12:00", // Sunday, 2020-W52
			),
			keep:   []string{"2021-01-03 12:00: weekly 2020-W53", "2020-12-27 12:00: weekly 2020-W52"},
			forget: []string{"2020-12-28 12:00"},
		},
		{
			name: "monthly and yearly",
			p:    Policy{Monthly: 2, Yearly: 2},
			items: items(
				"2026-01-02 00:00", "2025-12-31 23:59", "2025-12-01 00:00",
				"2025-11-30 00:00", "2024-06-01 00:00", "2024-01-01 00:00"),
			keep: []string{
				"2026-01-02 00:00: monthly 2026-01, yearly 2026",
				"2025-12-31 23:59: monthly 2025-12, yearly 2025",
			},
			forget: []string{"2025-12-01 00:00", "2025-11-30 00:00", "2024-06-01 00:00", "2024-01-01 00:00"},
		},
		{
			name: "time zone moves day boundaries",
			p:    Policy{Daily: 2},
			loc:  plus8,
			items: items(
				"2026-01-01 17:00", // 2026-01-02 01:00 at UTC+8
				"2026-01-01 15:00", // 2026-01-01 23:00 at UTC+8
				"2026-01-01 10:00", // 2026-01-01 18:00 at UTC+8
				"2025-12-31 20:00", // 2026-01-01 04:00 at UTC+8
			),
			keep:   []string{"2026-01-01 17:00: daily 2026-01-02", "2026-01-01 15:00: daily 2026-01-01"},
			forget: []string{"2026-01-01 10:00", "2025-12-31 20:00"},
		},
		{
			name: "same points in UTC",
			p:    Policy{Daily: 2},
			items: items(
				"2026-01-01 17:00", "2026-01-01 15:00", "2026-01-01 10:00", "2025-12-31 20:00"),
			keep:   []string{"2026-01-01 17:00: daily 2026-01-01", "2025-12-31 20:00: daily 2025-12-31"},
			forget: []string{"2026-01-01 15:00", "2026-01-01 10:00"},
		},
		{
			name:   "within is relative to now, strictly after now-within",
			p:      Policy{Within: 24 * time.Hour},
			items:  items("2026-01-10 11:00", "2026-01-09 12:01", "2026-01-09 12:00", "2026-01-08 00:00"),
			keep:   []string{"2026-01-10 11:00: within 24h0m0s", "2026-01-09 12:01: within 24h0m0s"},
			forget: []string{"2026-01-09 12:00", "2026-01-08 00:00"},
		},
		{
			name:   "within with nothing recent still keeps the latest",
			p:      Policy{Within: 24 * time.Hour},
			items:  items("2026-01-01 00:00", "2026-01-02 00:00", "2025-12-01 00:00"),
			keep:   []string{"2026-01-02 00:00: latest"},
			forget: []string{"2026-01-01 00:00", "2025-12-01 00:00"},
		},
		{
			name:   "points in the future are within and the newest",
			p:      Policy{Last: 1, Within: time.Hour},
			items:  items("2026-02-01 00:00", "2026-01-10 11:30", "2026-01-10 10:00"),
			keep:   []string{"2026-02-01 00:00: last, within 1h0m0s", "2026-01-10 11:30: within 1h0m0s"},
			forget: []string{"2026-01-10 10:00"},
		},
		{
			name: "one point, many reasons",
			p:    Policy{Last: 1, Hourly: 1, Daily: 1, Weekly: 1, Monthly: 1, Yearly: 1, Within: time.Hour},
			items: items(
				"2026-01-10 11:45", "2026-01-10 11:40"),
			keep: []string{
				"2026-01-10 11:45: last, hourly 2026-01-10T11, daily 2026-01-10, weekly 2026-W02, monthly 2026-01, yearly 2026, within 1h0m0s",
				"2026-01-10 11:40: within 1h0m0s",
			},
		},
		{
			name:   "a single point under a count policy is kept once",
			p:      Policy{Daily: 3},
			items:  items("2026-01-01 00:00"),
			keep:   []string{"2026-01-01 00:00: daily 2026-01-01"},
			forget: nil,
		},
		{
			name:   "negative counts act as zero",
			p:      Policy{Last: -1, Daily: 1},
			items:  items("2026-01-02 00:00", "2026-01-02 01:00", "2025-01-01 00:00"),
			keep:   []string{"2026-01-02 01:00: daily 2026-01-02"},
			forget: []string{"2026-01-02 00:00", "2025-01-01 00:00"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.items)
			keep, forget := Apply(tc.p, in, now, tc.loc)
			if got := render(keep); !slices.Equal(got, tc.keep) {
				t.Errorf("keep:\n got  %q\n want %q", got, tc.keep)
			}
			if got := ids(forget); !slices.Equal(got, tc.forget) {
				t.Errorf("forget:\n got  %q\n want %q", got, tc.forget)
			}
			for _, d := range forget {
				if d.Reasons != nil {
					t.Errorf("forgotten %s has reasons %q", d.Item.ID, d.Reasons)
				}
			}
			if !slices.Equal(in, tc.items) {
				t.Errorf("Apply modified its input")
			}
		})
	}
}

// TestApplyDST checks that hours are wall-clock hours of the location: on
// the night summer time ends in Berlin, 02:00-03:00 happens twice and is one
// hourly bucket.
func TestApplyDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	list := []Item{
		{ID: "cest-0215", Time: at("2025-10-26 00:15")}, // 02:15 CEST
		{ID: "cet-0215", Time: at("2025-10-26 01:15")},  // 02:15 CET
		{ID: "cet-0315", Time: at("2025-10-26 02:15")},  // 03:15 CET
	}
	keep, forget := Apply(Policy{Hourly: 5}, list, at("2025-10-27 00:00"), berlin)
	want := []string{"cet-0315: hourly 2025-10-26T03", "cet-0215: hourly 2025-10-26T02", "cest-0215: hourly 2025-10-26T02 (oldest)"}
	if got := render(keep); !slices.Equal(got, want) {
		t.Errorf("keep = %q, want %q", got, want)
	}
	keep, forget = Apply(Policy{Hourly: 2}, list, at("2025-10-27 00:00"), berlin)
	if got := ids(forget); !slices.Equal(got, []string{"cest-0215"}) {
		t.Errorf("forget = %q (keep %q), want [cest-0215]", got, render(keep))
	}
}

// hourlyPoints returns one point per hour in [from, to).
func hourlyPoints(from, to time.Time) []Item {
	var out []Item
	for t := from; t.Before(to); t = t.Add(time.Hour) {
		out = append(out, Item{ID: t.Format(time.RFC3339), Time: t})
	}
	return out
}

// TestApplyTwoYears applies a typical policy to two years of hourly points.
func TestApplyTwoYears(t *testing.T) {
	// 2024-01-01 00:00 to 2025-12-31 23:00 UTC: 731 days, 17544 points.
	// The newest point is Wednesday 2025-12-31 23:00, in ISO week 2026-W01.
	list := hourlyPoints(at("2024-01-01 00:00"), at("2026-01-01 00:00"))
	if len(list) != 17544 {
		t.Fatalf("%d points", len(list))
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	p := Policy{Last: 7, Daily: 14, Weekly: 8, Monthly: 12}
	keep, forget := Apply(p, list, at("2026-01-01 00:30"), time.UTC)

	// Counted by hand:
	//   last 7:     Dec 31 23:00 … 17:00                                  7
	//   daily 14:   Dec 31 … Dec 18, at 23:00; Dec 31 already kept       +13
	//   weekly 8:   Dec 31 (2026-W01), Sundays Dec 28, 21, 14, 7, Nov 30,
	//               23, 16 at 23:00; Dec 31, 28 and 21 already kept       +5
	//   monthly 12: last day of Dec 2025 … Jan 2025 at 23:00; Dec 31 and
	//               Nov 30 already kept                                   +10
	//   every budget is spent before the oldest point                       = 35
	if len(keep) != 35 || len(keep)+len(forget) != len(list) {
		t.Fatalf("kept %d, forgot %d; want 35 and %d", len(keep), len(forget), len(list)-35)
	}
	want := map[string]string{
		"2025-12-31T23:00:00Z": "last, daily 2025-12-31, weekly 2026-W01, monthly 2025-12",
		"2025-12-31T17:00:00Z": "last",
		"2025-12-30T23:00:00Z": "daily 2025-12-30",
		"2025-12-28T23:00:00Z": "daily 2025-12-28, weekly 2025-W52",
		"2025-12-18T23:00:00Z": "daily 2025-12-18",
		"2025-11-30T23:00:00Z": "weekly 2025-W48, monthly 2025-11",
		"2025-11-16T23:00:00Z": "weekly 2025-W46",
		"2025-02-28T23:00:00Z": "monthly 2025-02",
		"2025-01-31T23:00:00Z": "monthly 2025-01",
	}
	got := map[string]string{}
	for _, d := range keep {
		got[d.Item.ID] = strings.Join(d.Reasons, ", ")
	}
	for id, r := range want {
		if got[id] != r {
			t.Errorf("%s: reasons %q, want %q", id, got[id], r)
		}
	}
	if _, ok := got["2025-11-09T23:00:00Z"]; ok {
		t.Errorf("a ninth week was kept")
	}
	checkOracle(t, p, list, time.UTC, keep)
}

// oracle computes the kept IDs independently of Apply's single pass: for
// each rule it groups all points by bucket, takes the N newest buckets and
// keeps the newest point of each, plus the oldest point overall when the
// rule has fewer buckets than N.
func oracle(p Policy, list []Item, now time.Time, loc *time.Location) map[string]bool {
	sorted := slices.Clone(list)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].Time.Equal(sorted[j].Time) {
			return sorted[i].Time.After(sorted[j].Time)
		}
		return sorted[i].ID < sorted[j].ID
	})
	kept := map[string]bool{}
	if len(sorted) == 0 {
		return kept
	}
	if p.Empty() {
		for _, it := range sorted {
			kept[it.ID] = true
		}
		return kept
	}
	bucketOf := []struct {
		n int
		f func(i int, t time.Time) string
	}{
		{p.Last, func(i int, _ time.Time) string { return fmt.Sprintf("%09d", len(sorted)-i) }},
		{p.Hourly, func(_ int, t time.Time) string { return t.Format("2006-01-02 15") }},
		{p.Daily, func(_ int, t time.Time) string { return t.Format("2006-01-02") }},
		{p.Weekly, func(_ int, t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-%02d", y, w) }},
		{p.Monthly, func(_ int, t time.Time) string { return t.Format("2006-01") }},
		{p.Yearly, func(_ int, t time.Time) string { return t.Format("2006") }},
	}
	for _, b := range bucketOf {
		if b.n <= 0 {
			continue
		}
		newest := map[string]string{} // bucket -> id of its newest point
		var keys []string
		for i, it := range sorted {
			k := b.f(i, it.Time.In(loc))
			if _, ok := newest[k]; !ok {
				newest[k] = it.ID
				keys = append(keys, k)
			}
		}
		sort.Sort(sort.Reverse(sort.StringSlice(keys)))
		for i, k := range keys {
			if i < b.n {
				kept[newest[k]] = true
			}
		}
		if len(keys) < b.n {
			kept[sorted[len(sorted)-1].ID] = true
		}
	}
	for _, it := range sorted {
		if p.Within > 0 && it.Time.After(now.Add(-p.Within)) {
			kept[it.ID] = true
		}
	}
	kept[sorted[0].ID] = true // the newest is always kept
	return kept
}

func checkOracle(t *testing.T, p Policy, list []Item, loc *time.Location, keep []Decision) {
	t.Helper()
	want := oracle(p, list, at("2026-01-01 00:30"), loc)
	got := map[string]bool{}
	for _, d := range keep {
		got[d.Item.ID] = true
	}
	for id := range want {
		if !got[id] {
			t.Errorf("%v: oracle keeps %s, Apply does not", p, id)
		}
	}
	for id := range got {
		if !want[id] {
			t.Errorf("%v: Apply keeps %s, oracle does not", p, id)
		}
	}
}

// TestApplyRandom compares Apply with the oracle on random histories and
// policies, with ties and irregular gaps.
func TestApplyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	now := at("2026-01-01 00:30")
	zones := []*time.Location{time.UTC, time.FixedZone("UTC-5", -5*3600), time.FixedZone("UTC+5:45", 5*3600+45*60)}
	for round := range 300 {
		var list []Item
		tm := now.Add(time.Duration(rng.IntN(48)-24) * time.Hour)
		for i := range rng.IntN(200) {
			list = append(list, Item{ID: fmt.Sprintf("p%03d", i), Time: tm})
			if rng.IntN(5) > 0 { // else a tie with the next point
				tm = tm.Add(-time.Duration(rng.Int64N(int64(20 * 24 * time.Hour))))
			}
		}
		rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
		p := Policy{
			Last: rng.IntN(4), Hourly: rng.IntN(4), Daily: rng.IntN(8), Weekly: rng.IntN(6),
			Monthly: rng.IntN(5), Yearly: rng.IntN(3),
		}
		if rng.IntN(3) == 0 {
			p.Within = time.Duration(rng.IntN(10*24)) * time.Hour
		}
		loc := zones[round%len(zones)]
		keep, forget := Apply(p, list, now, loc)
		if len(keep)+len(forget) != len(list) {
			t.Fatalf("round %d: %d + %d decisions for %d items", round, len(keep), len(forget), len(list))
		}
		if !p.Empty() && len(list) > 0 && len(keep) == 0 {
			t.Fatalf("round %d: %v kept nothing", round, p)
		}
		if p.Empty() && len(forget) != 0 {
			t.Fatalf("round %d: empty policy forgot %d", round, len(forget))
		}
		checkOracle(t, p, list, loc, keep)
		for _, ds := range [][]Decision{keep, forget} {
			if !slices.IsSortedFunc(ds, func(a, b Decision) int { return b.Item.Time.Compare(a.Item.Time) }) {
				t.Fatalf("round %d: decisions not newest first", round)
			}
		}
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		p       Policy
		wantErr []string // substrings; nil for no error
	}{
		{Policy{}, nil},
		{Policy{Last: 1, Hourly: 2, Daily: 3, Weekly: 4, Monthly: 5, Yearly: 6, Within: time.Hour}, nil},
		{Policy{Last: -1}, []string{"--keep-last must not be negative, is -1"}},
		{Policy{Hourly: -2}, []string{"--keep-hourly"}},
		{Policy{Daily: -1}, []string{"--keep-daily"}},
		{Policy{Weekly: -1}, []string{"--keep-weekly"}},
		{Policy{Monthly: -1}, []string{"--keep-monthly"}},
		{Policy{Yearly: -1}, []string{"--keep-yearly"}},
		{Policy{Within: -time.Hour}, []string{"--keep-within must not be negative, is -1h0m0s"}},
		{Policy{Daily: -1, Within: -time.Second, Last: 3}, []string{"--keep-daily", "--keep-within"}},
	}
	for _, tc := range tests {
		err := tc.p.Validate()
		if tc.wantErr == nil {
			if err != nil {
				t.Errorf("%v: %v", tc.p, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%v: no error", tc.p)
			continue
		}
		if !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("%v: kind %v, want invalid", tc.p, cairn.KindOf(err))
		}
		for _, s := range tc.wantErr {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%v: error %q does not mention %q", tc.p, err, s)
			}
		}
	}
}

func TestEmptyAndString(t *testing.T) {
	if !(Policy{}).Empty() {
		t.Error("zero policy not empty")
	}
	for _, p := range []Policy{{Last: 1}, {Hourly: 1}, {Daily: 1}, {Weekly: 1}, {Monthly: 1}, {Yearly: 1}, {Within: 1}, {Last: -1}} {
		if p.Empty() {
			t.Errorf("%+v is empty", p)
		}
	}
	if s := (Policy{}).String(); s != "empty" {
		t.Errorf("String() = %q", s)
	}
	if s := (Policy{Last: 7, Daily: 14, Within: 720 * time.Hour}).String(); s != "last 7, daily 14, within 720h0m0s" {
		t.Errorf("String() = %q", s)
	}
}
