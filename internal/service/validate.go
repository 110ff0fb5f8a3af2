package service

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
)

// Field length limits, in characters.
const (
	maxName    = 100
	maxShort   = 200
	maxAddress = 500
	maxText    = 10000
	maxEmail   = 254
	maxTag     = 40
	maxTags    = 20
)

// validator collects field failures; each helper returns the cleaned value.
type validator struct{ fe crm.FieldErrors }

func newValidator() *validator { return &validator{fe: crm.FieldErrors{}} }

func (v *validator) err() error { return v.fe.Err() }

// text trims s and checks it is valid UTF-8, within max characters and free
// of control characters (newlines and tabs allowed when multiline).
func (v *validator) text(field, s string, max int, required, multiline bool) string {
	if !utf8.ValidString(s) {
		v.fe.Add(field, "must be valid UTF-8")
		return ""
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		v.fe.Add(field, "required")
		return ""
	}
	if utf8.RuneCountInString(s) > max {
		v.fe.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
		return ""
	}
	for _, r := range s {
		if (unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))) || r == '\u2028' || r == '\u2029' {
			v.fe.Add(field, "must not contain control characters")
			return ""
		}
	}
	return s
}

// email returns the lowercased address, or "" (allowed when not required).
func (v *validator) email(field, s string, required bool) string {
	s = v.text(field, s, maxEmail, required, false)
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		v.fe.Add(field, "must be a valid email address")
		return ""
	}
	return strings.ToLower(s)
}

// phone normalises to E.164 using region for numbers without a country code.
func (v *validator) phone(field, s, region string) string {
	s = v.text(field, s, 40, false, false)
	if s == "" {
		return ""
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		v.fe.Add(field, "must be a valid phone number (E.164, e.g. +79161234567)")
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

// date checks YYYY-MM-DD between 1900 and 2200.
func (v *validator) date(field, s string) string {
	s = v.text(field, s, 10, false, false)
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		v.fe.Add(field, "must be a date YYYY-MM-DD")
		return ""
	}
	return s
}

// oneOf checks s against a list of allowed values.
func (v *validator) oneOf(field, s string, allowed []string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" && !required {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	v.fe.Add(field, "must be one of "+strings.Join(allowed, ", "))
	return ""
}

var (
	langRe     = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)
	currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	amountRe   = regexp.MustCompile(`^[0-9]{1,13}(\.[0-9]{1,2})?$`)
	domainRe   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

func (v *validator) language(field, s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !langRe.MatchString(s) {
		v.fe.Add(field, "must be a language tag such as en or ru")
		return ""
	}
	return s
}

func (v *validator) domain(field, s string) string {
	s = strings.ToLower(v.text(field, s, 253, false, false))
	if s != "" && !domainRe.MatchString(s) {
		v.fe.Add(field, "must be a domain name such as example.com")
		return ""
	}
	return s
}

func (v *validator) currency(field, s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !currencyRe.MatchString(s) {
		v.fe.Add(field, "must be an ISO 4217 code such as RUB, EUR or USD")
		return ""
	}
	return s
}

// amount parses a non-negative decimal with at most two fraction digits
// into minor units.
func (v *validator) amount(field, s string) int64 {
	s = strings.TrimSpace(s)
	if !amountRe.MatchString(s) {
		v.fe.Add(field, "must be a non-negative decimal with at most 2 decimals, as a string, e.g. \"1250.50\"")
		return 0
	}
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		v.fe.Add(field, "is too large")
		return 0
	}
	return n
}

// formatAmount renders minor units as a decimal string.
func formatAmount(minor int64) string {
	return strconv.FormatInt(minor/100, 10) + "." + strconv.FormatInt(minor%100/10, 10) + strconv.FormatInt(minor%10, 10)
}

// tags trims, lowercases and deduplicates tags.
func (v *validator) tags(field string, in []string) []string {
	if len(in) > maxTags {
		v.fe.Add(field, "at most "+strconv.Itoa(maxTags)+" tags")
		return nil
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.ToLower(v.text(field, t, maxTag, true, false))
		if t == "" {
			return nil
		}
		if strings.ContainsAny(t, ",;") {
			v.fe.Add(field, "tags must not contain , or ;")
			return nil
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func (v *validator) positiveID(field string, id int64) int64 {
	if id <= 0 {
		v.fe.Add(field, "must be a positive id")
		return 0
	}
	return id
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func itoa(i int) string { return strconv.Itoa(i) }

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
