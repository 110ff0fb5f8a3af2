// Package httpx holds what the JSON API (package api), the UI (package ui)
// and the server (package web) share at the HTTP edge: the two service
// interfaces they call, request context (request id, principal, session),
// authentication of a request, the session cookie, strict JSON decoding
// and encoding, query-string and path parsing, and the one mapping from an
// error code to an HTTP status with the API's JSON error body.
//
// It must not register routes, render HTML, or hold a rule of access:
// authorisation is the services' (internal/policy), never the edge's.
package httpx
