package mail

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// The kinds of message Custos sends; each has a template per language.
const (
	KindInvite          = "invite"           // an invitation link to a new user
	KindReset           = "reset"            // a password-reset link
	KindPasswordChanged = "password_changed" // the notice after a password change
	KindEmailConfirm    = "email_confirm"    // a confirmation link to a new address
	KindEmailNotice     = "email_notice"     // the notice to the old address
	KindEnrol           = "enrol"            // a link to set up a second factor
)

// Data fills a message template. Fields a kind does not use stay empty.
type Data struct {
	Name     string        // the recipient's display name
	Actor    string        // who caused the message (the inviting admin)
	Role     string        // the role the invitation grants, translated
	Link     string        // the one-time link
	ValidFor time.Duration // how long Link works
	When     time.Time     // when the change happened or was requested
	NewEmail string        // the requested new address
}

//go:embed templates/*.txt
var templateFS embed.FS

// languages are the template languages; the first is the fallback.
var languages = []string{"en", "ru"}

// kinds lists every message kind, so that a missing template fails at start.
var kinds = []string{KindInvite, KindReset, KindPasswordChanged, KindEmailConfirm, KindEmailNotice, KindEnrol}

// templates maps "kind.lang" to its parsed template.
var templates = mustParse()

func mustParse() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, k := range kinds {
		for _, lang := range languages {
			name := k + "." + lang
			t := template.Must(template.New(name).Option("missingkey=error").ParseFS(templateFS, "templates/"+name+".txt"))
			if t.Lookup("subject") == nil || t.Lookup("body") == nil {
				panic("mail: template " + name + " lacks a subject or a body")
			}
			out[name] = t
		}
	}
	return out
}

// view is what the templates see: Data with ValidFor and When already
// written out in the message's language.
type view struct {
	Data
	ValidFor string
	When     string
}

// Compose renders the message of kind in lang (English when lang is not
// supported) for the recipient to.
func Compose(kind, lang, to string, d Data) (Message, error) {
	t := templates[kind+"."+lang]
	if t == nil {
		lang = languages[0]
		t = templates[kind+"."+lang]
	}
	if t == nil {
		return Message{}, fmt.Errorf("mail: no template for %q", kind)
	}
	v := view{Data: d, ValidFor: formatDuration(lang, d.ValidFor), When: formatTime(lang, d.When)}
	var subj, body bytes.Buffer
	if err := t.ExecuteTemplate(&subj, "subject", v); err != nil {
		return Message{}, fmt.Errorf("mail: %s subject: %w", kind, err)
	}
	if err := t.ExecuteTemplate(&body, "body", v); err != nil {
		return Message{}, fmt.Errorf("mail: %s body: %w", kind, err)
	}
	return Message{To: to, Kind: kind, Subject: strings.TrimSpace(subj.String()),
		Body: strings.TrimLeft(body.String(), "\n")}, nil
}

// formatTime writes t for people, in UTC.
func formatTime(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if lang == "ru" {
		return t.UTC().Format("02.01.2006 в 15:04 UTC")
	}
	return t.UTC().Format("2 January 2006 at 15:04 UTC")
}

// formatDuration writes a validity period in whole hours or minutes.
func formatDuration(lang string, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d >= time.Hour && d%time.Hour == 0 {
		n := int(d / time.Hour)
		if lang == "ru" {
			return fmt.Sprintf("%d %s", n, ruPlural(n, "час", "часа", "часов"))
		}
		return fmt.Sprintf("%d %s", n, enPlural(n, "hour", "hours"))
	}
	n := int((d + time.Minute - 1) / time.Minute)
	if lang == "ru" {
		return fmt.Sprintf("%d %s", n, ruPlural(n, "минуту", "минуты", "минут"))
	}
	return fmt.Sprintf("%d %s", n, enPlural(n, "minute", "minutes"))
}

func enPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ruPlural picks the Russian form for n: 1, 21 → one; 2–4, 22–24 → few;
// 5–20, 25–30 → many.
func ruPlural(n int, one, few, many string) string {
	n10, n100 := n%10, n%100
	switch {
	case n10 == 1 && n100 != 11:
		return one
	case n10 >= 2 && n10 <= 4 && (n100 < 12 || n100 > 14):
		return few
	default:
		return many
	}
}
