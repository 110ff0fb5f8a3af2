package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Target is the server under test and the HTTP client that reaches it.
type Target struct {
	URL    string // https://host:port, without a trailing slash
	client *http.Client
}

// NewTarget returns a target whose client keeps one connection alive per
// concurrent worker. roots are the certificates to trust (nil: the
// system's). HTTP/1.1 is used unless http2 is set: it is what most API
// clients speak, and it gives each worker its own connection.
func NewTarget(url string, roots *x509.CertPool, workers int, http2 bool) *Target {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   http2,
		MaxIdleConns:        workers * 2,
		MaxIdleConnsPerHost: workers * 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &Target{URL: strings.TrimRight(url, "/"), client: &http.Client{
		Transport: tr,
		Timeout:   30 * time.Second,
		// The login scenario checks the redirect itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Close drops the idle connections.
func (t *Target) Close() { t.client.CloseIdleConnections() }

// response is what a check looks at.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request with a bearer token (if any) and reads the whole
// body into buf, which it reuses, so that the connection is kept alive.
func (t *Target) do(ctx context.Context, method, path, token, contentType string, body []byte, buf *bytes.Buffer) (response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "custos-bench")
	res, err := t.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return response{}, fmt.Errorf("reading the body: %w", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: buf.Bytes()}, nil
}
