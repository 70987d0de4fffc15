// Package apig authenticates requests the way Huawei Cloud's API Gateway
// (APIG) does for the services behind it, so that programs using the
// official Huawei Cloud SDKs (huaweicloud-sdk-go-v3 and its siblings) with
// an AK/SK work against cairn's CBR dialect unchanged.
//
// # What is verified
//
// An SDK signs a request with an AK/SK pair as follows (core/auth/signer
// in the Go SDK); Verify recomputes exactly this from the request as it
// arrives.
//
//	Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2;...>, Signature=<hex>
//	X-Sdk-Date:    20060102T150405Z   (UTC)
//
//	canonical request = METHOD \n URI \n QUERY \n HEADERS \n \n SIGNED \n PAYLOAD
//	string to sign    = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(sha256(canonical request))
//	Signature         = hex(hmac-sha256(SK, string to sign))
//
// where
//
//   - URI is the decoded path cut at "/", each segment percent-encoded
//     (every byte but A–Z a–z 0–9 - _ . ~, upper-case hex), joined by "/",
//     with a "/" appended unless it ends in one. The SDK puts path
//     parameters into the URL unescaped and Go's client escapes them on the
//     wire, so the decoded path is what was signed.
//   - QUERY is every decoded name=value pair, sorted by name and then by
//     value before encoding, each encoded as above, joined by "&"; a bare
//     "name" (the SDK sends an empty value so) is "name=".
//   - HEADERS is, for each name in SignedHeaders in its order, each of the
//     request's values of it, sorted, as "name:value" (value trimmed), one
//     per line. The SDK signs every header it sets except Content-Type
//     (and any name with an "_"): typically user-agent, x-project-id,
//     x-sdk-date, and x-sdk-content-sha256 when set. It does not sign Host;
//     if a client does, r.Host is used.
//   - PAYLOAD is the hex SHA-256 of the body's bytes as received, or the
//     X-Sdk-Content-Sha256 header's value when there is one: the SDK sets
//     it to UNSIGNED-PAYLOAD for a body that is neither JSON nor BSON,
//     which is refused unless Options.AllowUnsignedPayload; a hex value
//     must also be the body's hash.
//
// With Options.Derived set, the SDK's derived algorithm is accepted too:
// "V11-HMAC-SHA256 Credential=<AK>/<yyyymmdd>/<region>/<service>, ...",
// whose string to sign has the scope "<yyyymmdd>/<region>/<service>" as a
// third line and whose key is the hex text of HKDF-SHA256(SK, salt AK,
// info scope). Other algorithms (SDK-HMAC-SM3, ECDSA) are refused.
//
// Beyond the signature, Verify requires X-Sdk-Date to be within 15 minutes
// of the server's time either way, and refuses a signature it accepted
// before while it is valid (a bounded, time-expiring ReplayCache). The
// signature is compared in constant time. Verify returns the Principal:
// the AK, its tenant ("domain"), and the signed X-Project-Id if any. It is
// the caller's work to check that the URL's {project_id} belongs to that
// tenant (Principal.Authorize): as in Huawei Cloud, a project is one tenant
// in one region, and one AK/SK serves all of its tenant's projects.
//
// Middleware puts it together for a route: it reads the body with a size
// cap (ReadBody, which restores it for the handler), verifies, and passes
// the Principal on in the context; a request carrying X-Auth-Token instead
// passes through for the dialect's token check.
//
// # Errors
//
// Every refusal is an *Error wrapping one of the package's sentinel
// errors, answered by WriteError with a body in the shape the SDK parses,
// {"error_code":"APIG.xxxx","error_msg":"...","request_id":"..."}, and an
// X-Request-Id header. The codes and messages are APIG's own, as Huawei
// Cloud documents them:
//
//	status  error_code  sentinel                      error_msg
//	401     APIG.0301   ErrMissingCredentials         Incorrect IAM authentication information: x-auth-token not found
//	401     APIG.0301   ErrAmbiguousCredentials       ...: both an Authorization and an X-Auth-Token header
//	401     APIG.0301   ErrMalformedAuthorization     ...: malformed Authorization header
//	401     APIG.0301   ErrUnsupportedAlgorithm       ...: unsupported signing algorithm
//	401     APIG.0301   ErrDateMissing                ...: x-sdk-date not found
//	401     APIG.0301   ErrDateMalformed              ...: x-sdk-date is not in the format 20060102T150405Z
//	401     APIG.0301   ErrDateExpired, ErrDateFuture ...: x-sdk-date ... is more than 15m0s before/after the server's time ...
//	401     APIG.0301   ErrUnsignedPayload            ...: unsigned payload is not accepted
//	401     APIG.0301   ErrUnknownAccessKey           ...: Get secretKey failed,ak:<AK>,err:ak not exist
//	401     APIG.0301   ErrSignatureMismatch          ...: verify aksk signature fail
//	401     APIG.0301   ErrReplay                     ...: replayed request: this signature was already used
//	403     APIG.0302   ErrProjectForbidden           The IAM user is not authorized to access the API: project <id> is not accessible with these credentials
//	413     APIG.0201   ErrBodyTooLarge               Request entity too large: the limit is <n> bytes
//	400     APIG.0201   (body read failure)           API request error: the request body could not be read
//	429     APIG.0308   ErrReplayCacheFull            The throttling threshold has been reached: ...
//	500     APIG.0601   (lookup or cache failure)     Internal server error
//
// APIG.0302 is the closest code APIG documents for credentials that may
// not reach a project; APIG.0303 ("Incorrect app authentication
// information") is APIG's code for its app authentication, which CBR's API
// does not use, so cairn never answers with it. The cause of a
// signature mismatch (the canonical request the server computed, as APIG
// logs it) is in Error.Err, for the server's log only. Refusals of the
// 401 and 403 kind carry cairn.Permission, so httpapi.Classify maps them
// too.
//
// # Limits
//
// The signature has one-second resolution and no nonce, so two identical
// requests signed in the same second (the same GET twice, say) carry the
// same signature and the second is refused as a replay. The SDK does not
// sign Host, so a signature is not bound to the server it was meant for.
// Because the canonical URI gains a trailing "/", a path with and without
// a trailing slash sign alike. A MemoryReplayCache protects one process;
// servers sharing a catalog need a shared ReplayCache. The SDK signs a
// header value as given but Go's client sends a CR or LF in it as a space,
// so such a header never verifies (nor does it at Huawei's gateway).
// X-Security-Token, which the SDK adds and signs for temporary
// credentials, is covered by the signature but not otherwise checked:
// cairn issues no temporary credentials.
package apig
