// Package report gathers the benchmark's measurements and renders them as
// one markdown document: machine facts, the comparison table, the goals and
// every sample.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/bytesize"
)

// The timed steps.
const (
	Full    = "full"     // full backup into a fresh repository
	IncrMap = "incr-map" // incremental with a change map (cairn only)
	Incr    = "incr"     // incremental without a change map
	Restore = "restore"  // restore of the incremental backup
)

// Sample is one timed command.
type Sample struct {
	Tool   string
	Run    int
	Step   string
	Wall   time.Duration
	CPU    time.Duration // user + system
	MaxRSS int64         // bytes
	Err    string        // "" when it succeeded
}

// Tool holds one tool's results.
type Tool struct {
	Name       string
	Version    string
	Err        string // set when the tool could not run at all
	Skipped    bool   // not selected: its cells read "not run"
	Samples    []Sample
	VaultSizes []int64 // du of the repository after the incremental, per run
}

// Fact is one line of the machine and workload description.
type Fact struct{ Name, Value string }

// Report is the whole benchmark result.
type Report struct {
	Title     string
	Facts     []Fact
	Notes     []string // about the comparison
	Tools     []*Tool  // in the order the table shows them: cairn, restic, borg
	Logical   int64    // image logical size in bytes
	Allocated int64    // image allocated bytes
	// Copy and Poll are the service sections, written after the
	// comparison; nil or Skipped leaves a section out.
	Copy *CopySection
	Poll *PollSection
}

// Tool returns the tool called name, or nil.
func (r *Report) Tool(name string) *Tool {
	for _, t := range r.Tools {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// value is a median with its error, if every sample failed.
type value struct {
	v      float64
	ok     bool
	err    string
	failed int // samples that failed
	n      int // samples
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func (t *Tool) step(step string, f func(Sample) float64) value {
	if t == nil || t.Skipped {
		return value{err: "not run"}
	}
	if t.Err != "" {
		return value{err: "error: " + t.Err}
	}
	var xs []float64
	var v value
	for _, s := range t.Samples {
		if s.Step != step {
			continue
		}
		v.n++
		if s.Err != "" {
			v.failed++
			if v.err == "" {
				v.err = "error: " + s.Err
			}
			continue
		}
		xs = append(xs, f(s))
	}
	if len(xs) == 0 {
		if v.err == "" {
			v.err = "n/a"
		}
		return v
	}
	v.v, v.ok = median(xs), true
	return v
}

// Seconds returns the median wall time of step, in seconds.
func (t *Tool) seconds(step string) value {
	return t.step(step, func(s Sample) float64 { return s.Wall.Seconds() })
}

func (t *Tool) vault() value {
	if t == nil || t.Skipped {
		return value{err: "not run"}
	}
	if t.Err != "" {
		return value{err: "error: " + t.Err}
	}
	if len(t.VaultSizes) == 0 {
		for _, s := range t.Samples {
			if s.Err != "" {
				return value{err: "error: " + s.Err}
			}
		}
		return value{err: "n/a"}
	}
	xs := make([]float64, len(t.VaultSizes))
	for i, b := range t.VaultSizes {
		xs[i] = float64(b)
	}
	return value{v: median(xs), ok: true, n: len(xs)}
}

func (t *Tool) peakRSS() value {
	if t == nil || t.Skipped {
		return value{err: "not run"}
	}
	if t.Err != "" {
		return value{err: "error: " + t.Err}
	}
	var v value
	for _, s := range t.Samples {
		if s.Err == "" && float64(s.MaxRSS) > v.v {
			v.v, v.ok = float64(s.MaxRSS), true
		}
	}
	if !v.ok {
		v.err = "n/a"
		if len(t.Samples) > 0 {
			v.err = "error: " + t.Samples[0].Err
		}
	}
	return v
}

func cell(v value, format func(float64) string) string {
	if !v.ok {
		return clip(v.err)
	}
	s := format(v.v)
	if v.failed > 0 {
		s += fmt.Sprintf(" (%d of %d failed)", v.failed, v.n)
	}
	return s
}

func clip(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 90 {
		s = s[:90] + "…"
	}
	return s
}

func secs(x float64) string { return fmt.Sprintf("%.2f", x) }
func mib(x float64) string  { return fmt.Sprintf("%.1f", x/float64(bytesize.MiB)) }
func rate(n int64) func(float64) string {
	return func(s float64) string { return fmt.Sprintf("%.0f", float64(n)/s/1e6) }
}

// speed compares cairn's time c with another tool's time o.
func speed(c, o value) string {
	if !c.ok || !o.ok || c.v <= 0 || o.v <= 0 {
		return "–"
	}
	if o.v >= c.v {
		return fmt.Sprintf("%.2f× faster", o.v/c.v)
	}
	return fmt.Sprintf("%.2f× slower", c.v/o.v)
}

// size compares cairn's size c with another tool's size o.
func size(c, o value) string {
	if !c.ok || !o.ok || o.v <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f× theirs", c.v/o.v)
}

// Write renders the report as markdown.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "# %s\n\n", r.Title)
	for _, f := range r.Facts {
		fmt.Fprintf(w, "- **%s:** %s\n", f.Name, f.Value)
	}
	fmt.Fprintln(w)
	if r.hasTools() {
		r.writeTable(w)
		fmt.Fprintln(w)
		r.writeGoals(w)
		if len(r.Notes) > 0 {
			fmt.Fprintln(w, "\nNotes:")
			for _, n := range r.Notes {
				fmt.Fprintf(w, "- %s\n", n)
			}
		}
		fmt.Fprintln(w)
		r.writeSamples(w)
	} else {
		fmt.Fprintln(w, "The comparison with restic and borg was not run (-only).")
	}
	if r.Copy != nil && !r.Copy.Skipped {
		fmt.Fprintln(w)
		r.Copy.write(w)
	}
	if r.Poll != nil && !r.Poll.Skipped {
		fmt.Fprintln(w)
		r.Poll.write(w)
	}
}

func (r *Report) writeTable(w io.Writer) {
	c, rs, b := r.Tool("cairn"), r.Tool("restic"), r.Tool("borg")
	na := value{err: "n/a (no change map)"}
	incrMap := func(t *Tool) value {
		if t == nil || t.Skipped || t.Name == "cairn" {
			return t.seconds(IncrMap)
		}
		return na
	}
	type row struct {
		name   string
		vals   [3]value // cairn, restic, borg
		format func(float64) string
		cmp    func(c, o value) string
		// cmpVals, if set, are the values the comparison columns use
		// (cairn, restic, borg), when they differ from vals.
		cmpVals *[3]value
	}
	sec := func(step string) [3]value { return [3]value{c.seconds(step), rs.seconds(step), b.seconds(step)} }
	full := sec(Full)
	incr := sec(Incr)
	rest := sec(Restore)
	rows := []row{
		{name: "full backup (s)", vals: full, format: secs, cmp: speed},
		{name: "full MB/s (logical size)", vals: full, format: rate(r.Logical), cmp: speed},
		{name: "full MB/s (allocated bytes)", vals: full, format: rate(r.Allocated), cmp: speed},
		{name: "incremental, change map (s)", vals: [3]value{incrMap(c), incrMap(rs), incrMap(b)}, format: secs, cmp: speed,
			cmpVals: &[3]value{incrMap(c), incr[1], incr[2]}},
		{name: "incremental, no map (s)", vals: incr, format: secs, cmp: speed},
		{name: "restore (s)", vals: rest, format: secs, cmp: speed},
		{name: "restore MB/s (logical size)", vals: rest, format: rate(r.Logical), cmp: speed},
		{name: "vault size after incremental (MiB)", vals: [3]value{c.vault(), rs.vault(), b.vault()}, format: mib, cmp: size},
		{name: "peak RSS (MiB)", vals: [3]value{c.peakRSS(), rs.peakRSS(), b.peakRSS()}, format: mib, cmp: size},
	}
	fmt.Fprintln(w, "| metric | cairn | restic | borg | cairn vs restic | cairn vs borg |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, rw := range rows {
		cv := rw.vals
		if rw.cmpVals != nil {
			cv = *rw.cmpVals
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", rw.name,
			cell(rw.vals[0], rw.format), cell(rw.vals[1], rw.format), cell(rw.vals[2], rw.format),
			rw.cmp(cv[0], cv[1]), rw.cmp(cv[0], cv[2]))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Times are medians of the runs' wall-clock times; MB/s = 10^6 bytes per second of the image's logical size (or allocated bytes) divided by the time.")
	fmt.Fprintln(w, "\"N× faster\" = the other tool's time ÷ cairn's (higher is better for cairn); for the change-map row cairn's change-map incremental is compared with the other tool's plain incremental.")
	fmt.Fprintln(w, "\"N× theirs\" = cairn's size or memory ÷ the other tool's (lower is better for cairn).")
}

func (r *Report) writeGoals(w io.Writer) {
	c, rs := r.Tool("cairn"), r.Tool("restic")
	fmt.Fprintln(w, "Goals (cairn against restic):")
	ratio := func(cv, ov value) (float64, string, bool) {
		if !cv.ok {
			return 0, "cairn " + orNA(cv.err), false
		}
		if !ov.ok {
			return 0, "restic " + orNA(ov.err), false
		}
		return ov.v / cv.v, "", true
	}
	mark := func(met bool) string {
		if met {
			return "**met**"
		}
		return "**not met**"
	}
	goal := func(name string, cv, ov value, want float64, unit string) {
		x, why, ok := ratio(cv, ov)
		if !ok {
			fmt.Fprintf(w, "- %s: not measured (%s)\n", name, clip(why))
			return
		}
		fmt.Fprintf(w, "- %s: %.2f%s — %s\n", name, x, unit, mark(x >= want))
	}
	goal("full backup ≥5× faster than restic", c.seconds(Full), rs.seconds(Full), 5, "×")
	goal("incremental with change map ≥20× faster than restic's incremental", c.seconds(IncrMap), rs.seconds(Incr), 20, "×")
	goal("incremental without change map ≥3× faster than restic's incremental", c.seconds(Incr), rs.seconds(Incr), 3, "×")
	cr := c.seconds(Restore)
	if cr.ok {
		gbps := float64(r.Logical) / cr.v / 1e9
		fmt.Fprintf(w, "- restore ≥1 GB/s: %.2f GB/s — %s\n", gbps, mark(gbps >= 1))
	} else {
		fmt.Fprintf(w, "- restore ≥1 GB/s: not measured (cairn %s)\n", clip(orNA(cr.err)))
	}
	goal("restore ≥3× faster than restic", cr, rs.seconds(Restore), 3, "×")
	cv, ov := c.vault(), rs.vault()
	if cv.ok && ov.ok {
		x := cv.v / ov.v
		fmt.Fprintf(w, "- vault ≤1.15× restic's size: %.2f× — %s\n", x, mark(x <= 1.15))
	} else {
		fmt.Fprintf(w, "- vault ≤1.15× restic's size: not measured\n")
	}
	if m := c.peakRSS(); m.ok {
		fmt.Fprintf(w, "- peak memory ≤512 MiB: %.1f MiB — %s\n", m.v/float64(bytesize.MiB), mark(m.v <= 512*float64(bytesize.MiB)))
	} else {
		fmt.Fprintf(w, "- peak memory ≤512 MiB: not measured (cairn %s)\n", clip(orNA(m.err)))
	}
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

func (r *Report) writeSamples(w io.Writer) {
	fmt.Fprintln(w, "<details><summary>All samples</summary>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| tool | run | step | wall s | CPU s (user+sys) | peak RSS MiB | result |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---|")
	for _, t := range r.Tools {
		if t.Err != "" {
			fmt.Fprintf(w, "| %s | | | | | | error: %s |\n", t.Name, clip(t.Err))
		}
		for _, s := range t.Samples {
			res := "ok"
			if s.Err != "" {
				res = "error: " + clip(s.Err)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %.2f | %.2f | %.1f | %s |\n", t.Name, s.Run, s.Step,
				s.Wall.Seconds(), s.CPU.Seconds(), float64(s.MaxRSS)/float64(bytesize.MiB), res)
		}
		for i, v := range t.VaultSizes {
			fmt.Fprintf(w, "| %s | %d | vault size | | | | %s MiB |\n", t.Name, i+1, bytesize.MiBString(v))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "</details>")
}
