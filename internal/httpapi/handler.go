package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/service"
)

// HandlerFunc is the shape of every API handler. It returns the response
// body, to be written as JSON with status 200, or a *Response for another
// status, headers or a body that is not JSON; nil writes 204 No Content.
// An error is written by the dialect's ErrorWriter with the status
// Classify gives it. The context is the request's, carrying the caller
// (see CallerFrom) on an authenticated route.
type HandlerFunc func(ctx context.Context, r *http.Request) (any, error)

// Response is a successful response with a chosen status and headers.
type Response struct {
	Status int         // 0 means 200
	Header http.Header // added to the response's headers
	Body   any         // written as JSON; nil: no body; a RawBody is written as is
}

// RawBody is a response body that is not JSON.
type RawBody struct {
	ContentType string
	Data        []byte
}

// Authenticator checks a bearer secret and names its caller. A secret
// that is unknown or expired fails with an error of kind
// cairn.Permission. *service.Service implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (service.Caller, error)
}

// CredentialFunc extracts the token secret from a request; "" means none
// was given.
type CredentialFunc func(r *http.Request) string

// BearerToken is the default CredentialFunc: the secret of an
// "Authorization: Bearer <secret>" header.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(secret)
}

// API adapts one dialect's handlers to http.Handlers: it authenticates the
// request, calls the handler, and writes its result or error in the
// dialect's shape. Make one with Deps.API.
type API struct {
	dialect    string
	errs       ErrorWriter
	credential CredentialFunc
	auth       Authenticator
	log        *slog.Logger
}

// APIOption changes an API made by Deps.API.
type APIOption func(*API)

// WithCredential makes the API take token secrets from requests with fn
// instead of BearerToken (CBR's X-Auth-Token, say).
func WithCredential(fn CredentialFunc) APIOption {
	return func(a *API) { a.credential = fn }
}

// WithAuthenticator makes the API check the credentials it extracts with
// auth instead of the server's Authenticator: for a dialect that accepts
// credentials of its own besides tokens (signed requests, say), whose
// middleware has put what it verified in the request's context, which
// auth is given.
func WithAuthenticator(auth Authenticator) APIOption {
	return func(a *API) { a.auth = auth }
}

// Handler returns an http.Handler that authenticates the request and
// calls h. A request without a credential, or with one that
// authenticates no caller, gets 401 through the dialect's ErrorWriter and
// never reaches h.
func (a *API) Handler(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestInfoFrom(r.Context())
		info.dialect = a.dialect
		secret := a.credential(r)
		if secret == "" {
			a.WriteError(w, r, Errorf(http.StatusUnauthorized, cairn.Permission, "no token: send an Authorization: Bearer header with a token (cairn token create makes one)"))
			return
		}
		caller, err := a.auth.Authenticate(r.Context(), secret)
		if err != nil {
			if cairn.IsKind(err, cairn.Permission) {
				err = Errorf(http.StatusUnauthorized, cairn.Permission, "the token is not valid: it is unknown, deleted or expired")
			}
			a.WriteError(w, r, err)
			return
		}
		info.project = caller.ProjectID
		ctx := context.WithValue(r.Context(), callerKey{}, caller)
		r = r.WithContext(ctx)
		a.serve(w, r, h)
	})
}

// Public returns an http.Handler that calls h without authentication (a
// login, the API description).
func (a *API) Public(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestInfoFrom(r.Context()).dialect = a.dialect
		a.serve(w, r, h)
	})
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, h HandlerFunc) {
	out, err := h(r.Context(), r)
	if err != nil {
		a.WriteError(w, r, err)
		return
	}
	a.writeResult(w, r, out)
}

// WriteError writes err through the dialect's ErrorWriter, with the
// status Classify gives it. A server-side error (5xx) is logged with its
// cause; the client sees a generic message.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	_, authenticated := CallerFrom(r.Context())
	e := Classify(err, authenticated)
	if e.Status >= 500 && e.Kind != cairn.Canceled {
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", e.Err)
	}
	a.errs(w, r, e)
}

func (a *API) writeResult(w http.ResponseWriter, r *http.Request, out any) {
	status := http.StatusOK
	body := out
	if resp, ok := out.(*Response); ok {
		for k, vs := range resp.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if resp.Status != 0 {
			status = resp.Status
		}
		body = resp.Body
	}
	switch b := body.(type) {
	case nil:
		if status == http.StatusOK {
			status = http.StatusNoContent
		}
		w.WriteHeader(status)
	case RawBody:
		w.Header().Set("Content-Type", b.ContentType)
		w.WriteHeader(status)
		w.Write(b.Data)
	default:
		data, err := json.Marshal(body)
		if err != nil {
			a.WriteError(w, r, err)
			return
		}
		WriteJSON(w, status, json.RawMessage(data))
	}
}

// WriteJSON writes v as the JSON body of a response with the given status.
// For ErrorWriters and handlers outside the adapter.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":"cannot encode the response"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type callerKey struct{}

// CallerFrom returns the caller of an authenticated request from its
// context, and whether there is one.
func CallerFrom(ctx context.Context) (service.Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(service.Caller)
	return c, ok
}

// WithCaller returns ctx carrying caller, as the API's authentication
// does. For tests of handlers.
func WithCaller(ctx context.Context, caller service.Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}
