package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/tlsconf"
)

// The browser tests drive Debian's Chromium through the DevTools protocol
// with a virtual authenticator (AUTH-3), over real TLS: the page is opened
// as https://localhost:PORT and the browser trusts exactly the server
// certificate's key (as our notes on browser tests describe). Every wait is
// bounded by a context timeout: without an authenticator a WebAuthn call
// hangs far past its JavaScript timeout.

const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds one browser test as a whole.
const browserTimeout = 90 * time.Second

// browser is one headless Chromium with one tab.
type browser struct {
	ctx  context.Context
	errs *testkit.Buffer // console errors, exceptions, CSP reports
}

// newBrowser starts Chromium trusting only the key of cert. It skips the test
// when Chromium is not installed.
func newBrowser(t *testing.T, cert *x509.Certificate) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: %s not found (apt-get install -y chromium)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	home := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("ignore-certificate-errors-spki-list", spkiPin(cert)),
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		// Chromium writes under ~/.config, ~/.cache and $TMPDIR: keep it all
		// in the test's directory.
		chromedp.Env("HOME="+home, "TMPDIR="+home),
	}
	deadline, cancelAll := context.WithTimeout(context.Background(), browserTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelAll() })
	b := &browser{ctx: ctx, errs: &testkit.Buffer{}}
	// Start the browser and subscribe to errors before the first navigation.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`1`)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Console messages, network errors and CSP violations.
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the Log domain: %v", err)
	}
	go func() {
		for ev, err := range chromedp.Events(ctx, cdplog.EntryAdded) {
			if err != nil {
				return
			}
			if e := ev.Entry; e.Level == cdplog.EntryLevelError || e.Level == cdplog.EntryLevelWarning {
				fmt.Fprintf(b.errs, "log %s %s: %s\n", e.Source, e.Level, e.Text)
			}
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ExceptionThrown) {
			if err != nil {
				return
			}
			fmt.Fprintf(b.errs, "exception: %s\n", exceptionText(ev.ExceptionDetails))
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ConsoleAPICalled) {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				fmt.Fprintf(b.errs, "console %s: %s\n", ev.Type, strings.Join(parts, " "))
			}
		}
	}()
	return b
}

// addAuthenticator adds a CTAP 2.1 platform authenticator with resident keys
// and user verification to the tab, as the notes prescribe.
func (b *browser) addAuthenticator(t *testing.T) cdpwebauthn.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
		t.Fatalf("enable WebAuthn domain: %v", err)
	}
	res, err := chromedp.Call(b.ctx, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
		Options: &cdpwebauthn.VirtualAuthenticatorOptions{
			Protocol:                    cdpwebauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                cdpwebauthn.Ctap2versionCtap21,
			Transport:                   cdpwebauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true, // the zero value hangs create()/get()
		},
	})
	if err != nil {
		t.Fatalf("add virtual authenticator: %v", err)
	}
	return res.AuthenticatorID
}

// credentials returns what the virtual authenticator holds.
func (b *browser) credentials(t *testing.T, id cdpwebauthn.AuthenticatorID) []*cdpwebauthn.Credential {
	t.Helper()
	res, err := chromedp.Call(b.ctx, cdpwebauthn.GetCredentials, cdpwebauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatalf("get credentials: %v", err)
	}
	return res.Credentials
}

// setSignCount replaces a credential of the authenticator by a copy with
// another signature counter: a cloned key that lags behind.
func (b *browser) setSignCount(t *testing.T, id cdpwebauthn.AuthenticatorID, c *cdpwebauthn.Credential, n float64) {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, cdpwebauthn.RemoveCredential, cdpwebauthn.RemoveCredentialParams{AuthenticatorID: id, CredentialID: c.CredentialID}); err != nil {
		t.Fatalf("remove credential: %v", err)
	}
	b.addCredential(t, id, c, n)
}

// addCredential puts a copy of c, with counter n, into the authenticator.
func (b *browser) addCredential(t *testing.T, id cdpwebauthn.AuthenticatorID, c *cdpwebauthn.Credential, n float64) {
	t.Helper()
	// cdproto's Credential always sends generateCmtgKeyOnNextOperation,
	// which Chromium refuses for an authenticator without that extension.
	type credential struct {
		CredentialID         []byte  `json:"credentialId"`
		IsResidentCredential bool    `json:"isResidentCredential"`
		RpID                 string  `json:"rpId"`
		PrivateKey           []byte  `json:"privateKey"`
		UserHandle           []byte  `json:"userHandle,omitempty"`
		SignCount            float64 `json:"signCount"`
	}
	type params struct {
		AuthenticatorID cdpwebauthn.AuthenticatorID `json:"authenticatorId"`
		Credential      credential                  `json:"credential"`
	}
	add := cdp.Command[params, cdp.Empty]{Method: cdpwebauthn.CommandAddCredential}
	p := params{AuthenticatorID: id, Credential: credential{c.CredentialID, c.IsResidentCredential, c.RpID, c.PrivateKey, c.UserHandle, n}}
	if _, err := chromedp.Call(b.ctx, add, p); err != nil {
		t.Fatalf("add credential: %v", err)
	}
}

// do runs actions with their own timeout inside the test's.
func (b *browser) do(t *testing.T, what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\nbrowser errors:\n%s", what, err, b.errs.String())
	}
}

// eval evaluates a script that may return a promise, bounded by timeout.
func eval[T any](t *testing.T, b *browser, timeout time.Duration, script string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("eval %.60q: %v\nbrowser errors:\n%s", script, err, b.errs.String())
	}
	return v
}

// spkiPin is the value of --ignore-certificate-errors-spki-list for cert.
func spkiPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// localhostURL turns https://127.0.0.1:PORT into https://localhost:PORT: an
// IP address cannot be a WebAuthn RP ID.
func localhostURL(t *testing.T, u string) string {
	t.Helper()
	i := strings.Index(u, "://")
	host, port, err := net.SplitHostPort(strings.TrimSuffix(u[i+3:], "/"))
	if err != nil || (host != "127.0.0.1" && host != "localhost") {
		t.Fatalf("not a loopback URL: %q", u)
	}
	return u[:i+3] + "localhost:" + port
}

// selfSignedLocalhost returns a TLS certificate for localhost.
func selfSignedLocalhost(t *testing.T) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, cert
}

// testPasskeyJS registers and signs in from a page, as the UI's script does:
// options and responses cross the wire as JSON with base64url for bytes.
const testPasskeyJS = `
window.b64u = {
  dec: s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - s.length % 4) % 4)), c => c.charCodeAt(0)).buffer,
  enc: b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
};
window.post = async (url, body) => {
  const r = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  return {status: r.status, body: await r.text()};
};
window.register = async () => {
  const o = JSON.parse((await post('/reg/begin', {})).body).publicKey;
  o.challenge = b64u.dec(o.challenge);
  o.user.id = b64u.dec(o.user.id);
  (o.excludeCredentials || []).forEach(c => c.id = b64u.dec(c.id));
  const c = await navigator.credentials.create({publicKey: o});
  return post('/reg/finish', {id: c.id, rawId: b64u.enc(c.rawId), type: c.type,
    response: {clientDataJSON: b64u.enc(c.response.clientDataJSON), attestationObject: b64u.enc(c.response.attestationObject),
      transports: c.response.getTransports ? c.response.getTransports() : []},
    clientExtensionResults: c.getClientExtensionResults()});
};
window.login = async () => {
  const o = JSON.parse((await post('/login/begin', {})).body).publicKey;
  o.challenge = b64u.dec(o.challenge);
  (o.allowCredentials || []).forEach(c => c.id = b64u.dec(c.id));
  const a = await navigator.credentials.get({publicKey: o});
  window.lastAssertion = {id: a.id, rawId: b64u.enc(a.rawId), type: a.type,
    response: {clientDataJSON: b64u.enc(a.response.clientDataJSON), authenticatorData: b64u.enc(a.response.authenticatorData),
      signature: b64u.enc(a.response.signature), userHandle: a.response.userHandle ? b64u.enc(a.response.userHandle) : null},
    clientExtensionResults: a.getClientExtensionResults()};
  return post('/login/finish', lastAssertion);
};
true`

// TestBrowserRelyingParty checks the WebAuthn wrapper and the browser
// harness alone: a tiny TLS server that keeps the ceremony state in memory,
// as the real one keeps it in the database.
func TestBrowserRelyingParty(t *testing.T) {
	tlsCert, cert := selfSignedLocalhost(t)
	rp, err := auth.NewRelyingParty("localhost", "Custos test")
	if err != nil {
		t.Fatal(err)
	}
	handle, err := auth.NewPasskeyUserHandle()
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		user     = &auth.PasskeyUser{Handle: handle, Name: "alice@example.com", DisplayName: "Alice"}
		ceremony []byte // single use: taken by the finish step
	)
	take := func() []byte {
		mu.Lock()
		defer mu.Unlock()
		c := ceremony
		ceremony = nil
		return c
	}
	put := func(c []byte) { mu.Lock(); ceremony = c; mu.Unlock() }
	fail := func(w http.ResponseWriter, err error) {
		t.Logf("refused: %v", err)
		http.Error(w, "refused", http.StatusBadRequest)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		io.WriteString(w, "<!doctype html><title>t</title><p>passkeys</p>")
	})
	mux.HandleFunc("POST /reg/begin", func(w http.ResponseWriter, r *http.Request) {
		opts, c, err := rp.BeginRegistration(user)
		if err != nil {
			fail(w, err)
			return
		}
		put(c)
		w.Write(opts)
	})
	mux.HandleFunc("POST /reg/finish", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cred, err := rp.FinishRegistration(user, take(), body)
		if err != nil {
			fail(w, err)
			return
		}
		mu.Lock()
		user.Credentials = append(user.Credentials, *cred)
		mu.Unlock()
		io.WriteString(w, "registered")
	})
	mux.HandleFunc("POST /login/begin", func(w http.ResponseWriter, r *http.Request) {
		opts, c, err := rp.BeginPasswordlessLogin()
		if err != nil {
			fail(w, err)
			return
		}
		put(c)
		w.Write(opts)
	})
	mux.HandleFunc("POST /login/finish", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		lookup := func(id, h []byte) (*auth.PasskeyUser, error) { return user, nil }
		u, a, err := rp.FinishPasswordlessLogin(lookup, take(), body)
		if err != nil {
			fail(w, err)
			return
		}
		if a.Regressed {
			http.Error(w, "regressed", http.StatusConflict)
			return
		}
		mu.Lock()
		for i := range user.Credentials {
			if string(user.Credentials[i].ID) == string(a.CredentialID) {
				user.Credentials[i].SignCount = a.SignCount
			}
		}
		mu.Unlock()
		fmt.Fprintf(w, "welcome %s uv=%v", u.Name, a.UserVerified)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{tlsCert}}
	srv.StartTLS()
	defer srv.Close()
	base := localhostURL(t, srv.URL)
	if err := rp.SetOrigins(base); err != nil { // the port is known only now
		t.Fatal(err)
	}

	b := newBrowser(t, cert)
	authID := b.addAuthenticator(t)
	b.do(t, "open page", 15*time.Second, chromedp.Navigate(base+"/"))
	if got := eval[string](t, b, 5*time.Second, `document.body.innerText`); got != "passkeys" {
		t.Fatalf("page: got %q", got)
	}
	eval[bool](t, b, 5*time.Second, testPasskeyJS)

	type resp struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if r := eval[resp](t, b, 20*time.Second, `register()`); r.Status != 200 {
		t.Fatalf("register: got %d %q, want 200", r.Status, r.Body)
	}
	if r := eval[resp](t, b, 20*time.Second, `login()`); r.Status != 200 || r.Body != "welcome alice@example.com uv=true" {
		t.Fatalf("login: got %d %q", r.Status, r.Body)
	}
	// The same assertion again finds no ceremony: refused.
	if r := eval[resp](t, b, 10*time.Second, `post('/login/finish', lastAssertion)`); r.Status != 400 {
		t.Errorf("replayed assertion: got %d %q, want 400", r.Status, r.Body)
	}
	// A fresh ceremony with a replayed assertion: the challenge differs.
	eval[resp](t, b, 10*time.Second, `post('/login/begin', {})`)
	if r := eval[resp](t, b, 10*time.Second, `post('/login/finish', lastAssertion)`); r.Status != 400 {
		t.Errorf("assertion for an old challenge: got %d %q, want 400", r.Status, r.Body)
	}
	// A clone that lags behind: the counter does not grow.
	creds := b.credentials(t, authID)
	if len(creds) != 1 {
		t.Fatalf("authenticator holds %d credentials, want 1", len(creds))
	}
	b.setSignCount(t, authID, creds[0], 0)
	if r := eval[resp](t, b, 20*time.Second, `login()`); r.Status != http.StatusConflict {
		t.Errorf("regressed counter: got %d %q, want 409", r.Status, r.Body)
	}
	if s := b.errs.String(); s != "" {
		t.Logf("browser messages:\n%s", s)
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

// pageJS gives a page of the real server helpers for the tests' own
// ceremonies (replays, another user's key); the UI's passkey.js is driven
// through its buttons.
const pageJS = `
window.t = {
  dec: s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - s.length % 4) % 4)), c => c.charCodeAt(0)).buffer,
  enc: b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
  post: async (url, body) => {
    const r = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body || {})});
    return {status: r.status, body: await r.text()};
  },
  get: async (url) => { const r = await fetch(url); return {status: r.status, body: await r.text()}; },
  assert: async (challengeURL, strip) => {
    const r = await t.post(challengeURL);
    if (r.status !== 200) throw new Error('challenge ' + r.status + ' ' + r.body);
    const o = JSON.parse(r.body).publicKey;
    o.challenge = t.dec(o.challenge);
    o.allowCredentials = strip ? [] : (o.allowCredentials || []).map(c => ({...c, id: t.dec(c.id)}));
    const a = await navigator.credentials.get({publicKey: o});
    return {id: a.id, rawId: t.enc(a.rawId), type: a.type,
      response: {clientDataJSON: t.enc(a.response.clientDataJSON), authenticatorData: t.enc(a.response.authenticatorData),
        signature: t.enc(a.response.signature), userHandle: a.response.userHandle ? t.enc(a.response.userHandle) : undefined},
      clientExtensionResults: a.getClientExtensionResults()};
  },
};
true`

// httpResult is what pageJS's fetch helpers return.
type httpResult struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// navigate opens path on the server and waits for the page.
func (b *browser) navigate(t *testing.T, url string) {
	t.Helper()
	b.do(t, "open "+url, 15*time.Second, chromedp.Navigate(url))
	eval[bool](t, b, 5*time.Second, pageJS)
}

// waitPath polls until the page's path and query start with want.
func (b *browser) waitPath(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === 'complete' ? location.pathname + location.search : ''`))
		cancel()
		if err == nil {
			last = v
			if strings.HasPrefix(v, want) {
				eval[bool](t, b, 5*time.Second, pageJS)
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.documentElement.getAttribute('data-passkey-error') || '') + ' ' + (document.body ? document.body.innerText.slice(0, 300) : '')`))
	t.Fatalf("waiting for %s: still at %q\npage: %s\nbrowser errors:\n%s", want, last, text, b.errs.String())
}

// click clicks the element of selector through the DOM.
func (b *browser) click(t *testing.T, selector string) {
	t.Helper()
	if !eval[bool](t, b, 5*time.Second, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, selector)) {
		t.Fatalf("no element %s on the page", selector)
	}
}

// passwordLogin signs in through the login form.
func (b *browser) passwordLogin(t *testing.T, base, email, password string) {
	t.Helper()
	b.navigate(t, base+"/login")
	eval[bool](t, b, 5*time.Second, fmt.Sprintf(`(() => {
		document.querySelector('#f-email').value = %q;
		document.querySelector('#f-password').value = %q;
		document.querySelector('form[action="/login"]').submit();
		return true; })()`, email, password))
}

// logout submits the sign-out form of the page.
func (b *browser) logout(t *testing.T, base string) {
	t.Helper()
	b.navigate(t, base+"/account/passkeys")
	eval[bool](t, b, 5*time.Second, `(() => { document.querySelector('form[action="/logout"]').submit(); return true; })()`)
	b.waitPath(t, "/login", 10*time.Second)
}

// swapAuthenticator removes the tab's authenticator, keeping what it held,
// and adds a fresh one holding creds (with their counters).
func (b *browser) swapAuthenticator(t *testing.T, id cdpwebauthn.AuthenticatorID, creds ...*cdpwebauthn.Credential) (cdpwebauthn.AuthenticatorID, []*cdpwebauthn.Credential) {
	t.Helper()
	held := b.credentials(t, id)
	if _, err := chromedp.Call(b.ctx, cdpwebauthn.RemoveVirtualAuthenticator, cdpwebauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: id}); err != nil {
		t.Fatalf("remove authenticator: %v", err)
	}
	nid := b.addAuthenticator(t)
	for _, c := range creds {
		b.addCredential(t, nid, c, c.SignCount)
	}
	return nid, held
}

// passkeyItem is a passkey as the API lists it.
type passkeyItem struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	LastUsedAt *time.Time `json:"last_used_at"`
	FlaggedAt  *time.Time `json:"flagged_at"`
}

func (b *browser) passkeys(t *testing.T) []passkeyItem {
	t.Helper()
	r := eval[httpResult](t, b, 10*time.Second, `t.get('/api/v1/account/passkeys')`)
	if r.Status != 200 {
		t.Fatalf("list passkeys: %d %s", r.Status, r.Body)
	}
	var out struct{ Items []passkeyItem }
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}

// serverCert reads the real server's certificate, to pin its key.
func serverCert(t *testing.T, dataDir string) *x509.Certificate {
	t.Helper()
	certFile, _ := tlsconf.Files(dataDir)
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatal("no PEM block in the server certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestBrowserPasskeys drives the real server (`custos serve`, its own
// self-signed TLS) with Chromium and virtual authenticators: several
// passkeys registered from the account page, a passkey as the second
// factor after the password, passwordless sign-in, and the refusals: a
// replayed assertion, an assertion for a stale challenge, another user's
// passkey, and a cloned key whose counter went backwards (flagged).
func TestBrowserPasskeys(t *testing.T) {
	const pw = "a long and unusual passphrase"
	base, b := browserSite(t, pw, "alice@example.com", "sales", "bob@example.com", "sales")
	authA := b.addAuthenticator(t)

	// 1. Alice signs in with her password (no factor yet: a full, freshly
	// authenticated session) and adds two passkeys on two authenticators.
	b.passwordLogin(t, base, "alice@example.com", pw)
	b.waitPath(t, "/contacts", 10*time.Second)
	register := func(name string) {
		t.Helper()
		b.navigate(t, base+"/account/passkeys")
		eval[bool](t, b, 5*time.Second, fmt.Sprintf(`(() => { document.querySelector('#passkey-name').value = %q; return true; })()`, name))
		b.click(t, "#passkey-add")
		b.waitPath(t, "/account/passkeys?notice=added", 20*time.Second)
	}
	register("Laptop")
	authB, credsA := b.swapAuthenticator(t, authA)
	register("Backup key")
	keys := b.passkeys(t)
	if len(keys) != 2 || keys[0].Name != "Laptop" || keys[1].Name != "Backup key" {
		t.Fatalf("alice's passkeys: %+v", keys)
	}
	if got := eval[string](t, b, 5*time.Second, `document.querySelector('#passkey-list').innerText`); !strings.Contains(got, "Laptop") || !strings.Contains(got, "Backup key") {
		t.Errorf("passkeys page lists: %q", got)
	}

	// 2. The password alone is no longer enough: the second step takes the
	// passkey ("Use a security key").
	b.logout(t, base)
	b.passwordLogin(t, base, "alice@example.com", pw)
	b.waitPath(t, "/mfa", 10*time.Second)
	b.click(t, "[data-passkey=verify]")
	b.waitPath(t, "/contacts", 20*time.Second)

	// 2b. Step-up of a passkey-only user (AUTH-4, ASVS v5.0.0-7.5.3): the
	// password is refused over the API, the step-up page asks for no
	// password, and the passkey confirms.
	b.navigate(t, base+"/stepup")
	if r := eval[httpResult](t, b, 10*time.Second, fmt.Sprintf(`t.post('/api/v1/session/step-up', {code: %q})`, pw)); r.Status != 400 || !strings.Contains(r.Body, "passkey") {
		t.Errorf("password step-up of a passkey-only user: got %d %s, want 400 naming the passkey", r.Status, r.Body)
	}
	if eval[bool](t, b, 5*time.Second, `document.querySelector('input[type=password]') !== null`) {
		t.Error("the step-up page asks a passkey-only user for the password")
	}
	b.click(t, "[data-passkey=verify]")
	b.waitPath(t, "/account/security?notice=stepped_up", 20*time.Second)

	// 3. Passwordless: "Sign in with a passkey" on the login page.
	b.logout(t, base)
	b.navigate(t, base+"/login")
	b.click(t, "[data-passkey=login]")
	b.waitPath(t, "/contacts", 20*time.Second)
	keys = b.passkeys(t)
	if keys[1].LastUsedAt == nil {
		t.Errorf("the backup key shows no last use: %+v", keys[1])
	}

	// 4. A replayed assertion is refused: the ceremony is taken by its
	// first use, and a new ceremony has another challenge.
	b.logout(t, base)
	b.navigate(t, base+"/login")
	replay := eval[[]int](t, b, 30*time.Second, `(async () => {
		const cred = await t.assert('/api/v1/passkey-login/challenge');
		const first = await t.post('/api/v1/passkey-login', {credential: cred});
		const again = await t.post('/api/v1/passkey-login', {credential: cred});
		await t.post('/api/v1/passkey-login/challenge');
		const stale = await t.post('/api/v1/passkey-login', {credential: cred});
		return [first.status, again.status, stale.status];
	})()`)
	if len(replay) != 3 || replay[0] != 200 || replay[1] != 401 || replay[2] != 401 {
		t.Errorf("login, replay, replay for a new challenge: got %v, want [200 401 401]", replay)
	}

	// 5. Another user's passkey: Bob registers his own key, then answers his
	// step-up challenge with Alice's laptop key. The server refuses it.
	b.logout(t, base)
	authC, credsB := b.swapAuthenticator(t, authB)
	b.passwordLogin(t, base, "bob@example.com", pw)
	b.waitPath(t, "/contacts", 10*time.Second)
	register("Bob's key")
	authA2, _ := b.swapAuthenticator(t, authC, credsA...)
	b.navigate(t, base+"/account/passkeys")
	cross := eval[httpResult](t, b, 30*time.Second, `(async () => {
		const cred = await t.assert('/api/v1/session/passkey/challenge', true);
		return t.post('/api/v1/session/passkey', {credential: cred});
	})()`)
	if cross.Status != 400 {
		t.Errorf("bob's step-up with alice's key: got %d %s, want 400", cross.Status, cross.Body)
	}

	// 6. A clone of Alice's laptop key whose counter lags behind: the
	// sign-in is refused and the key is flagged.
	b.logout(t, base)
	b.navigate(t, base+"/login")
	if r := eval[httpResult](t, b, 30*time.Second, `(async () => t.post('/api/v1/passkey-login', {credential: await t.assert('/api/v1/passkey-login/challenge')}))()`); r.Status != 200 {
		t.Fatalf("login with the laptop key: %d %s", r.Status, r.Body)
	}
	b.logout(t, base)
	laptop := b.credentials(t, authA2)
	if len(laptop) != 1 {
		t.Fatalf("authenticator holds %d credentials, want 1", len(laptop))
	}
	b.setSignCount(t, authA2, laptop[0], 0)
	b.navigate(t, base+"/login")
	if r := eval[httpResult](t, b, 30*time.Second, `(async () => t.post('/api/v1/passkey-login', {credential: await t.assert('/api/v1/passkey-login/challenge')}))()`); r.Status != 401 {
		t.Errorf("login with a regressed counter: got %d %s, want 401", r.Status, r.Body)
	}
	// Alice signs in with her password and the backup key and sees the flag.
	b.swapAuthenticator(t, authA2, credsB...)
	b.passwordLogin(t, base, "alice@example.com", pw)
	b.waitPath(t, "/mfa", 10*time.Second)
	b.click(t, "[data-passkey=verify]")
	b.waitPath(t, "/contacts", 20*time.Second)
	keys = b.passkeys(t)
	if len(keys) != 2 || keys[0].FlaggedAt == nil || keys[1].FlaggedAt != nil {
		t.Errorf("after the regression: %+v, want the laptop key flagged", keys)
	}
	b.navigate(t, base+"/account/passkeys")
	if got := eval[string](t, b, 5*time.Second, `document.querySelector('#passkey-list').innerText`); !strings.Contains(got, "Laptop") {
		t.Errorf("passkeys page: %q", got)
	}
	if s := b.errs.String(); strings.Contains(s, "Content Security Policy") || strings.Contains(s, "exception") {
		t.Errorf("CSP violations or script errors:\n%s", s)
	} else if s != "" {
		t.Logf("browser messages (the refusals above are expected):\n%s", s)
	}
}

// browserSite starts a server with the users given (email, role, …; each
// with the password pw) and a browser that trusts it, and returns the
// server's base URL as https://localhost:PORT and the browser. It skips
// the test when Chromium is not installed; the server's log is printed if
// the test fails.
func browserSite(t *testing.T, pw string, users ...string) (string, *browser) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: %s not found (apt-get install -y chromium)", chromiumPath)
	}
	dir := t.TempDir()
	for i := 0; i+1 < len(users); i += 2 {
		runCLI(t, dir, pw+"\n", "user", "add", "--email", users[i], "--role", users[i+1], "--password-stdin")
	}
	s := startServer(t, dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.log.String())
		}
	})
	return localhostURL(t, s.url), newBrowser(t, serverCert(t, dir))
}
