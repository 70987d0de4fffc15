package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/cairn-vm/cairn/internal/httpapi/metrics"
	"github.com/cairn-vm/cairn/internal/service"
)

// Dialect is one REST API the server speaks: the native API, ARM, CBR,
// ZStack. A dialect only translates HTTP to service calls and back.
type Dialect interface {
	// Name names the dialect in logs and metrics: "native", "arm", ...
	Name() string
	// Register adds the dialect's routes to mux, with method patterns
	// ("GET /subscriptions/{sub}/...") and handlers made by an API from
	// deps.API, so that authentication, errors, logging and metrics work
	// alike in every dialect. Patterns must not overlap another
	// dialect's: ServeMux panics on a conflict, at start-up.
	Register(mux *http.ServeMux, deps Deps)
}

// Deps is what a dialect gets to serve its routes.
type Deps struct {
	// Service is the transport-neutral service every handler calls.
	Service *service.Service
	// Log is the server's logger.
	Log *slog.Logger
	// Metrics are the server's metrics, for a dialect that counts
	// something of its own in Metrics.Registry().
	Metrics *metrics.Metrics

	dialect string
	auth    Authenticator
}

// API returns the handler adapter of the dialect: its handlers
// authenticate with BearerToken (unless an option says otherwise) and
// write errors with errs.
func (d Deps) API(errs ErrorWriter, opts ...APIOption) *API {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{dialect: d.dialect, errs: errs, credential: BearerToken, auth: d.auth, log: log}
	for _, o := range opts {
		o(a)
	}
	return a
}
