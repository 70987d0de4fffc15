package apig_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi/apig"
)

// checkpointBody is a CreateCheckpoint body with characters JSON and
// HTML escaping would treat differently.
var checkpointBody = map[string]any{
	"checkpoint": map[string]any{
		"vault_id": "3b5816b5-f29c-4172-9d9a-76c719a659ce",
		"parameters": map[string]any{
			"auto_trigger": false,
			"description":  "nightly <full> & \"tagged\" — Ünïcode ✓",
			"incremental":  true,
			"name":         "backup_name",
			"resources":    []string{"94eba8b2-acc9-4d82-badc-127144cc5526"},
		},
	},
}

// specialID is a path parameter with every kind of character the SDK's
// escaping, Go's URL escaping and the server's decoding treat apart.
const specialID = "cp 1+2=3&a;b:c@d!$'()*,~._-ü%25?#[]"

// The requests of the acceptance tests, each signed by the official SDK.
var accepted = []struct {
	name string
	req  sdkRequest
}{
	{"GET with query", sdkRequest{method: "GET", path: "/v3/{project_id}/vaults",
		query: map[string]any{"limit": int32(10), "offset": 0, "name": "vault a+b/c ~é", "cloud_type": "public"}}},
	{"GET with repeated and empty query values", sdkRequest{method: "GET", path: "/v3/{project_id}/vaults",
		query: map[string]any{"id": []string{"b", "a c", "a"}, "marker": "", "z": "&=?"}}},
	{"POST with JSON body", sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints", body: checkpointBody}},
	{"GET path with special characters", sdkRequest{method: "GET", path: "/v3/{project_id}/checkpoints/{checkpoint_id}",
		pathParams: map[string]string{"checkpoint_id": specialID}}},
	{"PUT with extra signed headers", sdkRequest{method: "PUT", path: "/v3/{project_id}/vaults/{vault_id}",
		pathParams: map[string]string{"vault_id": "v-1"},
		headers:    map[string]string{"X-Custom": "  padded  value ", "x-lower": "v", "X_Underscore": "not signed"},
		body:       map[string]any{"vault": map[string]any{"name": "renamed"}}}},
	{"DELETE without body", sdkRequest{method: "DELETE", path: "/v3/{project_id}/backups/{backup_id}",
		pathParams: map[string]string{"backup_id": "b-1"}}},
	{"path without project", sdkRequest{method: "GET", path: "/v3/domain/{source_project_id}",
		pathParams: map[string]string{"source_project_id": projectA2}}},
	{"trailing slash", sdkRequest{method: "GET", path: "/v3/{project_id}/vaults/"}},
	{"derived V11-HMAC-SHA256", sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints",
		body: checkpointBody, query: map[string]any{"q": "x y"}, derived: true}},
	{"tenant B", sdkRequest{method: "GET", path: "/v3/{project_id}/vaults", ak: akB, sk: skB, projectID: projectB1}},
}

func TestVerifyAcceptsSDKSignatures(t *testing.T) {
	v := newVerifier(apig.Options{})
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			r, body := signed(t, tc.req)
			p, err := v.Verify(context.Background(), r, body, t0)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			wantAK, wantDomain, wantProject := akA, domainA, projectA1
			if tc.req.ak == akB {
				wantAK, wantDomain, wantProject = akB, domainB, projectB1
			}
			if p.AccessKey != wantAK || p.DomainID != wantDomain || p.ProjectID != wantProject || !p.SignedAt.Equal(t0) {
				t.Errorf("principal = %+v, want AK %s, domain %s, project %s, signed at %s", p, wantAK, wantDomain, wantProject, t0)
			}
			if tc.req.derived && (p.Region != "cairn-east-1" || p.Service != "cbr") {
				t.Errorf("derived principal = %+v, want region cairn-east-1, service cbr", p)
			}
		})
	}
}

// TestSDKRequestShape pins what the SDK sends, which the verifier's
// canonical form depends on.
func TestSDKRequestShape(t *testing.T) {
	r, body := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/checkpoints/{checkpoint_id}",
		pathParams: map[string]string{"checkpoint_id": specialID},
		query:      map[string]any{"a": "x y+z", "e": ""}})
	authz := r.Header.Get("Authorization")
	if !strings.HasPrefix(authz, "SDK-HMAC-SHA256 Access="+akA+", SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=") {
		t.Errorf("Authorization = %q", authz)
	}
	if got, want := r.URL.Path, "/v3/"+projectA1+"/checkpoints/"+specialID; got != want {
		t.Errorf("decoded path = %q, want %q", got, want)
	}
	if got, want := r.URL.RawQuery, "a=x%20y%2Bz&e"; got != want {
		t.Errorf("raw query = %q, want %q", got, want)
	}
	if r.Header.Get(apig.HeaderProjectID) != projectA1 || r.Header.Get(apig.HeaderDate) != "20260314T150926Z" {
		t.Errorf("headers = %v", r.Header)
	}
	if len(body) != 0 {
		t.Errorf("body = %q, want none", body)
	}
	// A JSON body ends in the newline of json.Encoder.
	_, body = signed(t, sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints", body: checkpointBody})
	if !strings.HasSuffix(string(body), "}\n") || !strings.Contains(string(body), "<full> &") {
		t.Errorf("JSON body = %q", body)
	}
}

func TestVerifyRejectsMutations(t *testing.T) {
	base := sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints/{checkpoint_id}",
		pathParams: map[string]string{"checkpoint_id": specialID},
		query:      map[string]any{"limit": 10, "name": "a b"},
		headers:    map[string]string{"X-Custom": "signed"},
		body:       checkpointBody}
	r0, body0 := signed(t, base)
	with := func(f func(*sdkRequest)) func(*testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			sr := base
			f(&sr)
			return signed(t, sr)
		}
	}
	edit := func(f func(r *http.Request, body []byte) []byte) func(*testing.T) (*http.Request, []byte) {
		return func(*testing.T) (*http.Request, []byte) {
			r, body := clone(r0, body0)
			return r, f(r, body)
		}
	}
	const minute = time.Minute
	cases := []struct {
		name string
		make func(*testing.T) (*http.Request, []byte)
		want error // nil: accepted
	}{
		{"unchanged", edit(func(r *http.Request, b []byte) []byte { return b }), nil},
		{"method", edit(func(r *http.Request, b []byte) []byte { r.Method = "PUT"; return b }), apig.ErrSignatureMismatch},
		{"path", edit(func(r *http.Request, b []byte) []byte {
			r.URL.Path = strings.Replace(r.URL.Path, "cp 1", "cp 2", 1)
			return b
		}), apig.ErrSignatureMismatch},
		{"project in path", edit(func(r *http.Request, b []byte) []byte {
			r.URL.Path = strings.Replace(r.URL.Path, projectA1, projectA2, 1)
			return b
		}), apig.ErrSignatureMismatch},
		{"query value", edit(func(r *http.Request, b []byte) []byte {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "limit=10", "limit=11", 1)
			return b
		}), apig.ErrSignatureMismatch},
		{"query parameter added", edit(func(r *http.Request, b []byte) []byte { r.URL.RawQuery += "&offset=5"; return b }),
			apig.ErrSignatureMismatch},
		{"query that does not parse", edit(func(r *http.Request, b []byte) []byte { r.URL.RawQuery += "&bad=%zz"; return b }),
			apig.ErrSignatureMismatch},
		{"signed header X-Project-Id", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set(apig.HeaderProjectID, projectA2)
			return b
		}), apig.ErrSignatureMismatch},
		{"signed header User-Agent", edit(func(r *http.Request, b []byte) []byte { r.Header.Set("User-Agent", "curl/8"); return b }),
			apig.ErrSignatureMismatch},
		{"signed header added a value", edit(func(r *http.Request, b []byte) []byte { r.Header.Add("X-Custom", "more"); return b }),
			apig.ErrSignatureMismatch},
		{"signed header removed", edit(func(r *http.Request, b []byte) []byte { r.Header.Del("X-Custom"); return b }),
			apig.ErrSignatureMismatch},
		{"body byte", edit(func(r *http.Request, b []byte) []byte { b[len(b)/2] ^= 0x01; return b }), apig.ErrSignatureMismatch},
		{"body truncated", edit(func(r *http.Request, b []byte) []byte { return b[:len(b)-1] }), apig.ErrSignatureMismatch},
		{"body hash claimed but body changed", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set(apig.HeaderContentSHA256, strings.Repeat("0", 64))
			return b
		}), apig.ErrSignatureMismatch},
		{"unknown AK", with(func(s *sdkRequest) { s.ak, s.sk = "HPUAUNKNOWN", skA }), apig.ErrUnknownAccessKey},
		{"AK of another tenant, our SK", with(func(s *sdkRequest) { s.ak, s.sk = akB, skA }), apig.ErrSignatureMismatch},
		{"wrong SK", with(func(s *sdkRequest) { s.ak, s.sk = akA, skA+"x" }), apig.ErrSignatureMismatch},
		{"date -16 min", with(func(s *sdkRequest) { s.date = t0.Add(-16 * minute) }), apig.ErrDateExpired},
		{"date +16 min", with(func(s *sdkRequest) { s.date = t0.Add(16 * minute) }), apig.ErrDateFuture},
		{"date -15 min (limit)", with(func(s *sdkRequest) { s.date = t0.Add(-15 * minute) }), nil},
		{"date +15 min (limit)", with(func(s *sdkRequest) { s.date = t0.Add(15 * minute) }), nil},
		{"date -15 min 1 s", with(func(s *sdkRequest) { s.date = t0.Add(-15*minute - time.Second) }), apig.ErrDateExpired},
		{"date changed by 1 s", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set(apig.HeaderDate, t0.Add(time.Second).Format(apig.DateFormat))
			return b
		}), apig.ErrSignatureMismatch},
		{"date missing", edit(func(r *http.Request, b []byte) []byte { r.Header.Del(apig.HeaderDate); return b }), apig.ErrDateMissing},
		{"date with fraction", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set(apig.HeaderDate, "20260314T150926.5Z")
			return b
		}), apig.ErrDateMalformed},
		{"date in RFC 3339", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set(apig.HeaderDate, t0.Format(time.RFC3339))
			return b
		}), apig.ErrDateMalformed},
		{"date twice", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Add(apig.HeaderDate, r.Header.Get(apig.HeaderDate))
			return b
		}), apig.ErrDateMalformed},
		{"no Authorization", edit(func(r *http.Request, b []byte) []byte { r.Header.Del("Authorization"); return b }),
			apig.ErrMissingCredentials},
		{"Authorization twice", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return b
		}), apig.ErrMalformedAuthorization},
		{"algorithm SM3", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1))
			return b
		}), apig.ErrUnsupportedAlgorithm},
		{"signature not hex", edit(func(r *http.Request, b []byte) []byte {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+"g")
			return b
		}), apig.ErrMalformedAuthorization},
		{"signature flipped", edit(func(r *http.Request, b []byte) []byte {
			a := r.Header.Get("Authorization")
			last := byte('0')
			if a[len(a)-1] == '0' {
				last = '1'
			}
			r.Header.Set("Authorization", a[:len(a)-1]+string(last))
			return b
		}), apig.ErrSignatureMismatch},
		{"signed headers list changed", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "x-custom;", "", 1))
			return b
		}), apig.ErrSignatureMismatch},
		{"no SignedHeaders", edit(func(r *http.Request, b []byte) []byte {
			a := r.Header.Get("Authorization")
			i, j := strings.Index(a, " SignedHeaders="), strings.Index(a, " Signature=")
			r.Header.Set("Authorization", a[:i]+a[j:])
			return b
		}), apig.ErrMalformedAuthorization},
		{"unknown parameter", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", r.Header.Get("Authorization")+", Extra=1")
			return b
		}), apig.ErrMalformedAuthorization},
		{"bare algorithm", edit(func(r *http.Request, b []byte) []byte { r.Header.Set("Authorization", "SDK-HMAC-SHA256"); return b }),
			apig.ErrMalformedAuthorization},
		{"X-Project-Id twice", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Add(apig.HeaderProjectID, projectA1)
			return b
		}), apig.ErrSignatureMismatch},
		{"unsigned payload", with(func(s *sdkRequest) {
			s.contentType, s.body = "application/octet-stream", "raw bytes"
		}), apig.ErrUnsignedPayload},
		{"derived algorithm", with(func(s *sdkRequest) { s.derived = true }), nil},
		// What the SDK does not sign may change: Content-Type, Host,
		// unsigned headers and a trailing slash.
		{"Content-Type (not signed)", edit(func(r *http.Request, b []byte) []byte {
			r.Header.Set("Content-Type", "text/plain")
			return b
		}), nil},
		{"Host (not signed)", edit(func(r *http.Request, b []byte) []byte { r.Host = "elsewhere.test"; return b }), nil},
		{"header added (not signed)", edit(func(r *http.Request, b []byte) []byte { r.Header.Set("X-Other", "1"); return b }), nil},
		{"trailing slash (signs alike)", edit(func(r *http.Request, b []byte) []byte { r.URL.Path += "/"; return b }), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(apig.Options{})
			r, body := tc.make(t)
			p, err := v.Verify(context.Background(), r, body, t0)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want accepted", err)
				}
				if p.AccessKey != akA {
					t.Errorf("principal %+v", p)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			e := apig.ErrorOf(err)
			if e.Status != http.StatusUnauthorized || e.Code != apig.CodeIAMAuth ||
				!strings.HasPrefix(e.Message, "Incorrect IAM authentication information: ") {
				t.Errorf("answer = %d %s %q, want 401 APIG.0301", e.Status, e.Code, e.Message)
			}
			if !cairn.IsKind(err, cairn.Permission) {
				t.Errorf("kind = %v, want permission", cairn.KindOf(err))
			}
			if errors.Is(tc.want, apig.ErrDateOutOfRange) && !errors.Is(err, apig.ErrDateOutOfRange) {
				t.Errorf("%v does not wrap ErrDateOutOfRange", err)
			}
			if strings.Contains(e.Message, skA) || strings.Contains(err.Error(), skA) {
				t.Errorf("error shows the secret key: %v", err)
			}
		})
	}
}

func TestVerifyOptions(t *testing.T) {
	ctx := context.Background()
	t.Run("unsigned payload allowed", func(t *testing.T) {
		r, body := signed(t, sdkRequest{method: "PUT", path: "/v3/{project_id}/blob",
			contentType: "application/octet-stream", body: "raw bytes"})
		if got := r.Header.Get(apig.HeaderContentSHA256); got != apig.UnsignedPayload {
			t.Fatalf("X-Sdk-Content-Sha256 = %q", got)
		}
		v := newVerifier(apig.Options{AllowUnsignedPayload: true})
		if _, err := v.Verify(ctx, r, []byte("other bytes"), t0); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		_ = body
	})
	t.Run("derived refused without Options.Derived", func(t *testing.T) {
		r, body := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults", derived: true})
		v := apig.NewVerifier(lookup, apig.Options{})
		if _, err := v.Verify(ctx, r, body, t0); !errors.Is(err, apig.ErrUnsupportedAlgorithm) {
			t.Fatalf("Verify: %v, want ErrUnsupportedAlgorithm", err)
		}
		v = apig.NewVerifier(lookup, apig.Options{Derived: func(region, service string) bool { return region == "other" }})
		if _, err := v.Verify(ctx, r, body, t0); !errors.Is(err, apig.ErrUnsupportedAlgorithm) {
			t.Fatalf("Verify: %v, want ErrUnsupportedAlgorithm", err)
		}
	})
	t.Run("derived scope date not the signing day", func(t *testing.T) {
		r, body := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults", derived: true})
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20260314/", "/20260313/", 1))
		if _, err := newVerifier(apig.Options{}).Verify(ctx, r, body, t0); !errors.Is(err, apig.ErrDateMalformed) {
			t.Fatalf("Verify: %v, want ErrDateMalformed", err)
		}
	})
	t.Run("MaxSkew", func(t *testing.T) {
		r, body := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults", date: t0.Add(-2 * time.Minute)})
		v := newVerifier(apig.Options{MaxSkew: time.Minute})
		if _, err := v.Verify(ctx, r, body, t0); !errors.Is(err, apig.ErrDateExpired) {
			t.Fatalf("Verify: %v, want ErrDateExpired", err)
		}
	})
	t.Run("a mismatch's log leaves credentials out", func(t *testing.T) {
		const token = "temporary-security-token-do-not-log"
		r, body := signed(t, sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints", body: checkpointBody, token: token})
		if !strings.Contains(r.Header.Get("Authorization"), "x-security-token") {
			t.Fatalf("the SDK did not sign X-Security-Token: %s", r.Header.Get("Authorization"))
		}
		body[0] = ' '
		_, err := newVerifier(apig.Options{}).Verify(ctx, r, body, t0)
		if !errors.Is(err, apig.ErrSignatureMismatch) || strings.Contains(err.Error(), token) ||
			!strings.Contains(err.Error(), "x-security-token:<redacted>") {
			t.Fatalf("Verify: %v", err)
		}
	})
	t.Run("lookup failure is the server's", func(t *testing.T) {
		r, body := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults"})
		v := apig.NewVerifier(func(context.Context, string) (apig.Secret, error) {
			return apig.Secret{}, errors.New("catalog down")
		}, apig.Options{})
		_, err := v.Verify(ctx, r, body, t0)
		if e := apig.ErrorOf(err); e.Status != http.StatusInternalServerError || e.Code != apig.CodeInternal ||
			strings.Contains(e.Message, "catalog") {
			t.Fatalf("Verify: %v (%d %s %q), want a 500 that hides the cause", err, e.Status, e.Code, e.Message)
		}
	})
	t.Run("lookup NotExist is an unknown key", func(t *testing.T) {
		r, body := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults"})
		v := apig.NewVerifier(func(context.Context, string) (apig.Secret, error) {
			return apig.Secret{}, cairn.E(cairn.NotExist, errors.New("no such key"))
		}, apig.Options{})
		if _, err := v.Verify(ctx, r, body, t0); !errors.Is(err, apig.ErrUnknownAccessKey) {
			t.Fatalf("Verify: %v, want ErrUnknownAccessKey", err)
		}
	})
}

func TestVerifyReplay(t *testing.T) {
	ctx := context.Background()
	cache := apig.NewMemoryReplayCache(0)
	v := newVerifier(apig.Options{Replay: cache})
	r, body := signed(t, sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints", body: checkpointBody})
	r2, body2 := clone(r, body)
	if _, err := v.Verify(ctx, r, body, t0); err != nil {
		t.Fatalf("first Verify: %v", err)
	}
	_, err := v.Verify(ctx, r2, body2, t0.Add(10*time.Second))
	if !errors.Is(err, apig.ErrReplay) {
		t.Fatalf("second Verify: %v, want ErrReplay", err)
	}
	if e := apig.ErrorOf(err); e.Status != http.StatusUnauthorized || e.Code != apig.CodeIAMAuth {
		t.Errorf("replay answered %d %s", e.Status, e.Code)
	}
	// A failed signature is not remembered: the correct one still passes once.
	r3, body3 := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults"})
	bad, badBody := clone(r3, body3)
	bad.Method = "DELETE"
	if _, err := v.Verify(ctx, bad, badBody, t0); !errors.Is(err, apig.ErrSignatureMismatch) {
		t.Fatalf("tampered: %v", err)
	}
	if _, err := v.Verify(ctx, r3, body3, t0); err != nil {
		t.Fatalf("after a tampered copy: %v", err)
	}
	if cache.Len() != 2 {
		t.Errorf("cache holds %d, want 2", cache.Len())
	}
	// Past the window the request is stale, not a replay, and the cache
	// forgets it.
	late := t0.Add(apig.DefaultMaxSkew + time.Second)
	r4, body4 := clone(r, body)
	if _, err := v.Verify(ctx, r4, body4, late); !errors.Is(err, apig.ErrDateExpired) {
		t.Fatalf("late: %v, want ErrDateExpired", err)
	}
	fresh, freshBody := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults", date: late})
	if _, err := v.Verify(ctx, fresh, freshBody, late); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	if cache.Len() != 1 {
		t.Errorf("cache holds %d after expiry, want 1", cache.Len())
	}
}

func TestReplayCacheFull(t *testing.T) {
	ctx := context.Background()
	v := newVerifier(apig.Options{Replay: apig.NewMemoryReplayCache(2)})
	verify := func(i int, signedAt, now time.Time) error {
		r, body := signed(t, sdkRequest{method: "GET", path: "/v3/{project_id}/vaults",
			query: map[string]any{"offset": i}, date: signedAt})
		_, err := v.Verify(ctx, r, body, now)
		return err
	}
	for i := range 2 {
		if err := verify(i, t0, t0); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	err := verify(2, t0, t0)
	if !errors.Is(err, apig.ErrReplayCacheFull) {
		t.Fatalf("third request: %v, want ErrReplayCacheFull", err)
	}
	if e := apig.ErrorOf(err); e.Status != http.StatusTooManyRequests || e.Code != apig.CodeThrottled {
		t.Errorf("full cache answered %d %s, want 429 APIG.0308", e.Status, e.Code)
	}
	later := t0.Add(apig.DefaultMaxSkew + time.Second)
	if err := verify(3, later, later); err != nil {
		t.Fatalf("after the entries expired: %v", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	const workers, each = 8, 16
	type job struct {
		r    *http.Request
		body []byte
	}
	jobs := make([][]job, workers)
	for w := range workers {
		for i := range each {
			sr := sdkRequest{method: "POST", path: "/v3/{project_id}/checkpoints",
				query: map[string]any{"w": w, "i": i}, body: checkpointBody}
			if i%2 == 1 {
				sr.ak, sr.sk, sr.projectID = akB, skB, projectB1
			}
			r, body := signed(t, sr)
			jobs[w] = append(jobs[w], job{r, body})
		}
	}
	v := newVerifier(apig.Options{})
	run := func(want error) {
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for _, j := range jobs[w] {
					r, body := clone(j.r, j.body)
					_, err := v.Verify(context.Background(), r, body, t0)
					if (want == nil) != (err == nil) || want != nil && !errors.Is(err, want) {
						errs <- fmt.Errorf("worker %d %s: %v, want %v", w, r.URL, err, want)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	run(nil)
	run(apig.ErrReplay)
}

// FuzzSDKPathAndQuery checks that whatever the SDK signs in a path
// parameter, a query name and value and a header value, the verifier
// computes the same canonical request from what arrives.
func FuzzSDKPathAndQuery(f *testing.F) {
	f.Add(specialID, "name", "vault a+b/c ~é")
	f.Add("..", "a b", "")
	f.Add("%zz%", "&=", "=&?#")
	f.Add("\x00\x7f\xff", "ü", "\t x \t")
	f.Add("", "k", "v;w")
	f.Add("0", "!", "0\\\n(")
	f.Fuzz(func(t *testing.T, seg, key, val string) {
		if key == "" {
			t.Skip()
		}
		sr := sdkRequest{method: "GET", path: "/v3/{project_id}/checkpoints/{checkpoint_id}",
			pathParams: map[string]string{"checkpoint_id": seg},
			query:      map[string]any{key: val, "limit": 1}}
		// The SDK signs a header value as given, but Go's client sends a
		// CR or LF in it as a space: such a header never verifies, here
		// or at Huawei's gateway.
		if !strings.ContainsAny(val, "\r\n") {
			sr.headers = map[string]string{"X-Fuzz": val}
		}
		r, body, err := sdkSign(sr)
		if err != nil {
			t.Skip(err) // the SDK or Go's client refuses it; nothing was sent
		}
		if _, err := newVerifier(apig.Options{}).Verify(context.Background(), r, body, t0); err != nil {
			t.Fatalf("Verify: %v\nrequest URI %q", err, r.RequestURI)
		}
	})
}
