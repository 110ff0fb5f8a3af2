package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/mail/mailtest"
)

func TestComposeEveryKindAndLanguage(t *testing.T) {
	t.Parallel()
	kinds := []string{mail.KindInvite, mail.KindReset, mail.KindPasswordChanged, mail.KindEmailConfirm, mail.KindEmailNotice}
	when := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, k := range kinds {
		for _, lang := range []string{"en", "ru", "xx"} {
			m, err := mail.Compose(k, lang, "u@example.com", mail.Data{Name: "Ann", Actor: "Bob", Role: "Sales",
				Link: "https://crm.example/x/TOKEN", ValidFor: 30 * time.Minute, When: when, NewEmail: "new@example.com"})
			if err != nil {
				t.Fatalf("Compose(%s, %s): %v", k, lang, err)
			}
			if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") || m.Body == "" || m.Kind != k || m.To != "u@example.com" {
				t.Errorf("Compose(%s, %s) = %+v", k, lang, m)
			}
			if strings.Contains(m.Body, "<no value>") {
				t.Errorf("Compose(%s, %s): body has an unfilled field:\n%s", k, lang, m.Body)
			}
		}
	}
	m, _ := mail.Compose(mail.KindReset, "ru", "u@example.com", mail.Data{Name: "Ann", Link: "https://x/y", ValidFor: 30 * time.Minute})
	if !strings.Contains(m.Body, "30 минут") || !strings.Contains(m.Subject, "пароля") {
		t.Errorf("Russian reset mail:\n%s\n%s", m.Subject, m.Body)
	}
	m, _ = mail.Compose(mail.KindInvite, "ru", "u@example.com", mail.Data{Link: "https://x/y", ValidFor: 72 * time.Hour})
	if !strings.Contains(m.Body, "72 часа") {
		t.Errorf("Russian invite mail lacks 72 часа:\n%s", m.Body)
	}
	m, _ = mail.Compose(mail.KindInvite, "en", "u@example.com", mail.Data{Link: "https://x/y", ValidFor: 72 * time.Hour})
	if !strings.Contains(m.Body, "72 hours") || !strings.Contains(m.Body, "https://x/y") {
		t.Errorf("English invite mail:\n%s", m.Body)
	}
}

func TestLogMailerNeverLogsTheBody(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := mail.LogMailer{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	err := l.Send(context.Background(), mail.Message{To: "u@example.com", Kind: "reset", Subject: "s", Body: "https://crm/reset/SECRET"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "mail not sent: SMTP not configured") || strings.Contains(buf.String(), "SECRET") || strings.Contains(buf.String(), "u@example.com") {
		t.Errorf("log = %q", buf.String())
	}
}

func TestSMTPDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts mailtest.Options
	}{
		{"plain", mailtest.Options{}},
		{"starttls", mailtest.Options{StartTLS: true}},
		{"starttls with auth", mailtest.Options{StartTLS: true, Username: "custos", Password: "s3cret pass"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, tt.opts)
			m, err := mail.Compose(mail.KindReset, "ru", "Анна <anna@example.com>", mail.Data{Name: "Анна", Link: "https://crm.example/reset/ABC", ValidFor: 30 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Mailer(t).Send(t.Context(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Wait(t, 1)[0]
			if len(got.To) != 1 || got.To[0] != "anna@example.com" || got.From != "crm@example.test" {
				t.Errorf("envelope from %q to %v", got.From, got.To)
			}
			if got.Subject != m.Subject || got.Link() != "https://crm.example/reset/ABC" {
				t.Errorf("got subject %q link %q, want %q", got.Subject, got.Link(), m.Subject)
			}
			if got.Header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", got.Header.Get("Auto-Submitted"))
			}
		})
	}
}

func TestSMTPRefusesWhatIsNotConfigured(t *testing.T) {
	t.Parallel()
	msg := mail.Message{To: "u@example.com", Kind: "test", Subject: "s", Body: "b"}

	// STARTTLS is mandatory by default: a server without it gets nothing.
	plain := mailtest.Start(t, mailtest.Options{})
	c := plain.Config()
	c.TLS = mail.TLSStartTLS
	m, err := mail.NewSMTP(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), msg); err == nil {
		t.Error("STARTTLS against a server without it: no error")
	}
	// An untrusted certificate is refused.
	tlsSrv := mailtest.Start(t, mailtest.Options{StartTLS: true})
	c = tlsSrv.Config()
	c.TLSConfig = nil
	m, err = mail.NewSMTP(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), msg); err == nil {
		t.Error("STARTTLS with an untrusted certificate: no error")
	}
	// Wrong credentials.
	auth := mailtest.Start(t, mailtest.Options{StartTLS: true, Username: "u", Password: "right"})
	c = auth.Config()
	c.Password = "wrong"
	m, _ = mail.NewSMTP(c)
	if err := m.Send(t.Context(), msg); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: error %v (must fail without echoing the password)", err)
	}
	// A subject with a line break would be header injection.
	m = plain.Mailer(t)
	if err := m.Send(t.Context(), mail.Message{To: "u@example.com", Subject: "a\r\nBcc: x@example.com", Body: "b"}); err == nil {
		t.Error("subject with CRLF: no error")
	}
	if n := len(plain.Messages()) + len(tlsSrv.Messages()) + len(auth.Messages()); n != 0 {
		t.Errorf("%d messages delivered, want 0", n)
	}
	for _, bad := range []mail.SMTPConfig{{}, {Host: "h", From: "x"}, {Host: "h", From: "a@b", TLS: "ssl"}, {Host: "h", From: "a@b", Port: 70000}} {
		if _, err := mail.NewSMTP(bad); err == nil {
			t.Errorf("NewSMTP(%+v): no error", bad)
		}
	}
}
