package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/tlsconf"
	"github.com/custos-crm/custos/internal/tlsconf/tlstest"
)

// testEnv is the environment of a test run: fast but valid hashing.
func testEnv(dataDir string) func(string) string {
	vals := map[string]string{
		"CUSTOS_DATA":           dataDir,
		"CUSTOS_KEY_FILE":       dataDir + ".kek",
		"CUSTOS_ARGON2_MEMORY":  "19456",
		"CUSTOS_ARGON2_TIME":    "1",
		"CUSTOS_ARGON2_THREADS": "1",
		"CUSTOS_LOG_LEVEL":      "warn",
	}
	return func(k string) string { return vals[k] }
}

// runCLI runs one command to completion and returns its stdout.
func runCLI(t *testing.T, dataDir, stdin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, testEnv(dataDir), strings.NewReader(stdin), &out, &errb); err != nil {
		t.Fatalf("custos %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// server is a running `custos serve`.
type server struct {
	url    string
	out    *testkit.Buffer
	log    *testkit.Buffer // stderr: the structured log
	client *http.Client
	data   string
	stop   func() // stops the server and waits for it
}

// startServer runs `custos serve` on a random port and returns a client
// that trusts exactly the server's self-signed certificate.
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	out, logs := &testkit.Buffer{}, &testkit.Buffer{}
	done := make(chan error, 1)
	go func() {
		args := append([]string{"serve", "--listen", "127.0.0.1:0"}, extra...)
		err := run(ctx, args, testEnv(dataDir), strings.NewReader(""), io.MultiWriter(pw, out), logs)
		pw.Close()
		done <- err
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
	})
	t.Cleanup(stop)
	re := regexp.MustCompile(`listening on (\S+)`)
	sc := bufio.NewScanner(pr)
	var base string
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatalf("server did not start; output:\n%s", out.String())
	}
	s := &server{url: base, out: out, log: logs, data: dataDir, stop: stop}
	if strings.HasPrefix(base, "https://") {
		certFile, _ := tlsconf.Files(dataDir)
		if i := slices.Index(extra, "--tls-cert"); i >= 0 {
			certFile = extra[i+1] // the operator's own
		}
		pemBytes, err := os.ReadFile(certFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pemBytes)
		s.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	} else {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	return s
}

// api sends a JSON request with a bearer token and decodes the response.
func (s *server) api(t *testing.T, token, method, path string, body any, out any) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, raw, err)
		}
	}
	return res
}

func wantStatus(t *testing.T, res *http.Response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", res.Request.Method, res.Request.URL.Path, res.StatusCode, want)
	}
}

// TestServeContactLifecycleOverTLS starts the real server over TLS and
// drives a contact through create, read, list, search, update and delete
// with an API token (CORE-2, ENC-1, AUTH-7).
func TestServeContactLifecycleOverTLS(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	token := strings.TrimSpace(runCLI(t, dir, "", "token", "create", "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"))
	if !strings.HasPrefix(token, "cst_") {
		t.Fatalf("token create printed %q", token)
	}
	s := startServer(t, dir)
	if !strings.Contains(s.out.String(), "SHA-256 fingerprint") {
		t.Errorf("no certificate fingerprint printed:\n%s", s.out.String())
	}

	type contact struct {
		ID        int64    `json:"id"`
		FirstName string   `json:"first_name"`
		LastName  string   `json:"last_name"`
		Email     string   `json:"email"`
		Phone     string   `json:"phone"`
		Title     string   `json:"title"`
		Tags      []string `json:"tags"`
		Version   int64    `json:"version"`
	}
	var c contact
	res := s.api(t, token, "POST", "/api/v1/contacts", map[string]any{
		"first_name": "Мария", "last_name": "Соколова", "email": "Maria@Example.com", "phone": "+7 916 555-12-34", "tags": []string{"vip"},
	}, &c)
	wantStatus(t, res, http.StatusCreated)
	if c.ID == 0 || c.Email != "maria@example.com" || c.Phone != "+79165551234" || res.Header.Get("ETag") != `"v1"` {
		t.Fatalf("created %+v etag %q", c, res.Header.Get("ETag"))
	}
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("HSTS header %q", hsts)
	}
	path := fmt.Sprintf("/api/v1/contacts/%d", c.ID)

	var got contact
	wantStatus(t, s.api(t, token, "GET", path, nil, &got), http.StatusOK)
	if got.LastName != "Соколова" {
		t.Errorf("read back %+v", got)
	}
	var page struct {
		Items      []contact `json:"items"`
		NextCursor string    `json:"next_cursor"`
	}
	for _, q := range []string{"?q=%D1%81%D0%BE%D0%BA", "?email=maria%40example.com", "?tag=vip", "?phone=%2B79165551234", "?sort=-created_at&limit=10"} {
		page.Items = nil
		wantStatus(t, s.api(t, token, "GET", "/api/v1/contacts"+q, nil, &page), http.StatusOK)
		if len(page.Items) != 1 || page.Items[0].ID != c.ID {
			t.Errorf("list %s: got %+v", q, page.Items)
		}
	}

	// Update with the right precondition, then a stale one.
	req, _ := http.NewRequest("PATCH", s.url+path, strings.NewReader(`{"title":"CFO"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("If-Match", `"v1"`)
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	wantStatus(t, res, http.StatusOK)
	req, _ = http.NewRequest("PATCH", s.url+path, strings.NewReader(`{"title":"CEO"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("If-Match", `"v1"`)
	res, _ = s.client.Do(req)
	res.Body.Close()
	wantStatus(t, res, http.StatusPreconditionFailed)
	wantStatus(t, s.api(t, token, "GET", path, nil, &got), http.StatusOK)
	if got.Title != "CFO" || got.Version != 2 {
		t.Errorf("after updates: %+v", got)
	}

	wantStatus(t, s.api(t, token, "DELETE", path, nil, nil), http.StatusNoContent)
	wantStatus(t, s.api(t, token, "GET", path, nil, nil), http.StatusNotFound)
	wantStatus(t, s.api(t, token, "POST", path+"/restore", nil, nil), http.StatusOK)
	wantStatus(t, s.api(t, token, "GET", path, nil, nil), http.StatusOK)

	// Without a token, or with a wrong one: 401.
	wantStatus(t, s.api(t, "", "GET", path, nil, nil), http.StatusUnauthorized)
	wantStatus(t, s.api(t, token+"x", "GET", path, nil, nil), http.StatusUnauthorized)
}

// TestServeTLSPolicy checks ENC-1: no TLS below 1.2, no CBC suites, and the
// certificate is ECDSA for localhost with a 128-bit random serial.
func TestServeTLSPolicy(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	host := strings.TrimPrefix(s.url, "https://localhost")
	addr := "127.0.0.1" + host
	for name, cfg := range map[string]*tls.Config{
		"TLS 1.1": {InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11},
		"CBC":     {InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}},
	} {
		if conn, err := tls.Dial("tcp", addr, cfg); err == nil {
			conn.Close()
			t.Errorf("%s handshake succeeded", name)
		}
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	st := conn.ConnectionState()
	conn.Close()
	if st.Version != tls.VersionTLS13 {
		t.Errorf("negotiated version %x, want TLS 1.3", st.Version)
	}
	cert := st.PeerCertificates[0]
	if cert.PublicKeyAlgorithm != x509.ECDSA || cert.VerifyHostname("localhost") != nil || cert.SerialNumber.BitLen() != 128 {
		t.Errorf("certificate: alg %v serial bits %d", cert.PublicKeyAlgorithm, cert.SerialNumber.BitLen())
	}
	if !strings.Contains(s.out.String(), tlsconf.Fingerprint(cert.Raw)) {
		t.Error("printed fingerprint does not match the served certificate")
	}
	if info, err := os.Stat(filepath.Join(dir, "tls", "key.pem")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", info.Mode(), err)
	}
}

// TestServeTLSOperatorRSA: with an operator's own RSA certificate
// (--tls-cert, --tls-key) the server still offers no CBC suite and no RSA
// key exchange (only ECDHE with AEAD), serves that certificate, and sends
// HSTS for the documented two years (ENC-1, ASVS v5.0.0-12.1.2, 3.4.1;
// issue 18 item 7).
func TestServeTLSOperatorRSA(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := tlstest.WriteRSA(t, t.TempDir(), "operator")
	s := startServer(t, dir, "--tls-cert", certFile, "--tls-key", keyFile)
	addr := "127.0.0.1" + strings.TrimPrefix(s.url, "https://localhost")
	refused := map[string][]uint16{
		"RSA key exchange": {tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA},
		"CBC": {tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
		"3DES and RC4": {tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA},
	}
	for name, suites := range refused {
		for _, id := range suites {
			conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{id}})
			if err == nil {
				conn.Close()
				t.Errorf("%s: a TLS 1.2 handshake with %s succeeded", name, tls.CipherSuiteName(id))
			}
		}
	}
	// What is offered with an RSA certificate under TLS 1.2: ECDHE_RSA with
	// AEAD, each of them.
	for _, id := range []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{id}})
		if err != nil {
			t.Errorf("TLS 1.2 with %s: %v", tls.CipherSuiteName(id), err)
			continue
		}
		st := conn.ConnectionState()
		conn.Close()
		if st.CipherSuite != id || st.PeerCertificates[0].PublicKeyAlgorithm != x509.RSA {
			t.Errorf("negotiated %s with a %v certificate", tls.CipherSuiteName(st.CipherSuite), st.PeerCertificates[0].PublicKeyAlgorithm)
		}
	}
	pemBytes, _ := os.ReadFile(certFile)
	block, _ := pem.Decode(pemBytes)
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	st := conn.ConnectionState()
	conn.Close()
	if st.Version != tls.VersionTLS13 || !bytes.Equal(st.PeerCertificates[0].Raw, block.Bytes) {
		t.Errorf("version %x; served the operator's certificate: %v", st.Version, bytes.Equal(st.PeerCertificates[0].Raw, block.Bytes))
	}
	if _, err := os.Stat(filepath.Join(dir, "tls", "cert.pem")); err == nil {
		t.Error("a self-signed certificate was made although the operator gave one")
	}
	res, err := s.client.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
		t.Errorf("HSTS %q, want two years (63072000 s) with includeSubDomains", got)
	}
}

// TestServeBrowserFlow logs in through the login form with a cookie jar,
// as a browser does, and works with the contact pages over HTTPS
// (CORE-6, AUTH-5, SHD-5).
func TestServeBrowserFlow(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	// First start: a setup code and no default password.
	m := regexp.MustCompile(`setup code ([A-Z2-7-]{29})`).FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no setup code printed:\n%s", s.out.String())
	}
	jar, _ := cookiejar.New(nil)
	s.client.Jar = jar
	s.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	form := func(path string, v url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", s.url+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.url)
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := s.client.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	pw := "first admin passphrase ok"
	res := form("/setup", url.Values{"code": {m[1]}, "email": {"boss@example.com"}, "name": {"Boss"}, "password": {pw}, "password_confirm": {pw}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/enrol/") {
		t.Fatalf("setup: status %d, Location %q (want the admin's enrolment link)", res.StatusCode, res.Header.Get("Location"))
	}
	enrolLink := res.Header.Get("Location")
	res, _ = get("/contacts")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("contacts without a session: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res = form("/login", url.Values{"email": {"boss@example.com"}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: status %d", res.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "__Host-custos_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.Path != "/" || cookie.Domain != "" {
		t.Fatalf("session cookie: %+v", cookie)
	}
	// An administrator must use a second factor (AUTH-4): the password
	// leads to TOTP enrolment, and only the code opens the CRM.
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/mfa") {
		t.Fatalf("after the password: Location %q, want the MFA step", loc)
	}
	if res, _ := get("/contacts/new"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/mfa/enrol") {
		t.Fatalf("a half-signed-in admin reached a page: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// The password alone enrols no factor (issue 9 item 4); the setup's
	// enrolment link, with the password, does.
	if res, _ := get("/mfa/enrol"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the enrolment page with the password alone: %d", res.StatusCode)
	}
	res = form(enrolLink, url.Values{"password": {pw}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/mfa/enrol" {
		t.Fatalf("sign-in through the enrolment link: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body := get("/mfa/enrol")
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrf := csrfRE.FindStringSubmatch(body)
	if csrf == nil {
		t.Fatal("no CSRF token on the enrolment page")
	}
	form("/mfa/enrol", url.Values{"csrf": {csrf[1]}, "action": {"begin"}})
	_, body = get("/mfa/enrol")
	key := regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`).FindStringSubmatch(body)
	if key == nil {
		t.Fatal("no TOTP key on the enrolment page")
	}
	if res, _ := get("/mfa/enrol/qr.png"); res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR code: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	code, err := auth.TOTPCode(strings.ReplaceAll(key[1], " ", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res := form("/mfa/enrol", url.Values{"csrf": {csrf[1]}, "action": {"confirm"}, "code": {code}}); res.StatusCode != http.StatusOK {
		t.Fatalf("confirm TOTP: %d", res.StatusCode)
	}
	res, body = get("/contacts/new")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("new contact page: %d", res.StatusCode)
	}
	csrf = csrfRE.FindStringSubmatch(body) // the session was replaced: a new token
	if csrf == nil {
		t.Fatal("no CSRF token in the form")
	}
	res = form("/contacts", url.Values{"csrf": {csrf[1]}, "first_name": {"Олег"}, "last_name": {"<script>alert(1)</script>"}, "email": {"oleg@example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create contact: %d", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	res, body = get(loc)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Олег") || strings.Contains(body, "<script>alert(1)</script>") {
		t.Fatalf("detail page %s: %d; escaped? %v", loc, res.StatusCode, !strings.Contains(body, "<script>alert(1)</script>"))
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	_, body = get("/contacts?q=%D0%BE%D0%BB%D0%B5%D0%B3")
	if !strings.Contains(body, "Олег") {
		t.Error("search did not find the contact")
	}
	// A form posted without the CSRF token is refused.
	if res := form("/contacts", url.Values{"last_name": {"Forged"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("form without CSRF token: %d", res.StatusCode)
	}
	// Logout ends the session on the server: the old cookie is dead.
	if res := form("/logout", url.Values{"csrf": {csrf[1]}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", s.url+"/api/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	plain := &http.Client{Transport: s.client.Transport}
	if res, err := plain.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("old session after logout: %v %v", res.StatusCode, err)
	}
}

// session sends a request without a body in the session of cookie and
// decodes the JSON response into out.
func (s *server) session(t *testing.T, cookie *http.Cookie, method, path string, out any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, nil)
	req.AddCookie(cookie)
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, raw, err)
		}
	}
	return res
}

// enrolLogin signs a user whose role requires a second factor in through
// their one-time enrolment link and the password, enrols TOTP through the
// pages, and returns the full session's cookie (a fresh sign-in is a
// step-up).
func (s *server) enrolLogin(t *testing.T, link, password string) *http.Cookie {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := *s.client
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	do := func(method, path string, form url.Values) string {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, s.url+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 400 {
			t.Fatalf("%s %s: %d", method, path, res.StatusCode)
		}
		return string(b)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	do("POST", u.Path, url.Values{"password": {password}})
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrf := csrfRE.FindStringSubmatch(do("GET", "/mfa/enrol", nil))
	if csrf == nil {
		t.Fatal("no CSRF token on the enrolment page")
	}
	do("POST", "/mfa/enrol", url.Values{"csrf": {csrf[1]}, "action": {"begin"}})
	key := regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`).FindStringSubmatch(do("GET", "/mfa/enrol", nil))
	if key == nil {
		t.Fatal("no TOTP key on the enrolment page")
	}
	code, err := auth.TOTPCode(strings.ReplaceAll(key[1], " ", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	do("POST", "/mfa/enrol", url.Values{"csrf": {csrf[1]}, "action": {"confirm"}, "code": {code}})
	base, _ := url.Parse(s.url)
	for _, ck := range jar.Cookies(base) {
		if ck.Name == "__Host-custos_session" {
			return ck
		}
	}
	t.Fatal("no session after the enrolment")
	return nil
}
