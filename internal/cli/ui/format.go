// Package ui renders what the cairn command line shows: byte counts, rates
// and durations for people, and the progress of engines (a
// progress.Reporter) as bars on a terminal or as JSON lines for machines.
package ui

import (
	"fmt"
	"time"
)

// Bytes formats n bytes with binary units: "0 B", "512 B", "1.5 KiB",
// "64.0 MiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= unit
		if f < unit && f > -unit {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%.1f EiB", f/unit)
}

// Rate formats n bytes done in d as a rate, e.g. "53.3 MiB/s". A duration
// too short to measure gives "-".
func Rate(n int64, d time.Duration) string {
	if d < time.Millisecond {
		return "-"
	}
	return Bytes(int64(float64(n)/d.Seconds())) + "/s"
}

// Duration formats d for people: milliseconds below a second, then
// tenths of seconds, then whole seconds from a minute on.
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}
