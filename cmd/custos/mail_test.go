package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/mail/mailtest"
)

// TestServeMailsResetLinks runs the real server with SMTP configured by
// flags against an SMTP server in process, and
// completes a password reset with the mailed link (AUTH-8).
func TestServeMailsResetLinks(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	// Plain SMTP without credentials: the test server's certificate is not
	// in the system roots (STARTTLS and authentication are tested in
	// internal/mail), and credentials are never sent without TLS.
	smtp := mailtest.Start(t, mailtest.Options{})
	s := startServer(t, dir, "--smtp-host", smtp.Host, "--smtp-port", strconv.Itoa(smtp.Port), "--smtp-tls", "none",
		"--mail-from", "Custos <crm@example.test>", "--public-url", "https://crm.example.test/")

	res := s.api(t, "", "POST", "/api/v1/password-reset", map[string]string{"email": "rep@example.com"}, nil)
	wantStatus(t, res, http.StatusAccepted)
	m := smtp.Wait(t, 1)[0]
	token, ok := strings.CutPrefix(m.Link(), "https://crm.example.test/reset/")
	if !ok || m.To[0] != "rep@example.com" || m.From != "crm@example.test" {
		t.Fatalf("reset mail from %q to %v with link %q", m.From, m.To, m.Link())
	}
	res = s.api(t, "", "POST", "/api/v1/password-reset/complete", map[string]string{"token": token, "password": "the new and unusual passphrase"}, nil)
	wantStatus(t, res, http.StatusNoContent)
	if n := smtp.Wait(t, 2); !strings.Contains(n[1].Subject, "password was changed") {
		t.Errorf("second mail %q", n[1].Subject)
	}
	if strings.Contains(s.out.String(), token) {
		t.Error("the server printed a reset token")
	}
}
