package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadArgs(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	load := Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return load(func(k string) string { return env[k] })
}

func TestMailOptions(t *testing.T) {
	c, err := loadArgs(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPHost != "" || c.SMTPTLS != "starttls" || c.SMTPPort != 0 || c.PublicURL != "" {
		t.Errorf("defaults: %+v", c)
	}
	if got := c.BaseURL("https://localhost:8443"); got != "https://localhost:8443" {
		t.Errorf("BaseURL fallback = %q", got)
	}
	c, err = loadArgs(t, map[string]string{"CUSTOS_SMTP_HOST": "smtp.example.com", "CUSTOS_MAIL_FROM": "Custos <crm@example.com>"},
		"--smtp-tls", "tls", "--smtp-port", "465", "--public-url", "https://crm.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPHost != "smtp.example.com" || c.SMTPTLS != "tls" || c.SMTPPort != 465 || c.BaseURL("x") != "https://crm.example.com" {
		t.Errorf("loaded: %+v", c)
	}
	bad := [][]string{
		{"--smtp-tls", "ssl"},
		{"--smtp-port", "70000"},
		{"--smtp-host", "smtp.example.com"}, // no mail-from
		{"--smtp-password-file", "/x"},      // no user
		{"--smtp-user", "u", "--smtp-tls", "none"},
		{"--public-url", "http://crm.example.com"},
		{"--public-url", "https://crm.example.com/?a=b"},
		{"--public-url", "crm.example.com"},
	}
	for _, args := range bad {
		if _, err := loadArgs(t, nil, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, err := loadArgs(t, nil, "--public-url", "http://127.0.0.1:8080"); err != nil {
		t.Errorf("loopback http public URL: %v", err)
	}
}

func TestSMTPPasswordNeverPrinted(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("hunter2 secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadArgs(t, nil, "--smtp-host", "h", "--mail-from", "a@b.example", "--smtp-user", "u", "--smtp-password-file", file)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.SMTPPassword(func(string) string { return "" })
	if err != nil || pw != "hunter2 secret" {
		t.Errorf("SMTPPassword() = %q, %v", pw, err)
	}
	for k, v := range c.Redacted() {
		if s, ok := v.(string); ok && strings.Contains(s, "hunter2") {
			t.Errorf("Redacted()[%s] holds the password", k)
		}
	}
	c.SMTPPasswordFile = ""
	pw, _ = c.SMTPPassword(func(k string) string {
		if k == SMTPPasswordEnv {
			return "from-env"
		}
		return ""
	})
	if pw != "from-env" {
		t.Errorf("SMTPPassword() from env = %q", pw)
	}
}
