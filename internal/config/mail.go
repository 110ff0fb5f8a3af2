package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strings"
)

// SMTPPasswordEnv is the environment variable that may hold the SMTP
// password when --smtp-password-file is not given. It is not a flag, so
// the password never shows in a process list or in --help.
const SMTPPasswordEnv = "CUSTOS_SMTP_PASSWORD"

// validateMail checks the outgoing-mail settings.
func (c *Config) validateMail() []error {
	var errs []error
	switch c.SMTPTLS {
	case "starttls", "tls", "none":
	default:
		errs = append(errs, errors.New("smtp-tls: must be starttls, tls or none"))
	}
	if c.SMTPPort < 0 || c.SMTPPort > 65535 {
		errs = append(errs, errors.New("smtp-port: must be between 0 and 65535"))
	}
	if c.SMTPHost != "" {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			errs = append(errs, errors.New("mail-from: must be an address such as crm@example.com when smtp-host is set"))
		}
	}
	if c.SMTPUser != "" && c.SMTPTLS == "none" {
		errs = append(errs, errors.New("smtp-user: credentials are never sent without TLS; use smtp-tls starttls or tls"))
	}
	if c.SMTPPasswordFile != "" && c.SMTPUser == "" {
		errs = append(errs, errors.New("smtp-password-file: needs smtp-user"))
	}
	if c.PublicURL != "" {
		if err := checkPublicURL(c.PublicURL); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkPublicURL accepts an absolute https URL without query or fragment,
// or http for a loopback host (development).
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	bad := fmt.Errorf("public-url: %q must be an absolute https:// URL without query or fragment", s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return bad
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return bad
}

// BaseURL returns PublicURL without a trailing slash, or fallback (the
// URL derived from the listen address) when it is unset.
func (c *Config) BaseURL(fallback string) string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return fallback
}

// SMTPPassword reads the SMTP password from --smtp-password-file (the
// first line, without the line break) or from CUSTOS_SMTP_PASSWORD.
func (c *Config) SMTPPassword(getenv func(string) string) (string, error) {
	if c.SMTPPasswordFile == "" {
		return getenv(SMTPPasswordEnv), nil
	}
	b, err := os.ReadFile(c.SMTPPasswordFile)
	if err != nil {
		return "", fmt.Errorf("config: smtp-password-file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", errors.New("config: smtp-password-file is empty")
	}
	return pw, nil
}
