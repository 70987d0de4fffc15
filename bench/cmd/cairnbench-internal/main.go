// Command cairnbench-internal is the part of the benchmark that links
// cairn's internal packages: cairnbench builds it and runs it for its
// service sections, and reads the one JSON document it prints on stdout
// (a sections.CopyResult or sections.PollResult). Keeping these packages
// out of cairnbench itself lets restic and borg be measured even when
// cairn does not build.
//
//	cairnbench-internal copy -src DIR -dst DIR -point ID [-workers N]
//	cairnbench-internal poll -cairn BIN -data DIR -image FILE [-clients 200] [-seconds 10]
//
// The vault passphrase comes from CAIRN_PASSWORD.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cairnbench-internal copy|poll [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var (
		out any
		err error
	)
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	switch os.Args[1] {
	case "copy":
		var o copyOptions
		fs.StringVar(&o.src, "src", "", "source vault directory")
		fs.StringVar(&o.dst, "dst", "", "destination vault directory")
		fs.StringVar(&o.point, "point", "", "restore point of the source to copy")
		fs.IntVar(&o.workers, "workers", 0, "chunks moved at once (0: the engine's default)")
		fs.Parse(os.Args[2:])
		out, err = runCopy(ctx, o)
	case "poll":
		var o pollOptions
		fs.StringVar(&o.cairn, "cairn", "bin/cairn", "cairn binary")
		fs.StringVar(&o.data, "data", "", "data directory of cairn serve (emptied first)")
		fs.StringVar(&o.image, "image", "", "raw disk image of the VM")
		fs.StringVar(&o.serverLog, "server-log", "", "file for the server's log (default: discarded)")
		fs.IntVar(&o.clients, "clients", 200, "concurrent clients")
		fs.DurationVar(&o.duration, "duration", 10e9, "how long each poll runs")
		fs.IntVar(&o.spare, "spare-regions", 3, "further regions to copy into when a copy ends before the loaded window does")
		fs.StringVar(&o.apiVersion, "api-version", "2021-03-01", "ARM api-version of the polled URL")
		fs.Parse(os.Args[2:])
		out, err = runPoll(ctx, o)
	default:
		fmt.Fprintf(os.Stderr, "cairnbench-internal: unknown command %q (want copy or poll)\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairnbench-internal:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "cairnbench-internal:", err)
		os.Exit(1)
	}
}

// logf writes a progress line on stderr, which cairnbench logs.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
