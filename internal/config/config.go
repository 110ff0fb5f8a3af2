// Package config is the one configuration struct of Custos and its loading
// from, in order of precedence, command-line flags, CUSTOS_* environment
// variables, an optional JSON config file, and the defaults. Secrets are
// never in the config itself: files named by it hold them.
package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/policy"
)

// Config is the server's configuration.
type Config struct {
	DataDir          string        // embedded store and generated certificate
	DB               string        // PostgreSQL URL; empty for the embedded store
	KeyFile          string        // the key-encryption key file (ENC-3); empty: the default place
	KMS              string        // "" (key file or CUSTOS_KEK) or "vault" (Vault's transit engine)
	KMSVaultAddr     string        // Vault's address, for --kms vault
	KMSVaultMount    string        // the transit engine's mount
	KMSVaultKey      string        // the transit key's name
	CompanyNames     string        // "sealed" (default) or "plain": how a company's name, domain, phone and address rest (ENC-2)
	DBInsecure       bool          // allow a remote PostgreSQL without a verified TLS connection
	ConfigFile       string        // optional JSON file with the same keys as the flags
	Listen           string        // address to listen on
	TLSCert          string        // the operator's certificate (PEM)
	TLSKey           string        // and its key
	InsecureHTTP     bool          // plain HTTP behind a TLS-terminating proxy
	Demo             bool          // seed demo data once
	LogLevel         string        // debug, info, warn, error
	LogFormat        string        // text or json
	PhoneRegion      string        // default region for phone numbers without +country
	RecordVisibility string        // organisation-wide defaults (policy.ParseVisibility)
	SessionIdle      time.Duration // session inactivity timeout
	SessionAbsolute  time.Duration // session lifetime
	Argon2Memory     int           // KiB
	Argon2Time       int           // passes
	Argon2Threads    int           // lanes
	HashWorkers      int           // concurrent password hashes
	// Second factors, step-up and throttling (AUTH-4, AUTH-6); validated in mfa.go.
	MFARoles         string        // comma-separated roles that must use a second factor; admin always
	StepUpWindow     time.Duration // how long a re-authentication opens sensitive actions
	LockoutThreshold int           // failed sign-ins that lock an account (at most 100)
	LockoutDuration  time.Duration // how long a lock lasts
	IPFailureLimit   int           // failed sign-ins from one address within IPFailureWindow
	IPFailureWindow  time.Duration
	// Outgoing mail (AUTH-8); validated in mail.go.
	SMTPHost         string // empty: mail is not sent, only logged as unsent
	SMTPPort         int    // 0: the default of SMTPTLS
	SMTPTLS          string // starttls, tls or none
	SMTPUser         string
	SMTPPasswordFile string // file holding the SMTP password (or CUSTOS_SMTP_PASSWORD)
	MailFrom         string // sender address
	PublicURL        string // base URL of links in mail; empty: derived from the listen address
}

// option describes one setting: its flag, environment variable, default
// and help, so flags, env, file keys, --help and the README table agree.
type option struct {
	name, help, def string
	set             func(c *Config, v string) error
}

func str(dst func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

func boolean(dst func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		*dst(c) = b
		return nil
	}
}

func integer(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("must be an integer")
		}
		*dst(c) = n
		return nil
	}
}

func duration(dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("must be a duration such as 30m or 12h")
		}
		*dst(c) = d
		return nil
	}
}

// options are every setting. Flags are --name; variables CUSTOS_NAME with
// dashes as underscores; file keys are the flag names.
var options = []option{
	{"data", "data directory for the embedded store, certificate and state", "./custos-data", str(func(c *Config) *string { return &c.DataDir })},
	{"db", "PostgreSQL URL (postgres://user@host/db?sslmode=verify-full&sslrootcert=ca.pem); empty for the embedded store", "", str(func(c *Config) *string { return &c.DB })},
	{"db-insecure", "allow a PostgreSQL server on another host without sslmode=verify-full (not recommended)", "false", boolean(func(c *Config) *bool { return &c.DBInsecure })},
	{"key-file", "key-encryption key file (made at first start, mode 0600; default: under the user's config directory, named after the data directory or database, never inside the data directory); CUSTOS_KEK (a base64 key) takes its place", "", str(func(c *Config) *string { return &c.KeyFile })},
	{"kms", "where the key-encryption key lives: empty for --key-file or CUSTOS_KEK, or vault for HashiCorp Vault's transit engine (token from VAULT_TOKEN)", "", str(func(c *Config) *string { return &c.KMS })},
	{"kms-vault-addr", "Vault's address for --kms vault, e.g. https://vault.example.com:8200", "", str(func(c *Config) *string { return &c.KMSVaultAddr })},
	{"kms-vault-mount", "the transit engine's mount for --kms vault", "transit", str(func(c *Config) *string { return &c.KMSVaultMount })},
	{"kms-vault-key", "the transit key's name for --kms vault", "custos", str(func(c *Config) *string { return &c.KMSVaultKey })},
	{"company-names", "how a company's name, domain, phone and address rest on disk: sealed (a sole trader's company name is their own name) or plain (clients are companies, and reports outside Custos read them); a change re-writes them online at the next start; every instance must have the same", "sealed", str(func(c *Config) *string { return &c.CompanyNames })},
	{"config", "optional JSON config file whose keys are these flag names", "", str(func(c *Config) *string { return &c.ConfigFile })},
	{"listen", "address to serve on", "127.0.0.1:8443", str(func(c *Config) *string { return &c.Listen })},
	{"tls-cert", "PEM certificate file (default: a self-signed certificate in the data directory)", "", str(func(c *Config) *string { return &c.TLSCert })},
	{"tls-key", "PEM private key file for --tls-cert", "", str(func(c *Config) *string { return &c.TLSKey })},
	{"insecure-http", "serve plain HTTP (only behind a TLS-terminating proxy)", "false", boolean(func(c *Config) *bool { return &c.InsecureHTTP })},
	{"demo", "seed demo data (once) and print demo logins", "false", boolean(func(c *Config) *bool { return &c.Demo })},
	{"log-level", "log level: debug, info, warn, error", "info", str(func(c *Config) *string { return &c.LogLevel })},
	{"log-format", "log format: text or json", "text", str(func(c *Config) *string { return &c.LogFormat })},
	{"phone-region", "region (ISO 3166) for phone numbers written without a country code", "RU", str(func(c *Config) *string { return &c.PhoneRegion })},
	{"record-visibility", "organisation-wide defaults of what users see of records they neither own nor manage: private, team-read, team-write or public-read, then per entity, e.g. private,contacts=team-read,deals=team-write", "private", str(func(c *Config) *string { return &c.RecordVisibility })},
	{"session-idle", "session inactivity timeout (a session ends up to one minute after it, never before)", "30m", duration(func(c *Config) *time.Duration { return &c.SessionIdle })},
	{"session-absolute", "session lifetime regardless of activity", "12h", duration(func(c *Config) *time.Duration { return &c.SessionAbsolute })},
	{"argon2-memory", "argon2id memory in KiB", "65536", integer(func(c *Config) *int { return &c.Argon2Memory })},
	{"argon2-time", "argon2id passes", "2", integer(func(c *Config) *int { return &c.Argon2Time })},
	{"argon2-threads", "argon2id lanes", "2", integer(func(c *Config) *int { return &c.Argon2Threads })},
	{"hash-workers", "password hashes computed at once (more wait; a flood gets 429); each uses argon2-threads cores and argon2-memory", "1", integer(func(c *Config) *int { return &c.HashWorkers })},
	{"mfa-roles", "roles that must use a second factor, comma-separated (admin always does)", "admin,manager", str(func(c *Config) *string { return &c.MFARoles })},
	{"step-up-window", "how long a re-authentication allows sensitive actions (user, role and team administration, tokens, second factors, shares, revealing masked values)", "5m", duration(func(c *Config) *time.Duration { return &c.StepUpWindow })},
	{"lockout-threshold", "failed passwords or codes within --lockout-duration that lock an account (1 to 100)", "10", integer(func(c *Config) *int { return &c.LockoutThreshold })},
	{"lockout-duration", "the account window: older failures stop counting, and a lock ends when its oldest failure is this old (an administrator can unlock sooner)", "15m", duration(func(c *Config) *time.Duration { return &c.LockoutDuration })},
	{"ip-failure-limit", "failed passwords or codes from one client address within --ip-failure-window that block it", "50", integer(func(c *Config) *int { return &c.IPFailureLimit })},
	{"ip-failure-window", "the window of --ip-failure-limit", "15m", duration(func(c *Config) *time.Duration { return &c.IPFailureWindow })},
	{"smtp-host", "SMTP server for invitations and password resets; empty: mail is not sent, only logged", "", str(func(c *Config) *string { return &c.SMTPHost })},
	{"smtp-port", "SMTP port; 0 means 587 for starttls, 465 for tls, 25 for none", "0", integer(func(c *Config) *int { return &c.SMTPPort })},
	{"smtp-tls", "SMTP transport security: starttls (required), tls (implicit) or none", "starttls", str(func(c *Config) *string { return &c.SMTPTLS })},
	{"smtp-user", "SMTP user name; empty: no authentication", "", str(func(c *Config) *string { return &c.SMTPUser })},
	{"smtp-password-file", "file holding the SMTP password (or set CUSTOS_SMTP_PASSWORD)", "", str(func(c *Config) *string { return &c.SMTPPasswordFile })},
	{"mail-from", "sender address of Custos mail, e.g. Custos <crm@example.com>", "", str(func(c *Config) *string { return &c.MailFrom })},
	{"public-url", "base URL of links in mail, e.g. https://crm.example.com (default: from --listen)", "", str(func(c *Config) *string { return &c.PublicURL })},
}

// EnvName returns the environment variable of a flag name.
func EnvName(flagName string) string {
	return "CUSTOS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Register defines the named options (all when names is empty) on fs.
// Values are only recorded; Load applies them with the right precedence.
func Register(fs *flag.FlagSet, names ...string) func(getenv func(string) string) (*Config, error) {
	set := map[string]string{}
	want := func(n string) bool {
		if len(names) == 0 {
			return true
		}
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
	for _, o := range options {
		if !want(o.name) {
			continue
		}
		o := o
		help := fmt.Sprintf("%s (env %s)", o.help, EnvName(o.name))
		if strings.HasSuffix(o.def, "false") || o.def == "true" {
			fs.BoolFunc(o.name, help, func(v string) error { set[o.name] = v; return nil })
		} else {
			fs.Func(o.name, help+" (default "+strconv.Quote(o.def)+")", func(v string) error { set[o.name] = v; return nil })
		}
	}
	return func(getenv func(string) string) (*Config, error) { return load(set, getenv) }
}

// load applies defaults, the config file, the environment and the flags.
func load(flags map[string]string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	for _, o := range options {
		if err := o.set(c, o.def); err != nil {
			return nil, fmt.Errorf("config: default of %s: %w", o.name, err)
		}
	}
	file := flags["config"]
	if file == "" {
		file = getenv(EnvName("config"))
	}
	if file != "" {
		vals, err := readFile(file)
		if err != nil {
			return nil, err
		}
		if err := apply(c, vals, "config file "+file+": "); err != nil {
			return nil, err
		}
	}
	env := map[string]string{}
	for _, o := range options {
		if v, ok := lookup(getenv, EnvName(o.name)); ok {
			env[o.name] = v
		}
	}
	if err := apply(c, env, "environment: "); err != nil {
		return nil, err
	}
	if err := apply(c, flags, "flag: "); err != nil {
		return nil, err
	}
	c.ConfigFile = file
	return c, c.Validate()
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func apply(c *Config, vals map[string]string, where string) error {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		found := false
		for _, o := range options {
			if o.name == k {
				found = true
				if err := o.set(c, vals[k]); err != nil {
					return fmt.Errorf("config: %s%s %w", where, k, err)
				}
			}
		}
		if !found {
			return fmt.Errorf("config: %sunknown setting %q", where, k)
		}
	}
	return nil
}

func readFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config: %s is not a JSON object: %w", path, err)
	}
	out := map[string]string{}
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return nil, fmt.Errorf("config: %s: %s must be a string, number or boolean", path, k)
		}
	}
	return out, nil
}

// Validate checks the configuration as a whole.
func (c *Config) Validate() error {
	var errs []error
	if c.DB != "" {
		if err := checkDBURL(c.DB, c.DBInsecure); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data: must not be empty"))
	}
	switch c.KMS {
	case "":
	case "vault":
		if c.KMSVaultAddr == "" || c.KMSVaultKey == "" || c.KMSVaultMount == "" {
			errs = append(errs, errors.New("kms vault: kms-vault-addr, kms-vault-mount and kms-vault-key must be set"))
		}
		if c.KeyFile != "" {
			errs = append(errs, errors.New("kms and key-file exclude each other"))
		}
	default:
		errs = append(errs, errors.New("kms: must be empty or vault"))
	}
	if c.CompanyNames != "sealed" && c.CompanyNames != "plain" {
		errs = append(errs, errors.New("company-names: must be sealed or plain"))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port", c.Listen))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key must be given together"))
	}
	if c.InsecureHTTP && c.TLSCert != "" {
		errs = append(errs, errors.New("insecure-http and tls-cert exclude each other"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, errors.New("log-level: must be debug, info, warn or error"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, errors.New("log-format: must be text or json"))
	}
	if _, err := policy.ParseVisibility(c.RecordVisibility); err != nil {
		errs = append(errs, err)
	}
	if len(c.PhoneRegion) != 2 {
		errs = append(errs, errors.New("phone-region: must be a two-letter region such as RU or GB"))
	}
	if c.SessionIdle < time.Minute || c.SessionAbsolute < c.SessionIdle || c.SessionAbsolute > 7*24*time.Hour {
		errs = append(errs, errors.New("session-idle must be at least 1m and session-absolute between it and 168h"))
	}
	if c.Argon2Memory < 19*1024 || c.Argon2Time < 1 || c.Argon2Threads < 1 || c.Argon2Threads > 255 {
		errs = append(errs, errors.New("argon2: memory must be at least 19456 KiB (OWASP floor), time and threads at least 1"))
	}
	if c.HashWorkers < 1 || c.HashWorkers > 64 {
		errs = append(errs, errors.New("hash-workers: must be between 1 and 64"))
	}
	errs = append(errs, c.validateMail()...)
	errs = append(errs, c.validateMFA()...)
	return errors.Join(errs...)
}

// Table returns the settings as rows of flag, variable, default and help,
// for documentation.
func Table() [][4]string {
	out := make([][4]string, 0, len(options))
	for _, o := range options {
		out = append(out, [4]string{"--" + o.name, EnvName(o.name), o.def, o.help})
	}
	return out
}

// Redacted returns the configuration for printing at start. It holds no
// secrets today; secret-bearing settings will be shown as set or unset.
func (c *Config) Redacted() map[string]any {
	return map[string]any{
		"data": c.DataDir, "db": RedactURL(c.DB), "key-file": c.KeyFile, "kms": c.KMS, "company-names": c.CompanyNames, "listen": c.Listen, "tls-cert": c.TLSCert != "", "insecure-http": c.InsecureHTTP,
		"demo": c.Demo, "log-level": c.LogLevel, "record-visibility": c.RecordVisibility,
		"session-idle": c.SessionIdle.String(), "session-absolute": c.SessionAbsolute.String(),
		"smtp-host": c.SMTPHost, "smtp-port": c.SMTPPort, "smtp-tls": c.SMTPTLS, "smtp-user": c.SMTPUser,
		"smtp-password-file": c.SMTPPasswordFile != "", "mail-from": c.MailFrom, "public-url": c.PublicURL,
		"mfa-roles": c.MFARoles, "step-up-window": c.StepUpWindow.String(), "lockout-threshold": c.LockoutThreshold,
		"lockout-duration": c.LockoutDuration.String(), "ip-failure-limit": c.IPFailureLimit,
		"ip-failure-window": c.IPFailureWindow.String(),
	}
}

// RedactURL returns a database URL without its password and query, for
// logs: "postgres://custos@db.example:5432/crm".
func RedactURL(s string) string {
	if s == "" {
		return "embedded"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.RawQuery = ""
	return u.String()
}

// checkDBURL requires a postgres:// URL and, for a server on another host,
// a TLS connection that verifies the server (sslmode=verify-full or
// verify-ca; ASVS v5.0.0-12.3.1, 12.3.2) unless insecure is set. A server on
// the loopback interface or a Unix socket never leaves the machine.
func checkDBURL(s string, insecure bool) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("db: must be a postgres:// URL")
	}
	host := u.Hostname()
	if h := u.Query().Get("host"); h != "" {
		host = h
	}
	local := host == "" || host == "localhost" || strings.HasPrefix(host, "/")
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		local = true
	}
	mode := u.Query().Get("sslmode")
	if !local && mode != "verify-full" && mode != "verify-ca" && !insecure {
		return fmt.Errorf("db: the connection to %s is not verified; add sslmode=verify-full&sslrootcert=<CA file> to the URL (or --db-insecure to accept an unverified connection)", host)
	}
	return nil
}
