package i18n

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/auth"
)

// verbs finds fmt verbs, so that a translation takes the same arguments.
var verbs = regexp.MustCompile(`%[a-z]`)

// TestCataloguesComplete: every key exists in every language, no message
// is empty, and each translation has the same fmt verbs as English (CORE-6).
func TestCataloguesComplete(t *testing.T) {
	t.Parallel()
	en := Keys("en")
	if len(en) == 0 {
		t.Fatal("the English catalogue is empty")
	}
	for _, lang := range Languages {
		keys := Keys(lang)
		for _, k := range en {
			if !slices.Contains(keys, k) {
				t.Errorf("%s: missing key %q", lang, k)
			}
		}
		for _, k := range keys {
			if !slices.Contains(en, k) {
				t.Errorf("%s: key %q is not in en", lang, k)
			}
			msg := catalogues[lang][k]
			if strings.TrimSpace(msg) == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
			if got, want := verbs.FindAllString(msg, -1), verbs.FindAllString(catalogues["en"][k], -1); !slices.Equal(got, want) {
				t.Errorf("%s: %q has verbs %v, en has %v", lang, k, got, want)
			}
		}
	}
}

// TestReasonKeysExist: every key Reason can produce is in the catalogues.
func TestReasonKeysExist(t *testing.T) {
	t.Parallel()
	for _, r := range reasons {
		for _, lang := range Languages {
			if _, ok := catalogues[lang][r.key]; !ok {
				t.Errorf("%s: reason key %q missing", lang, r.key)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "contacts.title", nil, "Contacts"},
		{"ru", "contacts.title", nil, "Контакты"},
		{"de", "contacts.title", nil, "Contacts"}, // unknown language → English
		{"en", "no.such.key", nil, "no.such.key"},
		{"en", "form.edit_title", []any{"Ivan"}, "Edit Ivan"},
		{"ru", "error.500.body", []any{"abc"}, "Произошла непредвиденная ошибка. Если она повторяется, сообщите администратору этот номер: abc."},
	}
	for _, tt := range tests {
		if got := Lookup(tt.lang, tt.key, tt.args...); got != tt.want {
			t.Errorf("Lookup(%q, %q) = %q, want %q", tt.lang, tt.key, got, tt.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("xx-YY;q=0.1, ", 500) + "ru"
	tests := []struct {
		name, user, header, want string
	}{
		{"default", "", "", "en"},
		{"user setting wins", "ru", "en-US,en;q=0.9", "ru"},
		{"user setting en wins", "en", "ru", "en"},
		{"unsupported user setting falls through", "de", "ru", "ru"},
		{"region subtag", "", "ru-RU", "ru"},
		{"underscore and case", "", "RU_ru", "ru"},
		{"q-values pick the best", "", "en;q=0.5, ru;q=0.8", "ru"},
		{"q-values pick the best, other order", "", "ru;q=0.3,en;q=0.7", "en"},
		{"tie goes to the first", "", "ru, en", "ru"},
		{"unsupported first", "", "de-DE,de;q=0.9,ru;q=0.8,en;q=0.7", "ru"},
		{"q=0 means not acceptable", "", "ru;q=0, en;q=0.1", "en"},
		{"only q=0", "", "ru;q=0", "en"},
		{"wildcard ignored", "", "*", "en"},
		{"spaces", "", "  ru-RU ; q=0.9 , en ; q=0.2", "ru"},
		{"garbage", "", "@@@;;;,,,=====", "en"},
		{"bad q skips the entry", "", "ru;q=abc, en;q=0.1", "en"},
		{"q above 1 skips the entry", "", "ru;q=2, en;q=0.5", "en"},
		{"negative q", "", "ru;q=-1", "en"},
		{"unknown parameter", "", "ru;level=1", "en"},
		{"binary junk", "", "\x00\xff\xfe;q=\x00", "en"},
		{"very long header is cut", "", long, "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate(tt.user, tt.header); got != tt.want {
				t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.user, tt.header, got, tt.want)
			}
		})
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang, in, want string
	}{
		{"ru", "required", "обязательное поле"},
		{"ru", "must be at most 100 characters", "не длиннее 100 символов"},
		{"ru", "must be at least 12 characters", "не короче 12 символов"},
		{"ru", "is built on your name or email; it needs at least 8 other characters", "построен на вашем имени или адресе почты; кроме них нужно ещё не меньше 8 символов"},
		{"ru", "is too repetitive or sequential (such as aaaa, 1234, abcabc); choose another", "слишком однообразный или последовательный (вроде aaaa, 1234, abcabc); выберите другой"},
		{"ru", "must be one of email, phone", "допустимые значения: email, phone"},
		{"ru", "must be a valid phone number (E.164, e.g. +79161234567)", "введите корректный номер телефона (E.164, например +79161234567)"},
		{"en", "first_name or last_name is required", "enter a first name or a last name"},
		{"en", "must be at most 100 characters", "must be at most 100 characters"},
		{"ru", "some new reason", "some new reason"}, // unknown: unchanged
	}
	for _, tt := range tests {
		if got := Reason(tt.lang, tt.in); got != tt.want {
			t.Errorf("Reason(%q, %q) = %q, want %q", tt.lang, tt.in, got, tt.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	f.Add("", "ru-RU,ru;q=0.9,en;q=0.8")
	f.Add("ru", "")
	f.Add("", ";q=,;;==")
	f.Fuzz(func(t *testing.T, user, header string) {
		got := Negotiate(user, header)
		if !slices.Contains(Languages, got) {
			t.Fatalf("Negotiate(%q, %q) = %q, not a supported language", user, header, got)
		}
	})
}

// TestPasswordReasonsTranslated: every reason the password rules give has
// a Russian message (the rules' messages are matched by pattern, so a
// reworded rule would otherwise fall back to English unnoticed).
func TestPasswordReasonsTranslated(t *testing.T) {
	t.Parallel()
	for _, err := range []error{auth.ErrPasswordTooShort, auth.ErrPasswordTooLong, auth.ErrPasswordCommon,
		auth.ErrPasswordInvalid, auth.ErrPasswordRepetitive, auth.ErrPasswordPersonal} {
		if got := Reason("ru", err.Error()); got == err.Error() {
			t.Errorf("no Russian for %q", err)
		}
	}
}
