package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// seed1 and seed2 fix the content of the demo data set.
const (
	seed1 = 0xC057_05DE_E0D0_2025
	seed2 = 0x5EED
)

// generator makes up demo content. All randomness is the fixed-seed rng,
// so the same calls in the same order give the same data; dates are
// relative to now.
type generator struct {
	rng    *rand.Rand
	now    time.Time
	emails map[string]bool // contact addresses handed out, to keep them unique
}

func newGenerator(now time.Time) *generator {
	return &generator{rng: rand.New(rand.NewPCG(seed1, seed2)), now: now, emails: map[string]bool{}}
}

func pick[T any](g *generator, list []T) T { return list[g.rng.IntN(len(list))] }

// chance reports true with probability p.
func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// between returns an int in [lo, hi].
func (g *generator) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// weighted returns an index drawn with the given weights.
func (g *generator) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// sample returns k distinct elements of list in random order.
func sample[T any](g *generator, list []T, k int) []T {
	idx := g.rng.Perm(len(list))[:k]
	out := make([]T, k)
	for i, j := range idx {
		out[i] = list[j]
	}
	return out
}

// person is a generated name.
type person struct {
	first, last string
	lang        string // "ru" or "en"
}

func (g *generator) person(lang string) person {
	female := g.chance(0.5)
	if lang == "ru" {
		if female {
			return person{pick(g, ruFemaleFirst), feminine(pick(g, ruSurnames)), "ru"}
		}
		return person{pick(g, ruMaleFirst), pick(g, ruSurnames), "ru"}
	}
	if female {
		return person{pick(g, enFemaleFirst), pick(g, enSurnames), "en"}
	}
	return person{pick(g, enMaleFirst), pick(g, enSurnames), "en"}
}

// feminine returns the feminine form of a Russian surname: Петров →
// Петрова, Вишневский → Вишневская, Трубецкой → Трубецкая; Черных and
// Шевченко do not change.
func feminine(s string) string {
	switch {
	case strings.HasSuffix(s, "ский"), strings.HasSuffix(s, "цкий"):
		return strings.TrimSuffix(s, "ий") + "ая"
	case strings.HasSuffix(s, "ой"):
		return strings.TrimSuffix(s, "ой") + "ая"
	case strings.HasSuffix(s, "ов"), strings.HasSuffix(s, "ев"), strings.HasSuffix(s, "ёв"),
		strings.HasSuffix(s, "ин"), strings.HasSuffix(s, "ын"):
		return s + "а"
	}
	return s
}

var translitTable = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh",
	'з': "z", 'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o",
	'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts",
	'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu",
	'я': "ya",
}

// translit turns a name into the lowercase ASCII form used in email
// addresses: Соловьёв → solovyev, Наталья → natalya, O'Connor → oconnor.
func translit(s string) string {
	rs := []rune(strings.ToLower(s))
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == 'ь' || r == 'ъ':
			if i+1 < len(rs) && strings.ContainsRune("еёи", rs[i+1]) {
				b.WriteString("y")
			}
		case translitTable[r] != "":
			b.WriteString(translitTable[r])
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// email returns a unique address for p at domain, in one of the usual
// corporate or personal shapes.
func (g *generator) email(p person, domain string, personal bool) string {
	first, last := translit(p.first), translit(p.last)
	var local string
	switch n := g.rng.IntN(10); {
	case personal && n < 4:
		local = first + "." + last + strconv.Itoa(g.between(70, 99))
	case n < 6:
		local = first + "." + last
	case n < 8:
		local = first[:1] + "." + last
	default:
		local = first[:1] + last
	}
	addr := local + "@" + domain
	for i := 2; g.emails[addr]; i++ {
		addr = local + strconv.Itoa(i) + "@" + domain
	}
	g.emails[addr] = true
	return addr
}

// ruMobile returns a Russian mobile number in the usual written form,
// +7 9xx xxx-xx-xx.
func (g *generator) ruMobile() string {
	return fmt.Sprintf("+7 9%02d %03d-%02d-%02d", g.rng.IntN(100), g.rng.IntN(1000), g.rng.IntN(100), g.rng.IntN(100))
}

// ruLandline returns a number in a city's area code.
func (g *generator) ruLandline(c ruCity) string {
	return fmt.Sprintf("+7 (%s) %03d-%02d-%02d", c.code, g.between(200, 999), g.rng.IntN(100), g.rng.IntN(100))
}

// ukNumber returns a number from a drama block.
func (g *generator) ukNumber(i int) string {
	return fmt.Sprintf("%s%04d", ukRanges[i].prefix, g.rng.IntN(1000))
}

// usNumber returns a 555-01xx number.
func (g *generator) usNumber(i int) string {
	return fmt.Sprintf("+1 (%s) 555-01%02d", usAreas[i].code, g.rng.IntN(100))
}

// slug turns a company name into a domain label.
func slug(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, " & ", "-"), " ", "-")
	return strings.Trim(translit(s), "-")
}

// dateOnly formats t as YYYY-MM-DD.
func dateOnly(t time.Time) string { return t.Format(time.DateOnly) }

// at returns a time on day, in zone, at a working hour between hourLo and
// hourHi.
func (g *generator) at(day time.Time, zone *time.Location, hourLo, hourHi int) time.Time {
	d := day.In(zone)
	return time.Date(d.Year(), d.Month(), d.Day(), g.between(hourLo, hourHi), 5*g.rng.IntN(12), 0, 0, zone)
}

// zones of the contacts' local time, for believable working hours.
var (
	zoneMSK    = time.FixedZone("MSK", 3*3600)
	zoneLondon = time.FixedZone("GMT", 0)
	zoneUSEast = time.FixedZone("EST", -5*3600)
)

// amount returns a deal amount as a decimal string in currency.
func (g *generator) amount(currency string) string {
	var minor int64
	if currency == "RUB" {
		minor = int64(g.between(15, 1200)) * 10_000_00 // 150 000 .. 12 000 000 RUB
		if g.chance(0.3) {
			minor += int64(g.rng.IntN(1000)) * 100_00
		}
	} else {
		minor = int64(g.between(5, 250)) * 500_00 // 2 500 .. 125 000
		if g.chance(0.2) {
			minor += int64(g.rng.IntN(100_00))
		}
	}
	s := strconv.FormatInt(minor/100, 10)
	if frac := minor % 100; frac != 0 || g.chance(0.5) {
		s += fmt.Sprintf(".%02d", frac)
	}
	return s
}

// birthday returns a date of birth of an adult.
func (g *generator) birthday() string {
	d := time.Date(g.between(1958, 2000), time.Month(g.between(1, 12)), g.between(1, 28), 0, 0, 0, 0, time.UTC)
	return dateOnly(d)
}
