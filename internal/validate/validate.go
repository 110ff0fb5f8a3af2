// Package validate checks and cleans the input fields of every service:
// text, addresses, phones, dates, codes, amounts, tags. Each check records
// its failure under the field's name and returns the cleaned value, so that
// one call reports every bad field at once (a 400 naming each). It holds
// no rules of access and touches no store.
package validate

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/custos-crm/custos/internal/crm"

	"golang.org/x/text/unicode/norm"
)

// Field length limits, in characters.
const (
	MaxName    = 100
	MaxShort   = 200
	MaxAddress = 500
	MaxText    = 10000
	MaxEmail   = 254
	MaxTag     = 40
	MaxTags    = 20
)

// Fields collects field failures; each check returns the cleaned value.
type Fields struct{ fe crm.FieldErrors }

// New returns an empty Fields.
func New() *Fields { return &Fields{fe: crm.FieldErrors{}} }

// Err is the EINVALID error naming every failed field, or nil.
func (v *Fields) Err() error { return v.fe.Err() }

// Add records a failure of field (the first reason of a field stays).
func (v *Fields) Add(field, reason string) { v.fe.Add(field, reason) }

// Failed reports whether field has failed a check.
func (v *Fields) Failed(field string) bool { return v.fe[field] != "" }

// Text trims s and checks it is valid UTF-8, within max characters and free
// of control characters (newlines and tabs allowed when multiline).
func (v *Fields) Text(field, s string, max int, required, multiline bool) string {
	if !utf8.ValidString(s) {
		v.Add(field, "must be valid UTF-8")
		return ""
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		v.Add(field, "required")
		return ""
	}
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
		return ""
	}
	for _, r := range s {
		if (unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))) || r == '\u2028' || r == '\u2029' {
			v.Add(field, "must not contain control characters")
			return ""
		}
	}
	return s
}

// Name is Text for a name that must be told apart from others (a team's):
// in Unicode NFC, so that one spelling is stored for what looks the same,
// and free of invisible format characters (zero-width spaces, joiners,
// direction marks).
func (v *Fields) Name(field, s string, max int, required bool) string {
	s = v.Text(field, norm.NFC.String(s), max, required, false)
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			v.Add(field, "must not contain invisible characters")
			return ""
		}
	}
	return s
}

// Email returns the lowercased address, or "" (allowed when not required).
func (v *Fields) Email(field, s string, required bool) string {
	s = v.Text(field, s, MaxEmail, required, false)
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		v.Add(field, "must be a valid email address")
		return ""
	}
	return strings.ToLower(s)
}

// Phone normalises to E.164 using region for numbers without a country code.
func (v *Fields) Phone(field, s, region string) string {
	s = v.Text(field, s, 40, false, false)
	if s == "" {
		return ""
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		v.Add(field, "must be a valid phone number (E.164, e.g. +79161234567)")
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

// Date checks YYYY-MM-DD between 1900 and 2200.
func (v *Fields) Date(field, s string) string {
	s = v.Text(field, s, 10, false, false)
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		v.Add(field, "must be a date YYYY-MM-DD")
		return ""
	}
	return s
}

// OneOf checks s against a list of allowed values.
func (v *Fields) OneOf(field, s string, allowed []string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" && !required {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	v.Add(field, "must be one of "+strings.Join(allowed, ", "))
	return ""
}

var (
	langRe     = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)
	currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	amountRe   = regexp.MustCompile(`^[0-9]{1,13}(\.[0-9]{1,2})?$`)
	domainRe   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

func (v *Fields) Language(field, s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !langRe.MatchString(s) {
		v.Add(field, "must be a language tag such as en or ru")
		return ""
	}
	return s
}

func (v *Fields) Domain(field, s string) string {
	s = strings.ToLower(v.Text(field, s, 253, false, false))
	if s != "" && !domainRe.MatchString(s) {
		v.Add(field, "must be a domain name such as example.com")
		return ""
	}
	return s
}

func (v *Fields) Currency(field, s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !currencyRe.MatchString(s) {
		v.Add(field, "must be an ISO 4217 code such as RUB, EUR or USD")
		return ""
	}
	return s
}

// Amount parses a non-negative decimal with at most two fraction digits
// into minor units.
func (v *Fields) Amount(field, s string) int64 {
	s = strings.TrimSpace(s)
	if !amountRe.MatchString(s) {
		v.Add(field, "must be a non-negative decimal with at most 2 decimals, as a string, e.g. \"1250.50\"")
		return 0
	}
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		v.Add(field, "is too large")
		return 0
	}
	return n
}

// FormatAmount renders minor units as a decimal string.
func FormatAmount(minor int64) string {
	return strconv.FormatInt(minor/100, 10) + "." + strconv.FormatInt(minor%100/10, 10) + strconv.FormatInt(minor%10, 10)
}

// Tags trims, lowercases and deduplicates tags.
func (v *Fields) Tags(field string, in []string) []string {
	if len(in) > MaxTags {
		v.Add(field, "at most "+strconv.Itoa(MaxTags)+" tags")
		return nil
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.ToLower(v.Text(field, t, MaxTag, true, false))
		if t == "" {
			return nil
		}
		if strings.ContainsAny(t, ",;") {
			v.Add(field, "tags must not contain , or ;")
			return nil
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func (v *Fields) PositiveID(field string, id int64) int64 {
	if id <= 0 {
		v.Add(field, "must be a positive id")
		return 0
	}
	return id
}
