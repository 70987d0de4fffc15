package cairn

import "errors"

// Kind classifies an error for the callers that branch on it: the CLI maps
// kinds to exit codes, the API dialects to HTTP statuses and error codes.
// Do not reorder: the numbers are stable.
type Kind int

// The kinds of error.
const (
	Other       Kind = iota // unclassified
	Invalid                 // bad input: a field breaks a rule
	NotExist                // the named thing does not exist
	Exist                   // the thing already exists
	Permission              // wrong passphrase or credentials
	Conflict                // the thing is busy (another operation holds it)
	Corrupt                 // stored data failed a check
	Unsupported             // e.g. a vault format newer than this build
	IO                      // reading or writing a disk or the backend failed
	Canceled                // the operation was canceled
)

var kindNames = [...]string{"other", "invalid", "not exist", "exist", "permission", "conflict", "corrupt", "unsupported", "io", "canceled"}

// String names the kind.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Error is an error with a Kind. Its message is the wrapped error's.
type Error struct {
	Kind Kind
	Err  error
}

// E returns err classified as kind. It returns nil for a nil err.
func E(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// Error returns the wrapped error's message.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of the outermost *Error in err's chain, or Other.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// IsKind reports whether err is classified as kind.
func IsKind(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }
