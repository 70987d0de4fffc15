// Package sections holds what the benchmark's service sections measure:
// the cross-region copy and status polling under load. The measuring is
// done by bench/cmd/cairnbench-internal, which links cairn's internal
// packages and prints one of these as JSON; the driver, which links none
// of them (so that restic and borg are still measured when cairn does not
// build), reads it back.
package sections

// Copy phases of the cross-region copy section, in the order they run.
const (
	CopyFirst   = "first"   // restore point 1 into an empty destination vault
	CopyChanged = "changed" // restore point 2, ~1 % different, into the same destination
	CopyAgain   = "again"   // restore point 2 once more: nothing should move
)

// CopyPhases lists the copy phases in order.
var CopyPhases = []string{CopyFirst, CopyChanged, CopyAgain}

// CopyResult is one copy of a restore point from a source vault to a
// destination vault by the replicate engine (replicate.Copy).
type CopyResult struct {
	SourcePoint string `json:"sourcePoint"` // restore point id in the source vault
	DestPoint   string `json:"destPoint"`   // restore point id in the destination vault
	ChunkSize   int    `json:"chunkSize"`   // the vaults' chunk size in bytes
	Workers     int    `json:"workers"`     // chunks moved at once
	// Existed reports that the destination already held the point, so
	// that nothing was copied (it was verified all the same).
	Existed bool `json:"existed"`
	// Verified reports that the engine read the destination back and
	// found the source's chunks there before the commit.
	Verified bool `json:"verified"`

	DataBytes     int64 `json:"dataBytes"`     // plaintext bytes of the point's distinct non-zero chunks
	Chunks        int64 `json:"chunks"`        // distinct non-zero chunks of the point
	BytesRead     int64 `json:"bytesRead"`     // sealed chunk bytes fetched from the source
	BytesWritten  int64 `json:"bytesWritten"`  // sealed chunk bytes stored in the destination
	ChunksRead    int64 `json:"chunksRead"`    // chunks fetched from the source
	ChunksCopied  int64 `json:"chunksCopied"`  // chunks stored in the destination
	ChunksSkipped int64 `json:"chunksSkipped"` // chunks the destination already had
	MapHits       int64 `json:"mapHits"`       // chunks whose destination id the id map gave

	Seconds       float64 `json:"seconds"`       // the whole copy, verification included
	VerifySeconds float64 `json:"verifySeconds"` // of which reading the destination back
	OpenSeconds   float64 `json:"openSeconds"`   // opening both vaults (key derivation); not in Seconds

	Warnings []string `json:"warnings,omitempty"`
}

// Load is what the load generator measured (loadtest.Result, with
// durations in milliseconds).
type Load struct {
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`  // how long the clients polled
	Requests   int     `json:"requests"` // completed, with or without error
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	Throughput float64 `json:"throughput"` // successful requests per second
	P50        float64 `json:"p50ms"`
	P90        float64 `json:"p90ms"`
	P99        float64 `json:"p99ms"`
	Max        float64 `json:"maxMs"`
}

// PollCopy is one copy operation that ran on the server during the
// polling section.
type PollCopy struct {
	Region string `json:"region"` // destination region
	State  string `json:"state"`  // the operation's final state
	Error  string `json:"error,omitempty"`
	// Start and End are the operation's start and end, in seconds from
	// the start of the loaded window (negative: before it).
	Start        float64 `json:"start"`
	End          float64 `json:"end"`
	BytesRead    int64   `json:"bytesRead"`
	BytesWritten int64   `json:"bytesWritten"`
	ChunksCopied int64   `json:"chunksCopied"`
	Verified     bool    `json:"verified"`
}

// PollResult is the status-polling section: a cairn serve, a restore
// point copied to another region, and the load generator polling that
// copy's ARM instanceView while the copy runs and again when none does.
type PollResult struct {
	// Path is the path and query polled (ARM GET restore point,
	// $expand=instanceView), with "{subscription}" for the project id.
	Path string `json:"path"`
	// Loaded is the poll while copies run; Idle the same poll after every
	// copy has finished.
	Loaded Load `json:"loaded"`
	Idle   Load `json:"idle"`
	// Copies are the copies in order: the polled restore point's, then
	// those started into further regions when one finished before the
	// loaded window ended, so that a copy runs for all of it.
	Copies []PollCopy `json:"copies"`
	// CopySeconds is how much of the loaded window some copy was running.
	CopySeconds float64 `json:"copySeconds"`
	// PolledCopySeconds is how much of it the polled point's own copy ran.
	PolledCopySeconds float64 `json:"polledCopySeconds"`
	// BackupSeconds is the server's backup of the VM (the source point).
	BackupSeconds float64 `json:"backupSeconds"`
	// ServerPeakRSS is the server's peak resident set (VmHWM), in bytes.
	ServerPeakRSS int64 `json:"serverPeakRSS"`
}
