package main

import (
	"log/slog"

	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/mail"
)

// newMailer returns the SMTP mailer of the configuration, or, without
// --smtp-host, the mailer that only logs that mail was not sent.
func newMailer(c *config.Config, getenv func(string) string, log *slog.Logger) (mail.Mailer, error) {
	if c.SMTPHost == "" {
		log.Warn("SMTP is not configured (--smtp-host): invitations, password resets and notices will not be sent")
		return mail.LogMailer{Logger: log}, nil
	}
	pw, err := c.SMTPPassword(getenv)
	if err != nil {
		return nil, err
	}
	m, err := mail.NewSMTP(mail.SMTPConfig{Host: c.SMTPHost, Port: c.SMTPPort, TLS: c.SMTPTLS,
		Username: c.SMTPUser, Password: pw, From: c.MailFrom})
	if err != nil {
		return nil, err
	}
	if c.SMTPTLS == mail.TLSNone {
		log.Warn("INSECURE: mail is sent without TLS (--smtp-tls none); use it only with a trusted local relay")
	}
	return m, nil
}
