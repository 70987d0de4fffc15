// Package retention decides which restore points a retention policy keeps
// and which it forgets. It follows the semantics of restic's `forget`
// command (--keep-last, --keep-hourly, --keep-daily, --keep-weekly,
// --keep-monthly, --keep-yearly, --keep-within), with the differences listed
// under "Differences from restic".
//
// # The algorithm
//
// [Apply] sorts the points newest first and walks them once, in that order.
// Each count rule (last, hourly, daily, weekly, monthly, yearly) has a
// budget of N buckets and maps a point to a bucket:
//
//   - last: every point is a bucket of its own, so the rule keeps the N
//     newest points;
//   - hourly: the calendar hour (year, month, day, hour) in the given
//     location: a wall-clock hour, so when clocks go back the repeated
//     hour is one bucket;
//   - daily: the calendar day in the given location;
//   - weekly: the ISO 8601 week (ISO year and week number, weeks start on
//     Monday; 2024-12-30 belongs to 2025-W01) in the given location;
//   - monthly: the calendar month in the given location;
//   - yearly: the calendar year in the given location.
//
// A rule keeps a point when its budget is not spent and the point falls in a
// different bucket than the last point the rule kept; keeping it spends one
// unit of the budget. As points are visited newest first, each rule keeps
// the newest point of each of its N newest buckets. Rules are independent:
// a point kept by one rule still spends the budget of every other rule that
// also keeps it, and the reasons of a [Decision] list every rule that kept
// the point.
//
// Oldest point: when a rule still has budget left on reaching the oldest
// point of the list, it keeps that point even if it shares a bucket with a
// point already kept (reason suffixed " (oldest)"). This is what current
// restic does: with fewer buckets than the budget, the history kept reaches
// back as far as possible.
//
// Within: a point is kept when its time is strictly after now − Within.
// Points in the future are therefore kept by Within.
//
// Latest: when the policy is not empty, the newest point is always kept. A
// count rule keeps it anyway; with only Within set and no point recent
// enough, it is kept with the reason "latest", so that forgetting never
// leaves a VM without a restore point.
//
// Ties: points with equal times are ordered by ID, the smaller ID counting
// as the newer one, so the result does not depend on the order of the input.
//
// Grouping (one list per VM or disk) is the caller's job: Apply treats its
// input as one history.
//
// # Differences from restic
//
//   - Within is relative to now, not to the newest point ("keep the restore
//     points of the last 30 days"); the newest point is still always kept.
//   - Counts cannot be "unlimited" (-1); negative counts are invalid.
//   - There are no tag rules and no per-bucket "within" rules
//     (--keep-within-daily and friends).
//   - Buckets are computed in one explicit location rather than in the
//     location each snapshot was recorded in.
package retention

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Policy says which restore points to keep. The zero Policy is empty: it
// keeps everything, and callers that forget points should refuse it (see
// [Policy.Empty]).
type Policy struct {
	Last    int // keep the Last newest points
	Hourly  int // keep the newest point of each of the Hourly newest hours that have points
	Daily   int // likewise for days
	Weekly  int // likewise for ISO weeks
	Monthly int // likewise for months
	Yearly  int // likewise for years

	// Within keeps every point taken after now − Within (a "retention in
	// days" of 30 is Within: 30 * 24 * time.Hour).
	Within time.Duration
}

// Empty reports whether p has no rule at all. Apply keeps every point under
// an empty policy; a command that forgets points should refuse one rather
// than silently do nothing.
func (p Policy) Empty() bool {
	return p.Last == 0 && p.Hourly == 0 && p.Daily == 0 && p.Weekly == 0 &&
		p.Monthly == 0 && p.Yearly == 0 && p.Within == 0
}

// Validate checks that no count and no duration is negative. The error, of
// kind [cairn.Invalid], names the offending command-line flags
// (--keep-daily, --keep-within, …). An empty policy is valid.
func (p Policy) Validate() error {
	var errs []error
	for _, c := range p.counts() {
		if c.n < 0 {
			errs = append(errs, fmt.Errorf("--keep-%s must not be negative, is %d", c.name, c.n))
		}
	}
	if p.Within < 0 {
		errs = append(errs, fmt.Errorf("--keep-within must not be negative, is %v", p.Within))
	}
	return cairn.E(cairn.Invalid, errors.Join(errs...))
}

// String describes the policy, e.g. "last 7, daily 14, within 720h0m0s", or
// "empty".
func (p Policy) String() string {
	var parts []string
	for _, c := range p.counts() {
		if c.n != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c.name, c.n))
		}
	}
	if p.Within != 0 {
		parts = append(parts, fmt.Sprintf("within %v", p.Within))
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}

type namedCount struct {
	name string
	n    int
}

func (p Policy) counts() []namedCount {
	return []namedCount{
		{"last", p.Last}, {"hourly", p.Hourly}, {"daily", p.Daily},
		{"weekly", p.Weekly}, {"monthly", p.Monthly}, {"yearly", p.Yearly},
	}
}

// Item is one restore point: an opaque ID and the time it was taken.
type Item struct {
	ID   string
	Time time.Time
}

// Decision is the verdict on one Item. Reasons lists, for a kept item, why
// it is kept, one entry per rule that keeps it, in the order last, hourly,
// daily, weekly, monthly, yearly, within, latest: "last",
// "hourly 2026-11-20T13", "daily 2026-11-20", "weekly 2026-W47",
// "monthly 2026-11", "yearly 2026", "within 720h0m0s", "latest", or
// "empty policy". A bucket rule that keeps the oldest point only because it
// has budget left says so with a " (oldest)" suffix, e.g.
// "daily 2026-11-20 (oldest)". Reasons is nil for a forgotten item.
type Decision struct {
	Item    Item
	Reasons []string
}

// bucketRule is one count rule while Apply runs.
type bucketRule struct {
	name   string
	budget int
	key    func(t time.Time, nr int) int64
	label  func(t time.Time) string // the bucket, for reasons; nil for "last"
	last   int64                    // key of the last kept bucket
	seen   bool                     // whether last is set
}

func hourKey(t time.Time, _ int) int64 {
	y, m, d := t.Date()
	return ((int64(y)*100+int64(m))*100+int64(d))*100 + int64(t.Hour())
}

func dayKey(t time.Time, _ int) int64 {
	y, m, d := t.Date()
	return (int64(y)*100+int64(m))*100 + int64(d)
}

func weekKey(t time.Time, _ int) int64 {
	y, w := t.ISOWeek()
	return int64(y)*100 + int64(w)
}

func monthKey(t time.Time, _ int) int64 {
	y, m, _ := t.Date()
	return int64(y)*100 + int64(m)
}

func yearKey(t time.Time, _ int) int64 { return int64(t.Year()) }

func weekLabel(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

func layout(l string) func(time.Time) string {
	return func(t time.Time) string { return t.Format(l) }
}

// Apply splits items into the ones p keeps and the ones it forgets, as
// described in the package documentation. now is the reference for
// p.Within; loc is the time zone whose calendar defines hours, days, weeks,
// months and years (nil means UTC). Both results are ordered newest first
// and together hold every item exactly once; items is not modified.
//
// Apply does not validate p: negative counts and durations act as zero.
// Under an empty policy every item is kept, with the reason "empty policy".
func Apply(p Policy, items []Item, now time.Time, loc *time.Location) (keep, forget []Decision) {
	if loc == nil {
		loc = time.UTC
	}
	list := slices.Clone(items)
	slices.SortStableFunc(list, func(a, b Item) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c // newer first
		}
		return cmp.Compare(a.ID, b.ID)
	})

	if p.Empty() {
		for _, it := range list {
			keep = append(keep, Decision{Item: it, Reasons: []string{"empty policy"}})
		}
		return keep, nil
	}

	rules := []*bucketRule{
		{name: "last", budget: p.Last, key: func(_ time.Time, nr int) int64 { return int64(nr) }},
		{name: "hourly", budget: p.Hourly, key: hourKey, label: layout("2006-01-02T15")},
		{name: "daily", budget: p.Daily, key: dayKey, label: layout("2006-01-02")},
		{name: "weekly", budget: p.Weekly, key: weekKey, label: weekLabel},
		{name: "monthly", budget: p.Monthly, key: monthKey, label: layout("2006-01")},
		{name: "yearly", budget: p.Yearly, key: yearKey, label: layout("2006")},
	}
	cutoff := now.Add(-p.Within)

	for nr, it := range list {
		var reasons []string
		t := it.Time.In(loc)
		oldest := nr == len(list)-1
		for _, r := range rules {
			if r.budget <= 0 {
				continue
			}
			k := r.key(t, nr)
			newBucket := !r.seen || k != r.last
			if !newBucket && !oldest {
				continue
			}
			r.budget--
			r.last, r.seen = k, true
			reason := r.name
			if r.label != nil {
				reason += " " + r.label(t)
			}
			if !newBucket {
				reason += " (oldest)"
			}
			reasons = append(reasons, reason)
		}
		if p.Within > 0 && it.Time.After(cutoff) {
			reasons = append(reasons, fmt.Sprintf("within %v", p.Within))
		}
		if nr == 0 && len(reasons) == 0 {
			reasons = append(reasons, "latest")
		}
		if reasons != nil {
			keep = append(keep, Decision{Item: it, Reasons: reasons})
		} else {
			forget = append(forget, Decision{Item: it})
		}
	}
	return keep, forget
}
