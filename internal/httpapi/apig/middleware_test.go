package apig_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/httpapi/apig"
)

func TestReadBody(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("0123456789"))
	body, err := apig.ReadBody(r, 10)
	if err != nil || string(body) != "0123456789" {
		t.Fatalf("ReadBody = %q, %v", body, err)
	}
	for range 2 { // restored, and again through GetBody
		again, _ := io.ReadAll(r.Body)
		if string(again) != "0123456789" {
			t.Fatalf("restored body = %q", again)
		}
		r.Body, _ = r.GetBody()
	}

	r = httptest.NewRequest("POST", "/", strings.NewReader("0123456789x"))
	r.ContentLength = -1 // unknown: the limit is found by reading
	_, err = apig.ReadBody(r, 10)
	if !errors.Is(err, apig.ErrBodyTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if e := apig.ErrorOf(err); e.Status != http.StatusRequestEntityTooLarge || e.Code != apig.CodeRequestError {
		t.Errorf("answered %d %s, want 413 APIG.0201", e.Status, e.Code)
	}

	src := &countingReader{r: strings.NewReader(strings.Repeat("x", 100))}
	r = httptest.NewRequest("POST", "/", src)
	r.ContentLength = 100
	if _, err := apig.ReadBody(r, 10); !errors.Is(err, apig.ErrBodyTooLarge) || src.n != 0 {
		t.Fatalf("Content-Length over the limit: %v, %d bytes read", err, src.n)
	}

	r = httptest.NewRequest("GET", "/", nil)
	if body, err := apig.ReadBody(r, 0); err != nil || len(body) != 0 {
		t.Fatalf("no body: %q, %v", body, err)
	}

	// The server's own cap (http.MaxBytesReader) is answered alike.
	r = httptest.NewRequest("POST", "/", strings.NewReader("0123456789"))
	r.ContentLength = -1
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 4)
	if _, err := apig.ReadBody(r, 100); apig.ErrorOf(err).Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("MaxBytesReader: %v", err)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestMiddleware(t *testing.T) {
	var got struct {
		called    bool
		principal *apig.Principal
		body      string
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.called = true
		got.principal, _ = apig.PrincipalFrom(r.Context())
		b, _ := io.ReadAll(r.Body)
		got.body = string(b)
		w.WriteHeader(http.StatusNoContent)
	})
	h := newVerifier(apig.Options{}).Middleware(clock.NewFake(t0), 1<<20, next)
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		got.called, got.principal, got.body = false, nil, ""
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	r, _ := signed(t, sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints", body: checkpointBody})
	if w := serve(r); w.Code != http.StatusNoContent || !got.called || got.principal == nil ||
		got.principal.ProjectID != projectA1 || !strings.Contains(got.body, `"vault_id"`) {
		t.Fatalf("signed: %d, next called %v with %+v and body %q", w.Code, got.called, got.principal, got.body)
	}

	tok := httptest.NewRequest("GET", "/v3/"+projectA1+"/vaults", nil)
	tok.Header.Set(apig.HeaderAuthToken, "cairn-token")
	if w := serve(tok); w.Code != http.StatusNoContent || !got.called || got.principal != nil {
		t.Fatalf("token: %d, next called %v with %+v", w.Code, got.called, got.principal)
	}

	refused := []struct {
		name string
		req  func() *http.Request
		want error
		msg  string
	}{
		{"no credentials", func() *http.Request { return httptest.NewRequest("GET", "/v3/p/vaults", nil) },
			apig.ErrMissingCredentials, "Incorrect IAM authentication information: x-auth-token not found"},
		{"both", func() *http.Request {
			r, _ := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults", query: map[string]any{"b": 1}})
			r.Header.Set(apig.HeaderAuthToken, "cairn-token")
			return r
		}, apig.ErrAmbiguousCredentials, "Incorrect IAM authentication information: both"},
		{"bad signature", func() *http.Request {
			r, _ := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults", sk: "wrong", ak: akA})
			return r
		}, apig.ErrSignatureMismatch, "Incorrect IAM authentication information: verify aksk signature fail"},
		{"body too large", func() *http.Request {
			r, _ := signed(t, sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints",
				body: map[string]string{"x": strings.Repeat("x", 2<<20)}})
			return r
		}, apig.ErrBodyTooLarge, "Request entity too large"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(tc.req())
			if got.called {
				t.Fatal("next was called")
			}
			var eb apig.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			want := apig.ErrorOf(errorFor(tc.want))
			if w.Code != want.Status || eb.ErrorCode != want.Code || !strings.HasPrefix(eb.ErrorMsg, tc.msg) {
				t.Errorf("answer = %d %+v, want %d %s %q…", w.Code, eb, want.Status, want.Code, tc.msg)
			}
			if id := w.Header().Get(apig.HeaderRequestID); len(id) != 32 || eb.RequestID != id {
				t.Errorf("request id: header %q, body %q", id, eb.RequestID)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

// errorFor gives a sentinel the status and code Verify gives it.
func errorFor(sentinel error) error {
	if errors.Is(sentinel, apig.ErrBodyTooLarge) {
		return &apig.Error{Status: http.StatusRequestEntityTooLarge, Code: apig.CodeRequestError, Err: sentinel}
	}
	return &apig.Error{Status: http.StatusUnauthorized, Code: apig.CodeIAMAuth, Err: sentinel}
}

func TestAuthorize(t *testing.T) {
	ctx := context.Background()
	pA := &apig.Principal{AccessKey: akA, DomainID: domainA}
	pA1 := &apig.Principal{AccessKey: akA, DomainID: domainA, ProjectID: projectA1}
	cases := []struct {
		name    string
		p       *apig.Principal
		project string
		status  int // 0: allowed
	}{
		{"own project", pA1, projectA1, 0},
		{"own tenant's other region, no X-Project-Id", pA, projectA2, 0},
		{"own tenant's other region, X-Project-Id says otherwise", pA1, projectA2, http.StatusForbidden},
		{"another tenant's project", pA, projectB1, http.StatusForbidden},
		{"no such project", pA, "nope", http.StatusForbidden},
		{"no project", pA, "", http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Authorize(ctx, tc.project, domainOf)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("Authorize: %v", err)
				}
				return
			}
			e := apig.ErrorOf(err)
			if !errors.Is(err, apig.ErrProjectForbidden) || e.Status != tc.status || e.Code != apig.CodeIAMForbidden ||
				!cairn.IsKind(err, cairn.Permission) {
				t.Fatalf("Authorize: %v (%d %s), want 403 APIG.0302", err, e.Status, e.Code)
			}
		})
	}
	err := pA.Authorize(ctx, projectA1, func(context.Context, string) (string, error) { return "", errors.New("catalog down") })
	if e := apig.ErrorOf(err); e.Status != http.StatusInternalServerError || strings.Contains(e.Message, "catalog") {
		t.Fatalf("domainOf failure: %v", err)
	}
}

func TestWriteErrorKeepsRequestID(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set(apig.HeaderRequestID, "0123456789abcdef0123456789abcdef")
	apig.WriteError(w, errors.New("boom"))
	var eb apig.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
		t.Fatal(err)
	}
	want := apig.ErrorBody{ErrorCode: apig.CodeInternal, ErrorMsg: "Internal server error", RequestID: "0123456789abcdef0123456789abcdef"}
	if w.Code != http.StatusInternalServerError || eb != want {
		t.Errorf("answer = %d %+v, want 500 %+v", w.Code, eb, want)
	}
}
