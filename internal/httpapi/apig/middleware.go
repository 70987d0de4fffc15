package apig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/clock"
)

// DefaultMaxBodyBytes is the body limit of Middleware when given none.
const DefaultMaxBodyBytes = 1 << 20

// ReadBody reads all of r's body, at most limit bytes (DefaultMaxBodyBytes
// if limit <= 0), and puts an unread copy back in r.Body (with
// r.GetBody), so that a handler after a verifier reads it again. A body
// over the limit fails with an *Error (413 APIG.0201) wrapping
// ErrBodyTooLarge without reading more than limit+1 bytes, a body whose
// Content-Length already says so without reading any; a failed read is a
// 400 APIG.0201. A request without a body gives an empty slice.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, nil
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit, fmt.Errorf("content length %d", r.ContentLength))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	_ = r.Body.Close()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit, err)
		}
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeRequestError,
			Message: "API request error: the request body could not be read",
			Err:     cairn.E(cairn.Invalid, fmt.Errorf("apig: read the body: %w", err))}
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit, fmt.Errorf("more than %d bytes", limit))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return body, nil
}

// Middleware returns a handler that authenticates each request before
// next sees it:
//
//   - with an Authorization header (and no X-Auth-Token), it reads the
//     body (ReadBody, maxBody), verifies the signature at clk's time, and
//     calls next with the Principal in the context (PrincipalFrom) and the
//     body restored;
//   - with an X-Auth-Token header (and no Authorization), it calls next
//     untouched: checking the token is next's work;
//   - with neither, or both, it refuses.
//
// A refusal is written by WriteError, and next is not called. next must
// still check that the URL's project is the principal's (Authorize).
func (v *Verifier) Middleware(clk clock.Clock, maxBody int64, next http.Handler) http.Handler {
	if clk == nil {
		clk = clock.Real
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signed := len(r.Header.Values("Authorization")) > 0
		token := len(r.Header.Values(HeaderAuthToken)) > 0
		switch {
		case signed && token:
			WriteError(w, authError("both an Authorization and an X-Auth-Token header", ErrAmbiguousCredentials))
		case token:
			next.ServeHTTP(w, r)
		case !signed:
			WriteError(w, authError("x-auth-token not found", ErrMissingCredentials))
		default:
			body, err := ReadBody(r, maxBody)
			if err != nil {
				WriteError(w, err)
				return
			}
			p, err := v.Verify(r.Context(), r, body, clk.Now())
			if err != nil {
				WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		}
	})
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the Principal Middleware put in ctx, if any.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// DomainOf returns the tenant (domain) that owns a project. For a project
// it does not know it returns an error of kind cairn.NotExist.
type DomainOf func(ctx context.Context, projectID string) (string, error)

// Authorize checks that p may act in projectID, the {project_id} of the
// URL: the project must belong to p's tenant, as domainOf tells, and be
// the project p's signed X-Project-Id names, if it named one. As in
// Huawei Cloud a project is one tenant in one region, and one AK/SK serves
// all of its tenant's projects. A refusal is an *Error (403 APIG.0302)
// wrapping ErrProjectForbidden, the same whether the project belongs to
// another tenant or does not exist; domainOf's other failures are a 500.
func (p *Principal) Authorize(ctx context.Context, projectID string, domainOf DomainOf) error {
	deny := func(why string) error {
		return forbidden("project "+projectID+" is not accessible with these credentials",
			fmt.Errorf("%w: project %q, AK %q: %s", ErrProjectForbidden, projectID, p.AccessKey, why))
	}
	if projectID == "" {
		return deny("no project in the URL")
	}
	if p.ProjectID != "" && p.ProjectID != projectID {
		return deny(fmt.Sprintf("the signed X-Project-Id is %q", p.ProjectID))
	}
	domain, err := domainOf(ctx, projectID)
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return deny("no such project")
		}
		return internalError(fmt.Errorf("apig: find the tenant of project %q: %w", projectID, err))
	}
	if domain == "" || domain != p.DomainID {
		return deny(fmt.Sprintf("the project is of tenant %q, the AK of %q", domain, p.DomainID))
	}
	return nil
}
