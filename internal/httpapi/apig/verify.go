package apig

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// DefaultMaxSkew is how far X-Sdk-Date may be from the server's time
// either way, as in Huawei Cloud's API Gateway.
const DefaultMaxSkew = 15 * time.Minute

// Secret is what a Lookup knows of an access key.
type Secret struct {
	// SecretKey is the SK that signs with the AK.
	SecretKey string
	// DomainID names the tenant ("domain", in Huawei IAM's words) that
	// owns the key; the key serves every project of that tenant.
	DomainID string
}

// Lookup returns the secret of access key ak. For a key it does not know
// it returns an error wrapping ErrUnknownAccessKey or of kind
// cairn.NotExist; any other error is the server's failure (500).
type Lookup func(ctx context.Context, ak string) (Secret, error)

// Principal is who signed a request that Verify accepted.
type Principal struct {
	// AccessKey is the AK the request was signed with.
	AccessKey string
	// DomainID is the tenant the AK belongs to (from Secret).
	DomainID string
	// ProjectID is the X-Project-Id header when it was signed, else "".
	ProjectID string
	// Region and Service are the derived credential's scope; "" for
	// SDK-HMAC-SHA256.
	Region, Service string
	// SignedAt is the X-Sdk-Date.
	SignedAt time.Time
}

// Options tune a Verifier. The zero value is Huawei's behaviour.
type Options struct {
	// MaxSkew is how far X-Sdk-Date may be from now, either way; 0
	// means DefaultMaxSkew.
	MaxSkew time.Duration
	// Replay remembers accepted signatures; nil means a new
	// MemoryReplayCache of DefaultReplayCacheSize.
	Replay ReplayCache
	// AllowUnsignedPayload accepts "X-Sdk-Content-Sha256:
	// UNSIGNED-PAYLOAD", which leaves the body out of the signature. The
	// SDK sends it only for bodies that are neither JSON nor BSON, which
	// CBR's API has none of, so it is refused by default.
	AllowUnsignedPayload bool
	// Derived, when set, accepts V11-HMAC-SHA256 signatures whose scope
	// names a region and service it returns true for; nil refuses that
	// algorithm with ErrUnsupportedAlgorithm.
	Derived func(region, service string) bool
}

// Verifier checks requests signed with an AK/SK as the Huawei Cloud SDKs
// sign them. It is safe for concurrent use.
type Verifier struct {
	lookup Lookup
	opts   Options
}

// NewVerifier returns a Verifier that finds secret keys with lookup.
func NewVerifier(lookup Lookup, opts Options) *Verifier {
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = DefaultMaxSkew
	}
	if opts.Replay == nil {
		opts.Replay = NewMemoryReplayCache(DefaultReplayCacheSize)
	}
	return &Verifier{lookup: lookup, opts: opts}
}

// Verify checks the AK/SK signature of r, whose complete body is body
// (nil for none), at time now, and returns who signed it. r is not
// changed and its body is not read. The checks, in order, each failing
// with an *Error that wraps the sentinel named:
//
//  1. exactly one Authorization header (ErrMissingCredentials,
//     ErrMalformedAuthorization), of algorithm SDK-HMAC-SHA256, or
//     V11-HMAC-SHA256 if Options.Derived allows its scope
//     (ErrUnsupportedAlgorithm), that parses (ErrMalformedAuthorization);
//  2. exactly one X-Sdk-Date (ErrDateMissing), in DateFormat
//     (ErrDateMalformed), at most MaxSkew before or after now
//     (ErrDateExpired, ErrDateFuture);
//  3. X-Sdk-Content-Sha256, if present, is one value, and not
//     UNSIGNED-PAYLOAD unless allowed (ErrUnsignedPayload);
//  4. the AK is known (ErrUnknownAccessKey);
//  5. the signature is the HMAC-SHA256 the SDK computes, compared in
//     constant time, and a hex X-Sdk-Content-Sha256 is the body's hash
//     (ErrSignatureMismatch);
//  6. a signed X-Project-Id is one value (ErrMalformedAuthorization);
//  7. the signature was not accepted before within its validity
//     (ErrReplay); it is then remembered until X-Sdk-Date + MaxSkew, or
//     the request is refused if the cache is full (ErrReplayCacheFull).
//
// Only a request that passed 1–6 reaches the replay cache, so unsigned
// traffic can neither fill it nor probe it.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte, now time.Time) (*Principal, error) {
	authz := r.Header.Values("Authorization")
	switch len(authz) {
	case 0:
		return nil, authError("x-auth-token not found", ErrMissingCredentials)
	case 1:
	default:
		return nil, authError("more than one Authorization header",
			fmt.Errorf("%w: %d Authorization headers", ErrMalformedAuthorization, len(authz)))
	}
	a, err := parseAuthorization(authz[0])
	if err != nil {
		if errors.Is(err, ErrUnsupportedAlgorithm) {
			return nil, authError("unsupported signing algorithm", err)
		}
		return nil, authError("malformed Authorization header", err)
	}
	if a.algorithm == AlgorithmDerived && (v.opts.Derived == nil || !v.opts.Derived(a.region, a.service)) {
		return nil, authError("unsupported signing algorithm",
			fmt.Errorf("%w: %s for region %q, service %q", ErrUnsupportedAlgorithm, a.algorithm, a.region, a.service))
	}

	dates := r.Header.Values(HeaderDate)
	if len(dates) == 0 {
		return nil, authError("x-sdk-date not found", ErrDateMissing)
	}
	if len(dates) > 1 {
		return nil, authError("more than one x-sdk-date", fmt.Errorf("%w: %d values", ErrDateMalformed, len(dates)))
	}
	date := dates[0]
	signedAt, err := parseDate(date)
	if err != nil {
		return nil, authError("x-sdk-date is not in the format "+DateFormat,
			fmt.Errorf("%w: %q: %w", ErrDateMalformed, date, err))
	}
	if a.algorithm == AlgorithmDerived && a.date != signedAt.Format(derivedDateFormat) {
		return nil, authError("the credential's date is not the x-sdk-date's day",
			fmt.Errorf("%w: credential date %q, x-sdk-date %q", ErrDateMalformed, a.date, date))
	}
	skew := v.opts.MaxSkew
	if d := now.Sub(signedAt); d > skew {
		return nil, authError(fmt.Sprintf("x-sdk-date %s is more than %s before the server's time %s",
			date, skew, now.UTC().Format(DateFormat)), fmt.Errorf("%w: by %s", ErrDateExpired, d-skew))
	} else if d < -skew {
		return nil, authError(fmt.Sprintf("x-sdk-date %s is more than %s after the server's time %s",
			date, skew, now.UTC().Format(DateFormat)), fmt.Errorf("%w: by %s", ErrDateFuture, -d-skew))
	}

	bodySum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(bodySum[:])
	payloadHash := bodyHash
	claimed := false
	switch hs := r.Header.Values(HeaderContentSHA256); len(hs) {
	case 0:
	case 1:
		payloadHash, claimed = hs[0], true
		if payloadHash == UnsignedPayload && !v.opts.AllowUnsignedPayload {
			return nil, authError("unsigned payload is not accepted", ErrUnsignedPayload)
		}
	default:
		return nil, authError("more than one x-sdk-content-sha256",
			fmt.Errorf("%w: %d X-Sdk-Content-Sha256 headers", ErrMalformedAuthorization, len(hs)))
	}

	secret, err := v.lookup(ctx, a.accessKey)
	if err == nil && secret.SecretKey == "" {
		err = fmt.Errorf("%w: no secret key", ErrUnknownAccessKey)
	}
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) || cairn.IsKind(err, cairn.NotExist) {
			return nil, authError("Get secretKey failed,ak:"+a.accessKey+",err:ak not exist",
				fmt.Errorf("%w: %q: %w", ErrUnknownAccessKey, a.accessKey, err))
		}
		return nil, internalError(fmt.Errorf("apig: look up access key %q: %w", a.accessKey, err))
	}

	canonical, err := canonicalRequest(r, a.signedHeaders, payloadHash, false)
	if err != nil {
		return nil, authError("verify aksk signature fail", fmt.Errorf("%w: %w", ErrSignatureMismatch, err))
	}
	key, err := signingKey(a, secret.SecretKey)
	if err != nil {
		return nil, internalError(fmt.Errorf("apig: %w", err))
	}
	want := sign(key, stringToSign(a, date, canonical))
	if !hmac.Equal(want, a.signature) {
		logged, _ := canonicalRequest(r, a.signedHeaders, payloadHash, true)
		return nil, authError("verify aksk signature fail", fmt.Errorf("%w: canonical request %q",
			ErrSignatureMismatch, logged))
	}
	if claimed && payloadHash != UnsignedPayload && !strings.EqualFold(payloadHash, bodyHash) {
		return nil, authError("verify aksk signature fail",
			fmt.Errorf("%w: the body's SHA-256 is not the signed X-Sdk-Content-Sha256", ErrSignatureMismatch))
	}

	p := &Principal{AccessKey: a.accessKey, DomainID: secret.DomainID, Region: a.region, Service: a.service,
		SignedAt: signedAt}
	if slices.Contains(a.signedHeaders, strings.ToLower(HeaderProjectID)) {
		switch ids := r.Header.Values(HeaderProjectID); len(ids) {
		case 0:
		case 1:
			p.ProjectID = ids[0]
		default:
			return nil, authError("more than one x-project-id",
				fmt.Errorf("%w: %d X-Project-Id headers", ErrMalformedAuthorization, len(ids)))
		}
	}

	seen, err := v.opts.Replay.Remember(ctx, string(a.signature), signedAt.Add(skew), now)
	if err != nil {
		if errors.Is(err, ErrReplayCacheFull) {
			return nil, &Error{Status: http.StatusTooManyRequests, Code: CodeThrottled,
				Message: "The throttling threshold has been reached: too many signed requests in the last " + skew.String(),
				Err:     fmt.Errorf("apig: %w", err)}
		}
		return nil, internalError(fmt.Errorf("apig: replay cache: %w", err))
	}
	if seen {
		return nil, authError("replayed request: this signature was already used",
			fmt.Errorf("%w: AK %q, x-sdk-date %s", ErrReplay, a.accessKey, date))
	}

	return p, nil
}
