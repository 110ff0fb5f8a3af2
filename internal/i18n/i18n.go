// Package i18n holds the user-interface messages of Custos in English and
// Russian (CORE-6) and chooses the language of a response.
//
// Messages live in embedded JSON catalogues, one per language, keyed by
// stable dotted names ("contacts.title"). A message may contain fmt verbs;
// Lookup fills them from its arguments. Every key exists in every catalogue
// (a test enforces it), so a missing translation is a test failure rather
// than English text on a Russian page.
//
// Validation reasons come from the service layer in English ("required",
// "must be at most 100 characters"); Reason translates the ones it knows
// and returns the rest unchanged.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Default is the language used when nothing else decides.
const Default = "en"

// Languages lists the supported languages, the default first.
var Languages = []string{"en", "ru"}

//go:embed en.json ru.json
var files embed.FS

// catalogues maps a language to its messages. It is filled once at start
// and only read afterwards, so concurrent lookups need no lock.
var catalogues = mustLoad()

func mustLoad() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		b, err := files.ReadFile(lang + ".json")
		if err != nil {
			panic(fmt.Sprintf("i18n: %s: %v", lang, err))
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("i18n: %s.json: %v", lang, err))
		}
		out[lang] = m
	}
	return out
}

// Keys returns the message keys of lang's catalogue, for tests.
func Keys(lang string) []string {
	var out []string
	for k := range catalogues[lang] {
		out = append(out, k)
	}
	return out
}

// Lookup returns the message key in lang, formatted with args. An unknown
// language falls back to English; an unknown key returns the key itself,
// which makes the omission visible without breaking the page.
func Lookup(lang, key string, args ...any) string {
	msg, ok := catalogues[lang][key]
	if !ok {
		if msg, ok = catalogues[Default][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// match maps a language tag such as "ru-RU" or "EN_gb" to a supported
// language, or "".
func match(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	primary, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	for _, l := range Languages {
		if primary == l {
			return l
		}
	}
	return ""
}

// Limits that keep a hostile Accept-Language header cheap to parse.
const (
	maxHeader  = 1024
	maxEntries = 32
)

// Negotiate picks the response language. The signed-in user's setting
// wins; otherwise the Accept-Language header (RFC 9110 §12.5.4) decides by
// q-value, earlier entries winning ties; otherwise English. Malformed
// entries are skipped, never fatal.
func Negotiate(userLang, acceptLanguage string) string {
	if l := match(userLang); l != "" {
		return l
	}
	if len(acceptLanguage) > maxHeader {
		acceptLanguage = acceptLanguage[:maxHeader]
	}
	best, bestQ := "", 0.0
	for i, entry := range strings.Split(acceptLanguage, ",") {
		if i == maxEntries {
			break
		}
		tag, params, _ := strings.Cut(entry, ";")
		q, ok := quality(params)
		if !ok || q <= bestQ {
			continue
		}
		if l := match(tag); l != "" {
			best, bestQ = l, q
		}
	}
	if best == "" {
		return Default
	}
	return best
}

// quality parses the parameters of one Accept-Language entry: "q=0.8" or
// nothing (q=1). A malformed or out-of-range weight disqualifies the entry.
func quality(params string) (float64, bool) {
	params = strings.TrimSpace(params)
	if params == "" {
		return 1, true
	}
	name, val, ok := strings.Cut(params, "=")
	if !ok || strings.TrimSpace(strings.ToLower(name)) != "q" {
		return 0, false
	}
	val = strings.TrimSpace(val)
	if len(val) > 5 {
		return 0, false
	}
	q, err := strconv.ParseFloat(val, 64)
	if err != nil || q < 0 || q > 1 {
		return 0, false
	}
	return q, true
}

// reasons map the service layer's English validation reasons to catalogue
// keys; submatches become the message's arguments. RE2 regexps: no ReDoS
// (ASVS v5.0.0-1.3.12).
var reasons = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^required$`), "reason.required"},
	{regexp.MustCompile(`^must be a valid email address$`), "reason.email"},
	{regexp.MustCompile(`^must be a valid phone number`), "reason.phone"},
	{regexp.MustCompile(`^must be a date YYYY-MM-DD$`), "reason.date"},
	{regexp.MustCompile(`^must be at most ([0-9]+) characters$`), "reason.max_chars"},
	{regexp.MustCompile(`^must be at least ([0-9]+) characters$`), "reason.min_chars"},
	{regexp.MustCompile(`^first_name or last_name is required$`), "reason.name_required"},
	{regexp.MustCompile(`^must not contain control characters$`), "reason.control"},
	{regexp.MustCompile(`^must be valid UTF-8$`), "reason.utf8"},
	{regexp.MustCompile(`^must be valid UTF-8 without control characters$`), "reason.password_chars"},
	{regexp.MustCompile(`^unknown company$`), "reason.unknown_company"},
	{regexp.MustCompile(`^unknown contact$`), "reason.unknown_contact"},
	{regexp.MustCompile(`^tags must not contain , or ;$`), "reason.tag_chars"},
	{regexp.MustCompile(`^at most ([0-9]+) tags$`), "reason.max_tags"},
	{regexp.MustCompile(`^must be one of (.+)$`), "reason.one_of"},
	{regexp.MustCompile(`^must be a language tag such as en or ru$`), "reason.language"},
	{regexp.MustCompile(`^is on a list of common or breached passwords`), "reason.password_common"},
	{regexp.MustCompile(`^is too repetitive or sequential`), "reason.password_repetitive"},
	{regexp.MustCompile(`^is built on your name or email; it needs at least ([0-9]+) other characters$`), "reason.password_personal"},
	{regexp.MustCompile(`^must be a positive id$`), "reason.positive_id"},
	{regexp.MustCompile(`^does not match the password$`), "reason.password_mismatch"},
	{regexp.MustCompile(`^already exists$`), "reason.taken"},
	{regexp.MustCompile(`^link the activity to a contact, a company or a deal$`), "reason.link_required"},
	{regexp.MustCompile(`^out of range$`), "reason.out_of_range"},
	{regexp.MustCompile(`^the setup code is wrong, expired or already used$`), "reason.setup_code"},
	{regexp.MustCompile(`^already a user$`), "reason.already_user"},
	{regexp.MustCompile(`^is already your address$`), "reason.same_email"},
	{regexp.MustCompile(`^does not match the contact's name$`), "reason.erase_mismatch"},
}

// Reason translates a field validation reason from the service layer into
// lang. Reasons it does not know are returned unchanged (in English).
func Reason(lang, reason string) string {
	for _, r := range reasons {
		m := r.re.FindStringSubmatch(reason)
		if m == nil {
			continue
		}
		args := make([]any, 0, len(m)-1)
		for _, s := range m[1:] {
			args = append(args, s)
		}
		return Lookup(lang, r.key, args...)
	}
	return reason
}
