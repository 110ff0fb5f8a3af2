package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHTTPServerLimits: the server is made with the documented timeouts
// and header limit (SHD-4, docs/security.md), whatever serves it.
func TestHTTPServerLimits(t *testing.T) {
	srv := httpServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 30*time.Second || srv.WriteTimeout != 60*time.Second ||
		srv.IdleTimeout != 120*time.Second || srv.MaxHeaderBytes != 32<<10 || srv.ErrorLog == nil {
		t.Errorf("server limits: header %v read %v write %v idle %v header bytes %d", srv.ReadHeaderTimeout, srv.ReadTimeout,
			srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}

// TestServeLimitsAndLogs drives the running server: headers over 32 KiB
// get 431; oversized form and JSON bodies are refused before they are
// read whole; a client that sends half a request header is cut off (slow
// loris); and no query string reaches the log, only paths (ENC-6; issue 18
// item 8).
func TestServeLimitsAndLogs(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	token := strings.TrimSpace(runCLI(t, dir, "", "token", "create", "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"))
	s := startServer(t, dir, "--log-level", "debug") // every log line, access log included

	req, _ := http.NewRequest("GET", s.url+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 40<<10))
	if res, err := s.client.Do(req); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 40 KiB header: %d, want 431", res.StatusCode)
	}
	for _, c := range []struct{ path, ctype, body string }{
		{"/login", "application/x-www-form-urlencoded", "email=a%40b.c&password=" + strings.Repeat("x", 64<<10)},
		{"/api/v1/contacts", "application/json", `{"first_name":"` + strings.Repeat("x", 300<<10) + `"}`},
	} {
		req, _ := http.NewRequest("POST", s.url+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		req.Header.Set("Origin", s.url)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with an oversized body: %d", c.path, res.StatusCode)
		}
	}

	// Slow loris: half a header, then silence. The server closes the
	// connection after its header timeout (5 s). The 20 s here is below the
	// 30 s read timeout, so a server without the header timeout fails, and
	// a broken one cannot hang the test.
	addr := "127.0.0.1" + strings.TrimPrefix(s.url, "https://localhost")
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = bufio.NewReader(conn).ReadString('\n')
	if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
		t.Error("a half-sent header held the connection for 20 s")
	}

	// Query strings (search terms: personal data) never reach the log.
	for _, path := range []string{"/api/v1/contacts?q=Zinaida-Secret-Query&email=zs%40example.com", "/contacts?q=Zinaida-Secret-Query"} {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if res, err := s.client.Do(req); err != nil {
			t.Fatal(err)
		} else {
			res.Body.Close()
		}
	}
	logs := s.log.String()
	if strings.Contains(logs, "Zinaida") || strings.Contains(logs, "zs%40") || strings.Contains(logs, "zs@example") {
		t.Errorf("a query string is in the log:\n%s", logs)
	}
	if !strings.Contains(logs, "/api/v1/contacts") {
		t.Errorf("the access log lacks the path:\n%.2000s", logs)
	}
}
