package cbrpolicy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin, whatever the host has

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/retention"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Retention
		want []string // substrings of the error, one per broken rule; none = valid
	}{
		{name: "everything empty: kept forever", r: Retention{}},
		{name: "both -1: kept forever", r: Retention{DurationDays: new(-1), MaxBackups: new(-1)}},
		{name: "retention_duration_days 1", r: Retention{DurationDays: new(1)}},
		{name: "retention_duration_days 99999", r: Retention{DurationDays: new(99999)}},
		{name: "retention_duration_days 0", r: Retention{DurationDays: new(0)},
			want: []string{"operation_definition.retention_duration_days must be -1 (no expiry by age) or 1 to 99999, is 0"}},
		{name: "retention_duration_days 100000", r: Retention{DurationDays: new(100000)},
			want: []string{"operation_definition.retention_duration_days must be -1 (no expiry by age) or 1 to 99999, is 100000"}},
		{name: "retention_duration_days -2", r: Retention{DurationDays: new(-2)},
			want: []string{"operation_definition.retention_duration_days must be -1"}},
		{name: "max_backups 1", r: Retention{MaxBackups: new(1)}},
		{name: "max_backups 99999", r: Retention{MaxBackups: new(99999)}},
		{name: "max_backups 0", r: Retention{MaxBackups: new(0)},
			want: []string{"operation_definition.max_backups must be -1 (no expiry by count) or 1 to 99999, is 0"}},
		{name: "max_backups 100000", r: Retention{MaxBackups: new(100000)},
			want: []string{"operation_definition.max_backups must be -1 (no expiry by count) or 1 to 99999, is 100000"}},
		{name: "max_backups -5", r: Retention{MaxBackups: new(-5)},
			want: []string{"operation_definition.max_backups must be -1"}},
		{name: "both max_backups and retention_duration_days", r: Retention{MaxBackups: new(10), DurationDays: new(30)}},
		{name: "long-term counts 0 and 100 with timezone and max_backups",
			r: Retention{MaxBackups: new(20), Day: new(0), Week: new(100), Month: new(1), Year: new(100), Timezone: "UTC+08:00"}},
		{name: "long-term counts alone", r: Retention{Day: new(7), Timezone: "UTC+08:00"}},
		{name: "long-term with retention_duration_days -1", r: Retention{DurationDays: new(-1), Month: new(3), Timezone: "UTC-03:00"}},
		{name: "IANA timezone", r: Retention{MaxBackups: new(5), Year: new(2), Timezone: "Asia/Shanghai"}},
		{name: "day_backups 101", r: Retention{Day: new(101), Timezone: "UTC+08:00"},
			want: []string{"operation_definition.day_backups must be 0 to 100, is 101"}},
		{name: "week_backups -1", r: Retention{Week: new(-1), Timezone: "UTC+08:00"},
			want: []string{"operation_definition.week_backups must be 0 to 100, is -1"}},
		{name: "month_backups 500", r: Retention{Month: new(500), Timezone: "UTC+08:00"},
			want: []string{"operation_definition.month_backups must be 0 to 100, is 500"}},
		{name: "year_backups -3", r: Retention{Year: new(-3), Timezone: "UTC+08:00"},
			want: []string{"operation_definition.year_backups must be 0 to 100, is -3"}},
		{name: "long-term counts need a timezone", r: Retention{MaxBackups: new(3), Week: new(4), Year: new(1)},
			want: []string{"operation_definition.timezone is required with operation_definition.week_backups, operation_definition.year_backups"}},
		{name: "a count of 0 needs a timezone too", r: Retention{Day: new(0)},
			want: []string{"operation_definition.timezone is required with operation_definition.day_backups"}},
		{name: "timezone without long-term counts", r: Retention{MaxBackups: new(3), Timezone: "UTC+08:00"},
			want: []string{"operation_definition.timezone may only be given with day_backups, week_backups, month_backups or year_backups"}},
		{name: "bad timezone", r: Retention{Day: new(1), Timezone: "UTC+25:00"},
			want: []string{`operation_definition.timezone "UTC+25:00": offset must be UTC±HH:MM`}},
		{name: "unknown zone name", r: Retention{Day: new(1), Timezone: "Nowhere/Special"},
			want: []string{`operation_definition.timezone "Nowhere/Special": want UTC±HH:MM`}},
		{name: "long-term counts exclude retention_duration_days", r: Retention{DurationDays: new(30), Day: new(7), Month: new(0), Timezone: "UTC+08:00"},
			want: []string{"operation_definition.day_backups, operation_definition.month_backups cannot be combined with operation_definition.retention_duration_days"}},
		{name: "several rules broken at once",
			r: Retention{DurationDays: new(0), MaxBackups: new(0), Year: new(101)},
			want: []string{
				"operation_definition.retention_duration_days must be",
				"operation_definition.max_backups must be",
				"operation_definition.year_backups must be 0 to 100, is 101",
				"operation_definition.timezone is required with operation_definition.year_backups",
				"operation_definition.year_backups cannot be combined with operation_definition.retention_duration_days",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tc.want)
			}
			if !cairn.IsKind(err, cairn.Invalid) {
				t.Errorf("kind = %v, want invalid", cairn.KindOf(err))
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("Validate() = %q: %d errors, want %d", err, len(lines), len(tc.want))
			}
			for i, w := range tc.want {
				if i < len(lines) && !strings.Contains(lines[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestRetentionJSON(t *testing.T) {
	var r Retention
	in := `{"retention_duration_days":-1,"max_backups":20,"day_backups":0,"week_backups":4,"timezone":"UTC+08:00"}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if *r.DurationDays != -1 || *r.MaxBackups != 20 || *r.Day != 0 || *r.Week != 4 || r.Month != nil || r.Year != nil || r.Timezone != "UTC+08:00" {
		t.Fatalf("decoded %+v", r)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(r)
	if string(out) != in {
		t.Errorf("encoded %s, want %s", out, in)
	}
}

// history returns n hourly points from first, with IDs "p0" (oldest) to
// "p<n-1>".
func history(first time.Time, n int) []retention.Item {
	items := make([]retention.Item, n)
	for i := range items {
		items[i] = retention.Item{ID: fmt.Sprintf("p%d", i), Time: first.Add(time.Duration(i) * time.Hour)}
	}
	return items
}

// reference computes the IDs CBR's rules keep, as the package documents
// them, without package retention: a direct, slow reading of the rules.
func reference(r Retention, items []retention.Item, now time.Time) map[string]bool {
	keep := map[string]bool{}
	list := slices.Clone(items)
	slices.SortFunc(list, func(a, b retention.Item) int { return b.Time.Compare(a.Time) })
	maxB, days := 0, 0
	if r.MaxBackups != nil && *r.MaxBackups > 0 {
		maxB = *r.MaxBackups
	}
	if r.DurationDays != nil && *r.DurationDays > 0 {
		days = *r.DurationDays
	}
	if maxB == 0 && days == 0 {
		for _, it := range list {
			keep[it.ID] = true
		}
		return keep
	}
	for i, it := range list {
		if i < maxB || (days > 0 && now.Sub(it.Time) < time.Duration(days)*24*time.Hour) {
			keep[it.ID] = true
		}
	}
	loc := r.Location()
	buckets := []struct {
		n   *int
		key func(time.Time) string
	}{
		{r.Day, func(t time.Time) string { return t.Format("2006-01-02") }},
		{r.Week, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprint(y, w) }},
		{r.Month, func(t time.Time) string { return t.Format("2006-01") }},
		{r.Year, func(t time.Time) string { return t.Format("2006") }},
	}
	for _, b := range buckets {
		if b.n == nil {
			continue
		}
		seen := map[string]bool{}
		for _, it := range list {
			k := b.key(it.Time.In(loc))
			if !seen[k] && len(seen) < *b.n {
				seen[k] = true
				keep[it.ID] = true
			}
		}
	}
	if len(list) > 0 {
		keep[list[0].ID] = true
	}
	return keep
}

func TestApplyHourlyHistory(t *testing.T) {
	// 400 days of hourly points: 2025-01-01 00:00 UTC to 2026-02-04 23:00
	// UTC (a Wednesday); now is half an hour after the newest.
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	items := history(first, 400*24)
	now := items[len(items)-1].Time.Add(30 * time.Minute)
	const all = 400 * 24

	tests := []struct {
		name string
		r    Retention
		kept int // computed by hand
	}{
		{"everything empty: kept forever", Retention{}, all},
		{"both -1: kept forever", Retention{DurationDays: new(-1), MaxBackups: new(-1)}, all},
		{"long-term counts alone expire nothing", Retention{Day: new(7), Year: new(1), Timezone: "UTC+08:00"}, all},
		{"max_backups 1", Retention{MaxBackups: new(1)}, 1},
		{"max_backups 100", Retention{MaxBackups: new(100)}, 100},
		{"max_backups 99999: more than there are", Retention{MaxBackups: new(99999)}, all},
		{"max_backups with retention_duration_days -1", Retention{MaxBackups: new(10), DurationDays: new(-1)}, 10},
		// Points strictly younger than N × 24 h: N × 24 of them, since now
		// is 30 minutes past the newest.
		{"retention_duration_days 1", Retention{DurationDays: new(1)}, 24},
		{"retention_duration_days 30", Retention{DurationDays: new(30)}, 720},
		{"retention_duration_days 400", Retention{DurationDays: new(400)}, all},
		{"retention_duration_days 99999", Retention{DurationDays: new(99999)}, all},
		{"retention_duration_days with max_backups -1", Retention{DurationDays: new(2), MaxBackups: new(-1)}, 48},
		{"union: max_backups 1000 covers retention_duration_days 30", Retention{DurationDays: new(30), MaxBackups: new(1000)}, 1000},
		{"union: retention_duration_days 30 covers max_backups 5", Retention{DurationDays: new(30), MaxBackups: new(5)}, 720},
		// Long-term counts, UTC: the newest point of each bucket; the
		// newest point overall is max_backups' and each count's first.
		{"day_backups 7", Retention{MaxBackups: new(1), Day: new(7), Timezone: "UTC"}, 7},
		{"week_backups 4", Retention{MaxBackups: new(1), Week: new(4), Timezone: "UTC+00:00"}, 4},
		{"month_backups 3", Retention{MaxBackups: new(1), Month: new(3), Timezone: "UTC"}, 3},
		{"month_backups 100: the 14 months there are", Retention{MaxBackups: new(1), Month: new(100), Timezone: "UTC"}, 14},
		// Only 2025 and 2026 have points; the oldest point is not kept on
		// top (restic would).
		{"year_backups 3: the 2 years there are", Retention{MaxBackups: new(1), Year: new(3), Timezone: "UTC"}, 2},
		{"day_backups 0 keeps nothing", Retention{MaxBackups: new(1), Day: new(0), Timezone: "UTC"}, 1},
		{"day_backups 100 is 100 days", Retention{MaxBackups: new(1), Day: new(100), Timezone: "UTC"}, 100},
		// max 24 = all of 2026-02-04; days 7 add 3 Feb … 29 Jan (6); weeks
		// 4 add Sundays 25 and 18 Jan (2; 1 Feb is a day's); months 12 add
		// the last points of Dec 2025 … Mar 2025 (10; Jan 31 is a day's);
		// years 2 add nothing (Dec 31 is a month's).
		{"combination, UTC", Retention{MaxBackups: new(24), Day: new(7), Week: new(4), Month: new(12), Year: new(2), Timezone: "UTC"}, 42},
		// In UTC+8 the newest point is 2026-02-05 07:00 local: max 24
		// covers 4 Feb 08:00 … 5 Feb 07:00 local, so days add only
		// 3 Feb … 30 Jan (5); weeks, months and years as in UTC.
		{"combination, UTC+08:00", Retention{MaxBackups: new(24), Day: new(7), Week: new(4), Month: new(12), Year: new(2), Timezone: "UTC+08:00"}, 41},
		{"day_backups 7 in UTC+08:00", Retention{MaxBackups: new(1), Day: new(7), Timezone: "UTC+08:00"}, 7},
		{"everything at 100, Europe/Berlin", Retention{MaxBackups: new(100), Day: new(100), Week: new(100), Month: new(100), Year: new(100), Timezone: "Europe/Berlin"}, -1},
		{"long-term with retention_duration_days -1", Retention{MaxBackups: new(48), DurationDays: new(-1), Week: new(10), Timezone: "UTC-05:00"}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keep, forget := Apply(tc.r, items, now)
			if len(keep)+len(forget) != len(items) {
				t.Fatalf("%d kept + %d forgotten != %d items", len(keep), len(forget), len(items))
			}
			if tc.kept >= 0 && len(keep) != tc.kept {
				t.Errorf("kept %d, want %d", len(keep), tc.kept)
			}
			want := reference(tc.r, items, now)
			if len(keep) != len(want) {
				t.Errorf("kept %d, the reference keeps %d", len(keep), len(want))
			}
			for _, d := range keep {
				if !want[d.Item.ID] {
					t.Errorf("kept %s (%v, %q), the reference does not", d.Item.ID, d.Item.Time, d.Reasons)
				}
				if len(d.Reasons) == 0 {
					t.Errorf("kept %s without a reason", d.Item.ID)
				}
			}
			if keep[0].Item.ID != items[len(items)-1].ID {
				t.Errorf("the newest point is not kept first: %v", keep[0])
			}
			for _, ds := range [][]retention.Decision{keep, forget} {
				if !slices.IsSortedFunc(ds, func(a, b retention.Decision) int { return b.Item.Time.Compare(a.Item.Time) }) {
					t.Error("not newest first")
				}
			}
		})
	}
}

func TestApplyReasons(t *testing.T) {
	at := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	items := []retention.Item{
		{ID: "a", Time: at("2026-01-05 10:00")},
		{ID: "b", Time: at("2026-01-05 09:00")},
		{ID: "c", Time: at("2026-01-04 23:00")},
		{ID: "d", Time: at("2026-01-04 22:00")},
		{ID: "e", Time: at("2025-12-20 12:00")},
	}
	now := at("2026-01-05 12:00")
	render := func(ds []retention.Decision) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Item.ID+": "+strings.Join(d.Reasons, ", "))
		}
		return out
	}
	tests := []struct {
		name         string
		r            Retention
		later        time.Duration // now is this much later
		keep, forget []string
	}{
		{
			name: "kept forever",
			r:    Retention{MaxBackups: new(-1)},
			keep: []string{"a: kept forever", "b: kept forever", "c: kept forever", "d: kept forever", "e: kept forever"},
		},
		{
			name:   "max_backups and long-term counts; no oldest extension",
			r:      Retention{MaxBackups: new(1), Day: new(2), Year: new(5), Timezone: "UTC"},
			keep:   []string{"a: max_backups, day_backups 2026-01-05, year_backups 2026", "c: day_backups 2026-01-04", "e: year_backups 2025"},
			forget: []string{"b: ", "d: "},
		},
		{
			name:   "a count with budget left keeps each day's newest point, no more",
			r:      Retention{MaxBackups: new(1), Day: new(5), Timezone: "UTC"},
			keep:   []string{"a: max_backups, day_backups 2026-01-05", "c: day_backups 2026-01-04", "e: day_backups 2025-12-20"},
			forget: []string{"b: ", "d: "},
		},
		{
			name: "the zone moves the day boundary: in UTC+08:00, c and d fall on 5 January",
			r:    Retention{MaxBackups: new(1), Day: new(2), Week: new(1), Timezone: "UTC+08:00"},
			keep: []string{"a: max_backups, day_backups 2026-01-05, week_backups 2026-W02",
				"e: day_backups 2025-12-20"},
			forget: []string{"b: ", "c: ", "d: "},
		},
		{
			name:   "retention_duration_days",
			r:      Retention{DurationDays: new(1)},
			keep:   []string{"a: retention_duration_days 1", "b: retention_duration_days 1", "c: retention_duration_days 1", "d: retention_duration_days 1"},
			forget: []string{"e: "},
		},
		{
			name:   "the newest point is kept even when too old",
			r:      Retention{DurationDays: new(1)},
			later:  10 * 24 * time.Hour,
			keep:   []string{"a: latest"},
			forget: []string{"b: ", "c: ", "d: ", "e: "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keep, forget := Apply(tc.r, items, now.Add(tc.later))
			if got := render(keep); !slices.Equal(got, tc.keep) {
				t.Errorf("keep = %q\nwant   %q", got, tc.keep)
			}
			if got := render(forget); !slices.Equal(got, tc.forget) {
				t.Errorf("forget = %q\nwant     %q", got, tc.forget)
			}
		})
	}
}

func TestApplyOldestExtensionDropped(t *testing.T) {
	// Three points on one day and a count with budget left: retention
	// keeps the oldest too, "(oldest)"; CBR's reading keeps one per day.
	items := history(time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC), 3)
	r := Retention{MaxBackups: new(1), Day: new(3), Timezone: "UTC"}
	keep, forget := Apply(r, items, time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC))
	if len(keep) != 1 || keep[0].Item.ID != "p2" || len(forget) != 2 || forget[0].Item.ID != "p1" || forget[1].Item.ID != "p0" {
		t.Fatalf("keep %v, forget %v; want p2 kept, p1 and p0 forgotten in that order", keep, forget)
	}
	// The restic engine alone would keep p0: the difference is deliberate.
	rk, _ := retention.Apply(r.Policy(), items, time.Time{}, time.UTC)
	if len(rk) != 2 {
		t.Fatalf("retention.Apply kept %d, the test's premise is 2", len(rk))
	}
}

func TestApplyNoItems(t *testing.T) {
	for _, r := range []Retention{{}, {MaxBackups: new(3)}} {
		keep, forget := Apply(r, nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if len(keep) != 0 || len(forget) != 0 {
			t.Errorf("Apply(%+v, nil) = %v, %v", r, keep, forget)
		}
	}
}

func TestPolicyAndLocation(t *testing.T) {
	r := Retention{MaxBackups: new(5), DurationDays: new(-1), Day: new(1), Week: new(2), Month: new(3), Year: new(4), Timezone: "UTC+08:00"}
	if got, want := r.Policy(), (retention.Policy{Last: 5, Daily: 1, Weekly: 2, Monthly: 3, Yearly: 4}); got != want {
		t.Errorf("Policy() = %v, want %v", got, want)
	}
	if got := (Retention{DurationDays: new(30)}).Policy(); got != (retention.Policy{Within: 720 * time.Hour}) {
		t.Errorf("Policy() = %v", got)
	}
	if got := (Retention{Day: new(3), Timezone: "UTC"}).Policy(); !got.Empty() {
		t.Errorf("Policy() of a retention that keeps forever = %v, want empty", got)
	}
	if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).In(r.Location()).Zone(); off != 8*3600 {
		t.Errorf("Location() offset %d", off)
	}
	if (Retention{}).Location() != time.UTC || (Retention{Timezone: "bogus"}).Location() != time.UTC {
		t.Error("Location() of no or a bad timezone is not UTC")
	}
}
