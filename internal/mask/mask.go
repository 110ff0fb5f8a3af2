// Package mask shortens personal values to what a person needs to
// recognise one without learning it (ACL-3): the masks field-level
// security shows a role that may see that a value exists, but not the
// value. Every mask keeps little enough that it cannot be reversed by
// guessing from the rest of the record: a phone keeps its country code
// and last four digits, an email its first letter and its domain, a
// birthday its day and month, an address its city.
//
// Each function is total: any input, valid or not, gives a mask, and an
// empty value gives "". A value the function cannot parse is masked whole
// ("***"), never passed through.
package mask

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Hidden is the mask of a value of which nothing is kept.
const Hidden = "***"

// Phone masks an E.164 number: +79165551234 is "+7 *** ***-12-34".
func Phone(e164 string) string {
	if e164 == "" {
		return ""
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, e164)
	if len(digits) < 8 {
		return Hidden
	}
	cc := ""
	if n, err := phonenumbers.Parse(e164, "ZZ"); err == nil && n.GetCountryCode() != 0 {
		cc = "+" + itoa(int(n.GetCountryCode())) + " "
	}
	last := digits[len(digits)-4:]
	return cc + "*** ***-" + last[:2] + "-" + last[2:]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [8]byte
	i := len(b)
	for n > 0 && i > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Email masks an address: ivan.petrov@example.com is "i***@example.com".
func Email(addr string) string {
	if addr == "" {
		return ""
	}
	local, domain, ok := strings.Cut(addr, "@")
	r, _ := utf8.DecodeRuneInString(local)
	if !ok || local == "" || domain == "" || r == utf8.RuneError {
		return Hidden
	}
	return string(r) + "***@" + domain
}

// Birthday masks a date YYYY-MM-DD to its day and month, without the year,
// as ISO 8601 writes a date without a year: 1985-05-14 is "--05-14".
func Birthday(date string) string {
	if date == "" {
		return ""
	}
	if len(date) != 10 || date[4] != '-' || date[7] != '-' {
		return Hidden
	}
	return "--" + date[5:]
}

var (
	cityPrefix = regexp.MustCompile(`^(г\.|г |город |city of )`)
	// streetMark starts or ends the parts of an address that are finer
	// than a city: a street, a house, a flat, an office.
	streetMark     = regexp.MustCompile(`(?i)^(ул\.|улица|пр\.|пр-т|проспект|пер\.|переулок|ш\.|шоссе|б-р|бульвар|наб\.|пл\.|площадь|д\.|дом|к\.|корп|стр\.|кв\.|оф\.|apt|apartment|flat|suite|unit|floor|room|po box)|(?i)(street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?|court|ct\.?|place|pl\.?|square|way|boulevard|blvd\.?|terrace|close|house|building)$`)
	cyrillicStreet = regexp.MustCompile(`(?i)(^|\s)(ул\.|д\.|кв\.|пр-т|пер\.)`)
)

// Address masks an address to its city, and to nothing when it cannot
// tell which part is the city: "г. Москва, ул. Ленина, д. 5, кв. 10" and
// "Москва, ул. Ленина, д. 5, кв. 10" give "***, г. Москва" and "***,
// Москва"; "12 Baker Street, London" and "221B Baker Street, London, NW1
// 6XE" give "***, London"; "100 Main St, Apt 3, Springfield, IL 62701"
// gives "***, Springfield". A part is a city when it has letters, no
// digits and no mark of a street, house or flat; in a Russian address the
// city comes first, in the others last. A house number, a flat or a
// postcode never passes.
func Address(addr string) string {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return ""
	}
	parts := strings.Split(addr, ",")
	var cities []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if cityPrefix.MatchString(strings.ToLower(p)) && strings.IndexFunc(p, unicode.IsDigit) < 0 {
			return Hidden + ", " + p
		}
		if p == "" || strings.IndexFunc(p, unicode.IsDigit) >= 0 || strings.IndexFunc(p, unicode.IsLetter) < 0 || streetMark.MatchString(p) {
			continue
		}
		cities = append(cities, p)
	}
	if len(parts) < 2 || len(cities) == 0 {
		return Hidden
	}
	if cyrillicStreet.MatchString(addr) {
		return Hidden + ", " + cities[0]
	}
	return Hidden + ", " + cities[len(cities)-1]
}

// Text masks free text to its first letter: "Head of Sales" is "H***".
func Text(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return Hidden
	}
	return string(r) + Hidden
}
