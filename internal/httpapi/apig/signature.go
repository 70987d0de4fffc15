package apig

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Names and values of the signing scheme, as the Huawei Cloud SDKs spell
// them.
const (
	// AlgorithmHMACSHA256 is the default algorithm of the SDKs' AK/SK
	// signer: the signing key is the SK itself.
	AlgorithmHMACSHA256 = "SDK-HMAC-SHA256"
	// AlgorithmDerived is the SDKs' "derived" algorithm: the signing key
	// is derived from the SK for one day, region and service.
	AlgorithmDerived = "V11-HMAC-SHA256"

	// HeaderDate carries the signing time, in DateFormat.
	HeaderDate = "X-Sdk-Date"
	// HeaderContentSHA256, when present, stands in for the body's hash in
	// the canonical request; the SDKs set it to UnsignedPayload for a body
	// that is neither JSON nor BSON.
	HeaderContentSHA256 = "X-Sdk-Content-Sha256"
	// HeaderProjectID is the project the SDK's BasicCredentials name.
	HeaderProjectID = "X-Project-Id"
	// HeaderAuthToken carries a token instead of a signature.
	HeaderAuthToken = "X-Auth-Token"
	// HeaderRequestID names a response for support; the SDK reports it as
	// an error's RequestId.
	HeaderRequestID = "X-Request-Id"

	// UnsignedPayload is the HeaderContentSHA256 value that leaves the
	// body out of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// DateFormat is the layout of HeaderDate: basic ISO 8601, UTC.
	DateFormat = "20060102T150405Z"
	// derivedDateFormat is the date in a derived credential's scope.
	derivedDateFormat = "20060102"
)

// authorization is a parsed Authorization header.
type authorization struct {
	algorithm     string
	accessKey     string
	scope         string // derived only: "<yyyymmdd>/<region>/<service>"
	date          string // derived only: the scope's date
	region        string // derived only
	service       string // derived only
	signedHeaders []string
	signature     []byte // the HMAC, decoded from hex
}

// parseAuthorization parses the header the SDK writes:
//
//	SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2>, Signature=<hex>
//	V11-HMAC-SHA256 Credential=<AK>/<yyyymmdd>/<region>/<service>, SignedHeaders=<h1;h2>, Signature=<hex>
//
// Parameters may come in any order, each once; no other parameter is
// allowed. An algorithm other than these two fails with
// ErrUnsupportedAlgorithm, anything else malformed with
// ErrMalformedAuthorization.
func parseAuthorization(h string) (*authorization, error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return nil, fmt.Errorf("%w: want %q followed by its parameters", ErrMalformedAuthorization, AlgorithmHMACSHA256)
	}
	a := &authorization{algorithm: alg}
	var keyParam string
	switch alg {
	case AlgorithmHMACSHA256:
		keyParam = "Access"
	case AlgorithmDerived:
		keyParam = "Credential"
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("%w: parameter %q is not name=value", ErrMalformedAuthorization, part)
		}
		switch k {
		case keyParam, "SignedHeaders", "Signature":
		default:
			return nil, fmt.Errorf("%w: unexpected parameter %q", ErrMalformedAuthorization, k)
		}
		if _, dup := params[k]; dup {
			return nil, fmt.Errorf("%w: parameter %s given twice", ErrMalformedAuthorization, k)
		}
		params[k] = v
	}
	for _, k := range []string{keyParam, "SignedHeaders", "Signature"} {
		if params[k] == "" {
			return nil, fmt.Errorf("%w: no %s parameter", ErrMalformedAuthorization, k)
		}
	}

	if alg == AlgorithmDerived {
		// AK/date/region/service; an AK has no slash.
		parts := strings.Split(params[keyParam], "/")
		if len(parts) != 4 || slices.Contains(parts, "") {
			return nil, fmt.Errorf("%w: Credential is not <AK>/<yyyymmdd>/<region>/<service>", ErrMalformedAuthorization)
		}
		a.accessKey, a.date, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
		a.scope = strings.Join(parts[1:], "/")
	} else {
		a.accessKey = params[keyParam]
	}

	for _, name := range strings.Split(params["SignedHeaders"], ";") {
		if name == "" || name != strings.ToLower(name) || strings.ContainsAny(name, " \t:") {
			return nil, fmt.Errorf("%w: bad signed header name %q", ErrMalformedAuthorization, name)
		}
		a.signedHeaders = append(a.signedHeaders, name)
	}

	sig, err := hex.DecodeString(params["Signature"])
	if err != nil || len(sig) != sha256.Size {
		return nil, fmt.Errorf("%w: Signature is not %d hex digits", ErrMalformedAuthorization, 2*sha256.Size)
	}
	a.signature = sig
	return a, nil
}

// canonicalRequest returns the canonical request the SDK's signer
// computes for r, as it arrives at a server:
//
//	<method>\n<canonical URI>\n<canonical query>\n<canonical headers>\n\n<signed headers>\n<payload hash>
//
// with
//   - the URI: r.URL.Path (decoded) cut at each "/", every segment
//     escaped by escape, joined by "/", and a "/" added unless it ends in
//     one;
//   - the query: every name=value pair of the decoded query, sorted by
//     name and then value (both unescaped), each escaped by escape, joined
//     by "&"; a bare "name" is "name=";
//   - the headers: for each name in signed, in its order, each of the
//     request's values of that header, sorted, as "name:value" with the
//     value trimmed, joined by "\n"; "host" is r.Host, which Go keeps out
//     of r.Header.
//
// A query that does not parse fails.
//
// With redact set, the values of headers that carry credentials are
// replaced, making a canonical request fit for a log.
func canonicalRequest(r *http.Request, signed []string, payloadHash string, redact bool) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s\n%s\n%s\n%s\n%s\n%s",
		r.Method,
		canonicalURI(r.URL.Path),
		query,
		canonicalHeaders(r, signed, redact),
		strings.Join(signed, ";"),
		payloadHash), nil
}

// canonicalURI is the SDK's canonicalURI applied to a decoded path.
func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// canonicalQuery is the SDK's canonicalQueryString applied to the query
// as it arrives.
func canonicalQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", fmt.Errorf("the query does not parse: %w", err)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var pairs []string
	for _, k := range keys {
		vs := slices.Clone(q[k])
		slices.Sort(vs)
		ek := escape(k)
		for _, v := range vs {
			pairs = append(pairs, ek+"="+escape(v))
		}
	}
	return strings.Join(pairs, "&"), nil
}

// credentialHeaders are the headers whose values a logged canonical
// request leaves out.
var credentialHeaders = []string{"authorization", "x-auth-token", "x-security-token", "x-subject-token"}

// canonicalHeaders is the SDK's canonicalHeaders, including its trailing
// newline.
func canonicalHeaders(r *http.Request, signed []string, redact bool) string {
	var lines []string
	for _, name := range signed {
		var vs []string
		if name == "host" {
			vs = []string{r.Host}
		} else {
			vs = slices.Clone(r.Header.Values(name))
		}
		slices.Sort(vs)
		for _, v := range vs {
			if redact && slices.Contains(credentialHeaders, name) {
				v = "<redacted>"
			}
			lines = append(lines, name+":"+strings.TrimSpace(v))
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// stringToSign is what the HMAC covers.
func stringToSign(a *authorization, date, canonical string) string {
	h := sha256.Sum256([]byte(canonical))
	if a.algorithm == AlgorithmDerived {
		return a.algorithm + "\n" + date + "\n" + a.scope + "\n" + hex.EncodeToString(h[:])
	}
	return a.algorithm + "\n" + date + "\n" + hex.EncodeToString(h[:])
}

// signingKey is the HMAC key: the SK, or for the derived algorithm the
// hex text of HKDF-SHA256(SK, salt AK, info scope), 32 bytes.
func signingKey(a *authorization, sk string) ([]byte, error) {
	if a.algorithm != AlgorithmDerived {
		return []byte(sk), nil
	}
	k, err := hkdf.Key(sha256.New, []byte(sk), []byte(a.accessKey), a.scope, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("derive the signing key: %w", err)
	}
	return []byte(hex.EncodeToString(k)), nil
}

// sign returns the HMAC-SHA256 of sts under key.
func sign(key []byte, sts string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sts))
	return m.Sum(nil)
}

// parseDate parses a HeaderDate value strictly: exactly DateFormat, so
// no fractional seconds, which time.Parse would otherwise accept.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateFormat, s)
	if err != nil {
		return time.Time{}, err
	}
	if t.Format(DateFormat) != s {
		return time.Time{}, errors.New("not in the canonical form")
	}
	return t, nil
}

// shouldEscape reports whether the SDK escapes c: everything but RFC 3986's
// unreserved characters.
func shouldEscape(c byte) bool {
	return !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '~' || c == '.')
}

// escape percent-encodes s as the SDK does: every byte but the unreserved
// ones, in upper-case hex (so a space is %20, never +).
func escape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if shouldEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	t := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if shouldEscape(c) {
			t = append(t, '%', hexDigits[c>>4], hexDigits[c&15])
		} else {
			t = append(t, c)
		}
	}
	return string(t)
}
