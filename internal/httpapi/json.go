package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// DecodeJSON decodes the request's JSON body into v, refusing fields that
// v does not have. Its errors say what is wrong and where, with kind
// cairn.Invalid: an empty body, a syntax error (with its byte offset), a
// value of the wrong type (with the field), an unknown field, a second
// JSON value after the first, or a Content-Type that is not JSON. A body
// over the server's limit fails with the *http.MaxBytesError, which
// Classify maps to 413.
func DecodeJSON(r *http.Request, v any) error {
	return decodeJSON(r, v, true)
}

// DecodeJSONLenient is DecodeJSON for dialects whose clients send fields
// the server does not know (read-only fields echoed back, newer API
// versions): unknown fields are ignored.
func DecodeJSONLenient(r *http.Request, v any) error {
	return decodeJSON(r, v, false)
}

func decodeJSON(r *http.Request, v any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &Error{Status: http.StatusUnsupportedMediaType, Kind: cairn.Invalid,
				Message: fmt.Sprintf("Content-Type %q is not JSON: send application/json", ct)}
		}
	}
	if r.Body == nil {
		return invalidBody("the request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(r.Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	// One JSON value, then only white space.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return invalidBody("malformed JSON: the body holds more than one JSON value")
	}
	return nil
}

// jsonError turns an error of encoding/json into one a client can act on.
func jsonError(err error) error {
	var (
		mbe  *http.MaxBytesError
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		inv  *json.InvalidUnmarshalError
		kind = cairn.Invalid
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return invalidBody("the request body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidBody("malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syn):
		return invalidBody(fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return invalidBody(fmt.Sprintf("invalid JSON: %s must be %s, not %s", field, jsonType(typ.Type.Kind().String()), typ.Value))
	case errors.As(err, &inv):
		return fmt.Errorf("decode JSON: %w", err) // a bug in a handler: 500
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return invalidBody(fmt.Sprintf("invalid JSON: unknown field %s", name))
	}
	return cairn.E(kind, fmt.Errorf("invalid JSON: %w", err))
}

func invalidBody(msg string) error {
	return &Error{Status: http.StatusBadRequest, Kind: cairn.Invalid, Message: msg, Err: errors.New(msg)}
}

// jsonType names a Go kind as the JSON type a client sends.
func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}
