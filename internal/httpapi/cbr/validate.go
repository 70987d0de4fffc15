package cbr

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// decodeBody decodes a request's JSON body into v. Fields CBR defines that
// cairn does not use are accepted and ignored, as are unknown fields (the
// SDK's models grow); malformed JSON is 400 CodeBadRequestBody, a value of
// the wrong type 400 CodeInvalidParameter naming the field, a body over
// the limit 413.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(http.StatusBadRequest, CodeBadRequestBody, "Content-Type %q is not JSON: send application/json", ct)
		}
	}
	if r.Body == nil {
		return errorf(http.StatusBadRequest, CodeBadRequestBody, "the request body is empty: send a JSON object")
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errorf(http.StatusBadRequest, CodeBadRequestBody, "the request body could not be read")
	}
	if strings.TrimSpace(string(data)) == "" {
		return errorf(http.StatusBadRequest, CodeBadRequestBody, "the request body is empty: send a JSON object")
	}
	if !json.Valid(data) {
		var syn *json.SyntaxError
		var x any
		if err := json.Unmarshal(data, &x); errors.As(err, &syn) {
			return errorf(http.StatusBadRequest, CodeBadRequestBody, "malformed JSON at byte %d: %v", syn.Offset, syn)
		}
		return errorf(http.StatusBadRequest, CodeBadRequestBody, "malformed JSON")
	}
	if t := strings.TrimSpace(string(data)); !strings.HasPrefix(t, "{") {
		return errorf(http.StatusBadRequest, CodeBadRequestBody, "the body must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			field := typ.Field
			if field == "" {
				field = "the body"
			}
			return badParam("invalid parameter %s: must be %s, not %s", field, jsonType(typ.Type.Kind().String()), typ.Value)
		}
		return badParam("invalid request body: %v", err)
	}
	return nil
}

// jsonType names a Go kind as the JSON type a client sends.
func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "an integer"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// required fails when a required body field is missing.
func required(field string, present bool) error {
	if !present {
		return badParam("invalid parameter %s: it is required", field)
	}
	return nil
}

// checkUUID checks a field that holds an id: a UUID.
func checkUUID(field, s string) error {
	if !isUUID(s) {
		return badParam("invalid parameter %s: %q is not an id (a UUID)", field, s)
	}
	return nil
}

// projectIDRE matches a project id: 32 hex digits.
var projectIDRE = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// checkLen checks a string's length in characters.
func checkLen(field, s string, lo, hi int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) {
		return badParam("invalid parameter %s: not valid UTF-8", field)
	}
	if n < lo || n > hi {
		return badParam("invalid parameter %s: must be %d to %d characters, has %d", field, lo, hi, n)
	}
	return nil
}

// checkBackupName checks a backup or policy name: 1 to 64 characters,
// each a digit, a Chinese character, a letter, '_' or '-', as CBR's
// reference says.
func checkBackupName(field, s string) error {
	if err := checkLen(field, s, 1, 64); err != nil {
		return err
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-' || unicode.Is(unicode.Han, r)) {
			return badParam("invalid parameter %s: %q has %q; use digits, Chinese characters, letters, '_' and '-'", field, s, r)
		}
	}
	return nil
}

// checkVaultName checks a vault name: 1 to 64 characters of letters,
// digits, '_' and '-'.
func checkVaultName(field, s string) error {
	if err := checkLen(field, s, 1, 64); err != nil {
		return err
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-') {
			return badParam("invalid parameter %s: %q has %q; use letters, digits, '_' and '-'", field, s, r)
		}
	}
	return nil
}

// checkDescription checks a description: at most 255 characters, no '<'
// or '>'.
func checkDescription(field, s string) error {
	if err := checkLen(field, s, 0, 255); err != nil {
		return err
	}
	if strings.ContainsAny(s, "<>") {
		return badParam("invalid parameter %s: must not contain '<' or '>'", field)
	}
	return nil
}

// oneOf checks that s is one of the allowed values.
func oneOf(field, s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return badParam("invalid parameter %s: %q is not one of %s", field, s, strings.Join(allowed, ", "))
}

// queryInt reads an integer query parameter in [lo, hi]; def when absent.
func queryInt(q *request, name string, def, lo, hi int) (int, error) {
	vs, ok := q.query[name]
	if !ok || len(vs) == 0 || vs[0] == "" {
		return def, nil
	}
	n, err := strconv.Atoi(vs[0])
	if err != nil || n < lo || n > hi {
		return 0, badParam("invalid parameter %s: %q must be an integer from %d to %d", name, vs[0], lo, hi)
	}
	return n, nil
}

// queryBool reads a boolean query parameter.
func queryBool(q *request, name string) (bool, bool, error) {
	v := q.query.Get(name)
	if v == "" {
		return false, false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, false, badParam("invalid parameter %s: %q must be true or false", name, v)
	}
	return b, true, nil
}

// queryTime reads a time query parameter: CBR's "2006-01-02T15:04:05"
// (UTC), with fractional seconds or a zone allowed.
func queryTime(q *request, name string) (time.Time, error) {
	v := q.query.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z"} {
		if t, err := time.Parse(l, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badParam("invalid parameter %s: %q is not a time like 2006-01-02T15:04:05", name, v)
}

// page slices a full list by offset and limit.
func page[T any](all []T, offset, limit int) []T {
	if offset >= len(all) {
		return []T{}
	}
	end := min(len(all), offset+limit)
	return all[offset:end]
}

// timeText formats a time as CBR writes them: UTC, microseconds, no zone.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000")
}

// gb returns bytes in GB (GiB), rounded up.
func gb(n int64) int64 { return (n + 1<<30 - 1) >> 30 }

// mb returns bytes in MB (MiB), rounded up.
func mb(n int64) int64 { return (n + 1<<20 - 1) >> 20 }
