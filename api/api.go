// Package api embeds the description of cairn's native JSON API,
// openapi.yaml (OpenAPI 3.0), which the server serves at
// /cairn/v1/openapi.yaml.
package api

import _ "embed"

// OpenAPI is the text of openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
