// Package cbrpolicy implements the retention rules of Huawei Cloud CBR
// policies (a policy's operation_definition) on top of package retention.
//
// # The rules
//
// A CBR policy says how long its automatic backups live with these
// fields, all optional:
//
//   - retention_duration_days: keep the restore points younger than N
//     days (1 to 99999; -1: do not expire points by age);
//   - max_backups: keep the N newest points (1 to 99999; -1: do not
//     expire points by count);
//   - day_backups, week_backups, month_backups, year_backups (0 to 100
//     each): long-term retention, keep the newest point of each of the N
//     newest days, weeks, months or years, in timezone;
//   - timezone: the zone ("UTC+08:00") whose calendar defines those days,
//     weeks, months and years. Required with any of the four counts and
//     refused without them.
//
// The four counts cannot be combined with retention_duration_days: CBR
// pairs long-term retention with max_backups. If max_backups and
// retention_duration_days are both empty, the points are kept forever.
//
// # How cairn reads CBR's documentation
//
// CBR's documentation is short on semantics; these are the readings cairn
// makes, each one a choice:
//
//   - Only max_backups and retention_duration_days expire points. CBR
//     says of the four long-term counts that the points they keep "are
//     not subject to the max_backups limit": they protect points from
//     expiry, they expire nothing themselves. A policy with long-term
//     counts but neither max_backups nor retention_duration_days (nor -1
//     in both) therefore keeps every point, as CBR says of a policy
//     without those two.
//   - When several rules are set, a point is kept if any rule keeps it,
//     and the newest point is always kept (as in package retention).
//     This covers max_backups together with retention_duration_days,
//     which CBR's API does not forbid though its console offers one or
//     the other.
//   - day_backups N keeps the newest point of each of the N newest days
//     that have points (restic's --keep-daily), not of the last N
//     calendar days counted back from now: a pause in backups does not
//     empty the long-term history. Weeks are ISO weeks, Monday to Sunday.
//     Unlike restic, a count with budget left does not also keep the
//     oldest point (see [Apply]).
//   - retention_duration_days N keeps the points taken strictly after
//     now − N × 24 h: days are 24 hours, not calendar days, and age is
//     measured from now, not from the newest point.
//   - -1 in retention_duration_days or max_backups turns that rule off,
//     exactly as leaving it out does; so -1 in retention_duration_days
//     may go with the long-term counts. A long-term count of 0 is "given"
//     (it needs a timezone and excludes retention_duration_days) but
//     keeps nothing.
//   - timezone accepts, besides CBR's UTC±HH:MM, IANA zone names
//     ("Asia/Shanghai"), with their daylight saving time (see
//     [schedule.ParseTimezone]).
//   - max_backups is, in CBR's words, the most automatic backups kept
//     "per backed-up object": callers pass [Apply] the automatic restore
//     points of one resource at a time; manual ones are not subject to a
//     policy.
package cbrpolicy

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/retention"
	"github.com/cairn-vm/cairn/internal/schedule"
)

// Limits of the fields, as CBR documents them.
const (
	MaxDurationDays = 99999 // retention_duration_days: 1 to MaxDurationDays, or -1
	MaxMaxBackups   = 99999 // max_backups: 1 to MaxMaxBackups, or -1
	MaxLongTerm     = 100   // day/week/month/year_backups: 0 to MaxLongTerm
)

// Retention is the retention part of a CBR policy's operation_definition.
// A nil pointer is a field left out of the request. The JSON tags are
// CBR's field names.
type Retention struct {
	DurationDays *int   `json:"retention_duration_days,omitempty"`
	MaxBackups   *int   `json:"max_backups,omitempty"`
	Day          *int   `json:"day_backups,omitempty"`
	Week         *int   `json:"week_backups,omitempty"`
	Month        *int   `json:"month_backups,omitempty"`
	Year         *int   `json:"year_backups,omitempty"`
	Timezone     string `json:"timezone,omitempty"`
}

// field prefixes the JSON field names in errors.
const field = "operation_definition."

type longTerm struct {
	name string // JSON field name
	n    *int
}

func (r Retention) longTerm() []longTerm {
	return []longTerm{{"day_backups", r.Day}, {"week_backups", r.Week}, {"month_backups", r.Month}, {"year_backups", r.Year}}
}

// hasLongTerm reports whether any of the four long-term counts is given.
func (r Retention) hasLongTerm() bool {
	return r.Day != nil || r.Week != nil || r.Month != nil || r.Year != nil
}

// Validate checks r against CBR's rules for operation_definition:
//
//   - retention_duration_days is -1 or 1 to 99999;
//   - max_backups is -1 or 1 to 99999;
//   - day_backups, week_backups, month_backups and year_backups are 0 to
//     100;
//   - timezone is required when any of those four is given, refused when
//     none is, and must name a zone (UTC±HH:MM or an IANA name);
//   - those four exclude retention_duration_days (unless it is -1).
//
// Leaving every field out is valid: the points are kept forever. The
// error, of kind [cairn.Invalid], joins one error per broken rule, each
// naming its JSON field (operation_definition.max_backups, …).
func (r Retention) Validate() error {
	var errs []error
	if d := r.DurationDays; d != nil && *d != -1 && (*d < 1 || *d > MaxDurationDays) {
		errs = append(errs, fmt.Errorf("%sretention_duration_days must be -1 (no expiry by age) or 1 to %d, is %d", field, MaxDurationDays, *d))
	}
	if m := r.MaxBackups; m != nil && *m != -1 && (*m < 1 || *m > MaxMaxBackups) {
		errs = append(errs, fmt.Errorf("%smax_backups must be -1 (no expiry by count) or 1 to %d, is %d", field, MaxMaxBackups, *m))
	}
	var given []string
	for _, c := range r.longTerm() {
		if c.n == nil {
			continue
		}
		given = append(given, field+c.name)
		if *c.n < 0 || *c.n > MaxLongTerm {
			errs = append(errs, fmt.Errorf("%s%s must be 0 to %d, is %d", field, c.name, MaxLongTerm, *c.n))
		}
	}
	switch {
	case len(given) > 0 && r.Timezone == "":
		errs = append(errs, fmt.Errorf("%stimezone is required with %s", field, strings.Join(given, ", ")))
	case len(given) == 0 && r.Timezone != "":
		errs = append(errs, fmt.Errorf("%stimezone may only be given with day_backups, week_backups, month_backups or year_backups", field))
	case r.Timezone != "":
		if _, err := schedule.ParseTimezone(r.Timezone); err != nil {
			errs = append(errs, fmt.Errorf("%s%w", field, err))
		}
	}
	if d := r.DurationDays; len(given) > 0 && d != nil && *d != -1 {
		errs = append(errs, fmt.Errorf("%s cannot be combined with %sretention_duration_days: long-term retention goes with max_backups",
			strings.Join(given, ", "), field))
	}
	return cairn.E(cairn.Invalid, errors.Join(errs...))
}

// KeepsForever reports whether r expires nothing: neither max_backups nor
// retention_duration_days is set to a positive value.
func (r Retention) KeepsForever() bool {
	return !positive(r.MaxBackups) && !positive(r.DurationDays)
}

func positive(p *int) bool { return p != nil && *p > 0 }

func count(p *int) int {
	if p == nil || *p < 0 {
		return 0
	}
	return *p
}

// Policy returns the retention.Policy that r maps to: max_backups to
// Last, retention_duration_days to Within (N × 24 h), and the long-term
// counts to Daily, Weekly, Monthly and Yearly. It returns the empty
// Policy when r keeps everything ([Retention.KeepsForever]).
func (r Retention) Policy() retention.Policy {
	if r.KeepsForever() {
		return retention.Policy{}
	}
	p := retention.Policy{
		Daily:   count(r.Day),
		Weekly:  count(r.Week),
		Monthly: count(r.Month),
		Yearly:  count(r.Year),
	}
	if positive(r.MaxBackups) {
		p.Last = *r.MaxBackups
	}
	if positive(r.DurationDays) {
		p.Within = time.Duration(*r.DurationDays) * 24 * time.Hour
	}
	return p
}

// Location returns the zone of r's calendar: its timezone, or UTC when it
// has none or an invalid one (Validate reports that).
func (r Retention) Location() *time.Location {
	if r.Timezone == "" {
		return time.UTC
	}
	loc, err := schedule.ParseTimezone(r.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Apply splits items, the restore points of one resource, into those r
// keeps and those it forgets at time now, with CBR's semantics as the
// package documentation reads them. Both lists are ordered newest first
// and together hold every item once; items is not modified. Apply does
// not validate r: call Validate first (an invalid timezone counts as
// UTC, negative counts as 0).
//
// A kept item's Reasons name the CBR fields that keep it, with the
// bucket for the long-term counts: "max_backups",
// "retention_duration_days 30", "day_backups 2026-01-05",
// "week_backups 2026-W02", "month_backups 2026-01", "year_backups 2026",
// "latest" (the newest point, when no rule keeps it) or "kept forever".
//
// Apply runs retention.Apply with [Retention.Policy] in
// [Retention.Location], less restic's extension that keeps the oldest
// point when a count has budget left: CBR keeps the newest point of each
// bucket, no more.
func Apply(r Retention, items []retention.Item, now time.Time) (keep, forget []retention.Decision) {
	p := r.Policy()
	keep, forget = retention.Apply(p, items, now, r.Location())
	if p.Empty() {
		for i := range keep {
			keep[i].Reasons = []string{"kept forever"}
		}
		return keep, forget
	}
	out := keep[:0]
	for _, d := range keep {
		var reasons []string
		for _, why := range d.Reasons {
			if strings.HasSuffix(why, " (oldest)") {
				continue
			}
			reasons = append(reasons, cbrReason(why, r))
		}
		if reasons == nil {
			// Only restic's oldest-point extension kept it; it is the
			// oldest item, so it goes last among the forgotten.
			forget = append(forget, retention.Decision{Item: d.Item})
			continue
		}
		d.Reasons = reasons
		out = append(out, d)
	}
	return out, forget
}

// cbrReason renames a retention reason after the CBR field behind it.
func cbrReason(why string, r Retention) string {
	name, bucket, _ := strings.Cut(why, " ")
	switch name {
	case "last":
		return "max_backups"
	case "within":
		return fmt.Sprintf("retention_duration_days %d", count(r.DurationDays))
	case "daily":
		return "day_backups " + bucket
	case "weekly":
		return "week_backups " + bucket
	case "monthly":
		return "month_backups " + bucket
	case "yearly":
		return "year_backups " + bucket
	}
	return why // "latest"
}
