package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// MaxPatterns is the most patterns a trigger may have, as CBR limits it.
const MaxPatterns = 24

// Trigger is a policy's trigger: several rules, firing whenever any of
// them does. The zero Trigger never fires.
type Trigger struct {
	Rules []Rule
}

// patternField names the patterns in errors, as CBR's request body does.
const patternField = "trigger.properties.pattern"

// ParseTrigger parses the patterns of a CBR trigger
// (trigger.properties.pattern) and anchors every rule at start
// (trigger.properties.start_time, see [ParseStartTime]; the zero time for
// none). Beyond [ParseRule]'s checks of each pattern, it applies CBR's
// trigger-wide rules: 1 to [MaxPatterns] patterns, and the time points of
// any one day, from all the rules that may fire that day, at least an hour
// apart (hence at most 24 a day). That check looks at the weekdays a rule
// names, not at INTERVAL, so it may refuse rules that would never fire on
// the same day; points on either side of midnight are not compared. A
// time given by two rules counts once.
//
// Errors have the kind [cairn.Invalid] and name the field, e.g.
// "trigger.properties.pattern[1]: pattern "FREQ=DAILY": BYHOUR is
// required".
func ParseTrigger(patterns []string, start time.Time) (Trigger, error) {
	if len(patterns) == 0 {
		return Trigger{}, cairn.E(cairn.Invalid, fmt.Errorf("%s: at least one pattern is required", patternField))
	}
	if len(patterns) > MaxPatterns {
		return Trigger{}, cairn.E(cairn.Invalid, fmt.Errorf("%s: %d patterns, at most %d are allowed", patternField, len(patterns), MaxPatterns))
	}
	t := Trigger{Rules: make([]Rule, 0, len(patterns))}
	for i, p := range patterns {
		r, err := ParseRule(p)
		if err != nil {
			return Trigger{}, cairn.E(cairn.Invalid, fmt.Errorf("%s[%d]: %w", patternField, i, err))
		}
		t.Rules = append(t.Rules, r.WithStart(start))
	}
	if err := t.checkSpacing(); err != nil {
		return Trigger{}, cairn.E(cairn.Invalid, fmt.Errorf("%s: %w", patternField, err))
	}
	return t, nil
}

// checkSpacing enforces CBR's "time points at least one hour apart, at
// most 24 a day" on each weekday.
func (t Trigger) checkSpacing() error {
	for i := range 7 {
		d := time.Weekday((i + 1) % 7) // Monday first, for stable messages
		var points []int               // minutes since midnight
		for _, r := range t.Rules {
			if !r.onDay(d) {
				continue
			}
			for h := range 24 {
				if r.hours&(1<<h) == 0 {
					continue
				}
				for m := range 60 {
					if r.minutes&(1<<m) != 0 {
						points = append(points, h*60+m)
					}
				}
			}
		}
		slices.Sort(points)
		points = slices.Compact(points)
		for j := 1; j < len(points); j++ {
			if points[j]-points[j-1] < 60 {
				return fmt.Errorf("time points %02d:%02d and %02d:%02d on %s are less than an hour apart (CBR requires at least an hour between time points)",
					points[j-1]/60, points[j-1]%60, points[j]/60, points[j]%60, dayNames[d])
			}
		}
	}
	return nil
}

// Next returns the earliest time strictly after after at which any rule
// of t fires on the wall clock of loc (nil means UTC), or the zero time if
// none ever does. See [Rule.Next].
func (t Trigger) Next(after time.Time, loc *time.Location) time.Time {
	var best time.Time
	for _, r := range t.Rules {
		if n := r.Next(after, loc); !n.IsZero() && (best.IsZero() || n.Before(best)) {
			best = n
		}
	}
	return best
}

// Patterns renders the rules in canonical form (see [Rule.String]).
func (t Trigger) Patterns() []string {
	out := make([]string, len(t.Rules))
	for i, r := range t.Rules {
		out[i] = r.String()
	}
	return out
}

// equal reports whether t and o have the same rules in the same order.
func (t Trigger) equal(o Trigger) bool {
	return slices.EqualFunc(t.Rules, o.Rules, Rule.equal)
}

// span is a duration within which, from any instant on, each rule of t
// fires at least once but for one skipped wall-clock time: two of the
// longest possible gaps between firing days (7 × INTERVAL days) and a
// margin. Only an optimization depends on it.
func (t Trigger) span() time.Duration {
	var d time.Duration
	for _, r := range t.Rules {
		d = max(d, time.Duration(max(r.interval, 1))*14*24*time.Hour+48*time.Hour)
	}
	return d
}

// startLayouts are the forms of start_time ParseStartTime accepts, besides
// RFC 3339.
var startLayouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04"}

// ParseStartTime parses CBR's trigger.properties.start_time. CBR writes it
// as "2020-01-08 09:59:49" with no zone; cairn reads such times as UTC,
// as CBR's other timestamps are. RFC 3339 ("2020-01-08T09:59:49+08:00"),
// a "T" instead of the space, fractional seconds and a missing seconds
// field are accepted too. The empty string yields the zero time (no start
// time) and no error. Errors have the kind [cairn.Invalid].
func ParseStartTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, l := range startLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, cairn.E(cairn.Invalid, fmt.Errorf("trigger.properties.start_time %q: %w", s,
		errors.New(`want "2006-01-02 15:04:05" (UTC) or RFC 3339`)))
}
