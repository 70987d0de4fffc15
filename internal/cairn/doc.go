// Package cairn holds the vocabulary shared by every other package of the
// project: content addresses, byte extents, names and the error kinds that
// the CLI and the API dialects map to exit codes and HTTP statuses.
//
// It imports nothing of the project's own.
package cairn
