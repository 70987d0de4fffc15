package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/bytesize"
	"github.com/cairn-vm/cairn/bench/internal/sections"
)

// CopySample is one copy of the cross-region copy section.
type CopySample struct {
	Run    int
	Phase  string              // sections.CopyFirst, CopyChanged or CopyAgain
	Res    sections.CopyResult // what the engine reported
	Wall   time.Duration       // of the whole copy process, opening the vaults included
	CPU    time.Duration       // user + system of the copy process
	MaxRSS int64               // peak resident set of the copy process, bytes
	Growth int64               // du of the destination vault after the copy minus before
	// Restore is "ok" when the destination point was restored and its
	// SHA-256 equals the image's, "" when it was not restored, else
	// what differed.
	Restore string
	Err     string // "" when the copy succeeded
}

// CopySection is the cross-region copy section: restore points 1 (the base
// image) and 2 (the ~1 % changed image) of a source vault copied to a
// fresh destination vault, then point 2 once more.
type CopySection struct {
	Skipped bool   // not selected: the section is left out
	Err     string // set when the section could not run at all
	// ChangedChunks is how many of the vaults' chunks the change
	// touches: the most that copying point 2 after point 1 should store.
	ChangedChunks int64
	ChangedBytes  int64 // bytes the change rewrote
	Samples       []CopySample
	Notes         []string // how it was measured
}

// PollSection is the status polling section.
type PollSection struct {
	Skipped  bool   // not selected: the section is left out
	Err      string // set when the section failed
	Clients  int
	Duration time.Duration // asked for, per poll
	Res      *sections.PollResult
	Notes    []string // how it was measured
}

// Failed reports whether the copy section has an error.
func (c *CopySection) Failed() bool {
	if c == nil || c.Skipped {
		return false
	}
	if c.Err != "" {
		return true
	}
	for _, s := range c.Samples {
		if s.Err != "" || (s.Restore != "" && s.Restore != "ok") {
			return true
		}
	}
	return false
}

// Failed reports whether the polling section has an error, failed
// requests included.
func (p *PollSection) Failed() bool {
	if p == nil || p.Skipped {
		return false
	}
	return p.Err != "" || p.Res == nil || p.Res.Loaded.Errors > 0 || p.Res.Idle.Errors > 0
}

// phase returns the medians of f over the successful samples of phase.
func (c *CopySection) phase(phase string, f func(CopySample) float64) value {
	var xs []float64
	var v value
	for _, s := range c.Samples {
		if s.Phase != phase {
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

func (c *CopySection) restoreCell(phase string) string {
	ok, n := 0, 0
	var bad string
	for _, s := range c.Samples {
		if s.Phase != phase || s.Err != "" || s.Restore == "" {
			continue
		}
		n++
		if s.Restore == "ok" {
			ok++
		} else if bad == "" {
			bad = s.Restore
		}
	}
	switch {
	case n == 0 && phase == sections.CopyAgain:
		return "same point as point 2's copy"
	case n == 0:
		return "n/a"
	case ok == n:
		return fmt.Sprintf("equal (%d of %d)", ok, n)
	}
	return clip(fmt.Sprintf("**DIFFERS** (%d of %d): %s", n-ok, n, bad))
}

func (c *CopySection) write(w io.Writer) {
	fmt.Fprintln(w, "## Cross-region copy")
	fmt.Fprintln(w)
	if c.Err != "" {
		fmt.Fprintf(w, "Not measured: %s\n", clip(c.Err))
		writeNotes(w, c.Notes)
		return
	}
	mibv := func(f func(sections.CopyResult) int64) func(CopySample) float64 {
		return func(s CopySample) float64 { return float64(f(s.Res)) }
	}
	type row struct {
		name   string
		f      func(CopySample) float64
		format func(float64) string
	}
	count := func(x float64) string { return fmt.Sprintf("%.0f", x) }
	rows := []row{
		{"copy time (s)", func(s CopySample) float64 { return s.Res.Seconds }, secs},
		{"of which verifying (s)", func(s CopySample) float64 { return s.Res.VerifySeconds }, secs},
		{"MB/s (the point's data ÷ copy time)", func(s CopySample) float64 {
			if s.Res.Seconds <= 0 {
				return 0
			}
			return float64(s.Res.DataBytes) / 1e6 / s.Res.Seconds
		}, func(x float64) string { return fmt.Sprintf("%.0f", x) }},
		{"the point's data (MiB)", mibv(func(r sections.CopyResult) int64 { return r.DataBytes }), mib},
		{"read from source (MiB)", mibv(func(r sections.CopyResult) int64 { return r.BytesRead }), mib},
		{"written to destination (MiB)", mibv(func(r sections.CopyResult) int64 { return r.BytesWritten }), mib},
		{"chunks fetched from source", mibv(func(r sections.CopyResult) int64 { return r.ChunksRead }), count},
		{"chunks stored in destination", mibv(func(r sections.CopyResult) int64 { return r.ChunksCopied }), count},
		{"chunks the destination had", mibv(func(r sections.CopyResult) int64 { return r.ChunksSkipped }), count},
		{"destination vault growth, du (MiB)", func(s CopySample) float64 { return float64(s.Growth) }, mib},
		{"CPU (s, user+sys)", func(s CopySample) float64 { return s.CPU.Seconds() }, secs},
		{"peak RSS (MiB)", func(s CopySample) float64 { return float64(s.MaxRSS) }, mib},
	}
	fmt.Fprintln(w, "| metric | point 1 (first copy) | point 2 (~1 % changed) | point 2 again |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |", r.name)
		for _, ph := range sections.CopyPhases {
			fmt.Fprintf(w, " %s |", cell(c.phase(ph, r.f), r.format))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| restored from the destination, SHA-256 vs the image |")
	for _, ph := range sections.CopyPhases {
		fmt.Fprintf(w, " %s |", c.restoreCell(ph))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)

	// Checks.
	mark := func(met bool) string {
		if met {
			return "**met**"
		}
		return "**not met**"
	}
	fmt.Fprintln(w, "Checks (every run):")
	var verified, copies int
	for _, s := range c.Samples {
		if s.Err == "" {
			copies++
			if s.Res.Verified {
				verified++
			}
		}
	}
	fmt.Fprintf(w, "- the engine read every destination back and matched it to the source before committing: %d of %d copies — %s\n", verified, copies, mark(copies > 0 && verified == copies))
	var maxStored, maxWritten, firstWritten int64 = -1, -1, 0
	again := true
	var againN int
	for _, s := range c.Samples {
		if s.Err != "" {
			continue
		}
		switch s.Phase {
		case sections.CopyChanged:
			maxStored = max(maxStored, s.Res.ChunksCopied)
			maxWritten = max(maxWritten, s.Res.BytesWritten)
		case sections.CopyFirst:
			firstWritten = max(firstWritten, s.Res.BytesWritten)
		case sections.CopyAgain:
			againN++
			again = again && s.Res.Existed && s.Res.BytesRead == 0 && s.Res.BytesWritten == 0
		}
	}
	if maxStored >= 0 {
		fmt.Fprintf(w, "- point 2 stored only chunks the change touched: at most %d stored, %d touched (%s rewritten) — %s\n",
			maxStored, c.ChangedChunks, bytesize.Format(c.ChangedBytes), mark(maxStored <= c.ChangedChunks))
		if firstWritten > 0 {
			fmt.Fprintf(w, "- point 2 wrote %.1f %% of what point 1 wrote (%s of %s)\n", 100*float64(maxWritten)/float64(firstWritten),
				bytesize.Format(maxWritten), bytesize.Format(firstWritten))
		}
	} else {
		fmt.Fprintln(w, "- point 2 stored only chunks the change touched: not measured")
	}
	if againN > 0 {
		fmt.Fprintf(w, "- point 2 again was found in the destination and moved nothing (0 B read, 0 B written) — %s\n", mark(again))
	} else {
		fmt.Fprintln(w, "- point 2 again moved nothing: not measured")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "<details><summary>All copies</summary>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| run | point | copy s | verify s | process wall s | CPU s | peak RSS MiB | read B | written B | stored / had chunks | du growth B | restore | result |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|")
	for _, s := range c.Samples {
		res := "ok"
		if s.Err != "" {
			res = "error: " + clip(s.Err)
		}
		fmt.Fprintf(w, "| %d | %s | %.2f | %.2f | %.2f | %.2f | %.1f | %d | %d | %d / %d | %d | %s | %s |\n", s.Run, s.Phase,
			s.Res.Seconds, s.Res.VerifySeconds, s.Wall.Seconds(), s.CPU.Seconds(), float64(s.MaxRSS)/float64(bytesize.MiB),
			s.Res.BytesRead, s.Res.BytesWritten, s.Res.ChunksCopied, s.Res.ChunksSkipped, s.Growth, orDash(s.Restore), res)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "</details>")
	writeNotes(w, c.Notes)
}

// writeNotes writes a section's notes.
func writeNotes(w io.Writer, notes []string) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintln(w, "\nNotes:")
	for _, n := range notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return clip(s)
}

func (p *PollSection) write(w io.Writer) {
	fmt.Fprintln(w, "## Status polling under load")
	fmt.Fprintln(w)
	if p.Err != "" || p.Res == nil {
		fmt.Fprintf(w, "Not measured: %s\n", clip(orNA(p.Err)))
		writeNotes(w, p.Notes)
		return
	}
	r := p.Res
	fmt.Fprintf(w, "`GET %s`, %d clients for %v each:\n\n", r.Path, p.Clients, p.Duration)
	fmt.Fprintln(w, "| polling | requests | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, l := range []struct {
		name string
		l    sections.Load
	}{{"while a copy runs", r.Loaded}, {"no copy running", r.Idle}} {
		errs := fmt.Sprint(l.l.Errors)
		if l.l.FirstError != "" {
			errs += " (first: " + clip(l.l.FirstError) + ")"
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %s |\n", l.name, l.l.Requests, l.l.Throughput,
			l.l.P50, l.l.P90, l.l.P99, l.l.Max, errs)
	}
	fmt.Fprintln(w)
	var cs []string
	for _, c := range r.Copies {
		s := fmt.Sprintf("%s %.1f–%.1f s (%.1f s, %s written", c.Region, c.Start, c.End, c.End-c.Start, bytesize.Format(c.BytesWritten))
		if c.Verified {
			s += ", verified"
		}
		cs = append(cs, s+")")
	}
	fmt.Fprintf(w, "- **copies** (times from the start of the loaded window, which lasted %.1f s): %s\n", r.Loaded.Seconds, strings.Join(cs, "; "))
	fmt.Fprintf(w, "- **a copy ran for** %.1f s of the %.1f s window; the polled point's own copy for %.1f s\n", r.CopySeconds, r.Loaded.Seconds, r.PolledCopySeconds)
	fmt.Fprintf(w, "- **backup through the server** (the source restore point): %.2f s; **server peak RSS**: %s\n", r.BackupSeconds, bytesize.Format(r.ServerPeakRSS))
	writeNotes(w, p.Notes)
}

// hasTools reports whether any tool of the comparison was selected.
func (r *Report) hasTools() bool {
	for _, t := range r.Tools {
		if !t.Skipped {
			return true
		}
	}
	return false
}
