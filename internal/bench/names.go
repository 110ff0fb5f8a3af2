package bench

import (
	"strconv"
	"strings"
)

// The vocabularies of the generated data set. Every person and company is
// made up; email domains use the reserved TLD .example (RFC 2606) so that no
// address can ever be delivered, and phone numbers come from the UK range
// reserved for drama (020 7946 0000-0999), which
// libphonenumber accepts as valid.

var ruMaleFirst = []string{
	"Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья",
	"Кирилл", "Михаил", "Никита", "Иван", "Егор", "Роман", "Павел", "Владимир",
	"Николай", "Олег", "Виктор", "Константин", "Юрий", "Григорий", "Денис", "Евгений",
	"Тимур", "Антон", "Вадим", "Борис", "Фёдор", "Глеб", "Станислав", "Леонид",
}

var ruFemaleFirst = []string{
	"Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Екатерина", "Ирина",
	"Светлана", "Юлия", "Анастасия", "Дарья", "Полина", "Ксения", "Виктория", "Алина",
	"Марина", "Вера", "Людмила", "Софья", "Галина", "Надежда", "Валерия", "Евгения",
	"Кристина", "Алёна", "Лариса", "Маргарита", "Оксана", "Зоя",
}

// ruSurnames are masculine; feminine derives the other form.
var ruSurnames = []string{
	"Иванов", "Петров", "Смирнов", "Кузнецов", "Соколов", "Попов", "Лебедев", "Козлов",
	"Новиков", "Морозов", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов",
	"Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров", "Михайлов", "Беляев", "Тарасов",
	"Белов", "Комаров", "Орлов", "Киселёв", "Макаров", "Андреев", "Ковалёв", "Ильин",
	"Гусев", "Титов", "Кузьмин", "Кудрявцев", "Баранов", "Куликов", "Алексеев", "Степанов",
	"Яковлев", "Сорокин", "Сергеев", "Романов", "Захаров", "Борисов", "Королёв", "Герасимов",
	"Пономарёв", "Григорьев", "Лазарев", "Медведев", "Ершов", "Никитин", "Соболев", "Поляков",
	"Цветков", "Данилов", "Жуков", "Фролов", "Журавлёв", "Николаев", "Крылов", "Максимов",
	"Осипов", "Белоусов", "Егоров", "Матвеев", "Калинин", "Антонов", "Тимофеев", "Филиппов",
	"Марков", "Миронов", "Александров", "Коновалов", "Казаков", "Денисов", "Громов", "Фомин",
	"Давыдов", "Мельников", "Щербаков", "Карпов", "Власов", "Тихонов", "Гаврилов", "Котов",
	"Быков", "Суворов", "Воронов", "Мартынов", "Назаров", "Некрасов", "Жданов", "Воронцов",
	"Дроздов", "Логинов", "Прохоров", "Нестеров", "Уваров", "Князев", "Самойлов", "Гордеев",
	"Вишневский", "Островский", "Покровский", "Лозинский", "Добровольский", "Трубецкой",
	"Шевченко", "Бондаренко", "Ковальчук", "Черных", "Седых", "Абрамов", "Широков", "Зуев",
}

var enMaleFirst = []string{
	"James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas",
	"Daniel", "Matthew", "Andrew", "Christopher", "George", "Oliver", "Henry", "Samuel",
	"Benjamin", "Edward", "Jack", "Harry", "Peter", "Mark", "Paul", "Simon", "Liam", "Noah",
}

var enFemaleFirst = []string{
	"Mary", "Emma", "Olivia", "Sophie", "Charlotte", "Emily", "Jessica", "Sarah",
	"Laura", "Hannah", "Grace", "Lucy", "Rachel", "Amelia", "Chloe", "Megan",
	"Katherine", "Elizabeth", "Alice", "Rebecca", "Helen", "Victoria", "Isla", "Freya",
}

var enSurnames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Taylor", "Davies", "Wilson",
	"Evans", "Thomas", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White",
	"Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke", "Jackson",
	"Turner", "Hill", "Moore", "Cooper", "Ward", "Morris", "King", "Baker",
	"Harrison", "Morgan", "Patel", "Young", "Allen", "Mitchell", "Anderson", "Carter",
	"Phillips", "Bennett", "Murphy", "Collins", "Stewart", "Price", "Reed", "Foster",
	"Hayes", "Sullivan", "O'Connor", "Fletcher", "Gray", "Palmer", "Lloyd", "Russell",
}

var ruCompanyRoots = []string{
	"Север", "Волга", "Урал", "Байкал", "Альфа", "Вектор", "Гранит", "Меридиан",
	"Орион", "Сигма", "Кедр", "Янтарь", "Рубин", "Аврора", "Полярис", "Сапфир",
	"Атлант", "Ладога", "Енисей", "Алтай", "Омега", "Прогресс", "Восход", "Горизонт",
	"Импульс", "Квант", "Магистраль", "Нева", "Ока", "Престиж",
}

var ruCompanyKinds = []string{"Строй", "Логистик", "Трейд", "Софт", "Пром", "Агро", "Мед", "Энерго", "Консалт", "Ритейл"}

var enCompanyRoots = []string{
	"Northwind", "Bluefield", "Ashford", "Redwood", "Kingsbridge", "Silverline", "Oakmont",
	"Harbour", "Westgate", "Brightwater", "Stonehill", "Riverside", "Falcon", "Meridian",
	"Summit", "Crown", "Lakeside", "Greenway", "Ironbridge", "Beacon",
}

// enCompanyKinds and industries go with ruCompanyKinds, index by index.
var enCompanyKinds = []string{"Construction", "Logistics", "Trading", "Software", "Engineering", "Foods",
	"Health", "Energy", "Consulting", "Retail"}

var industries = []string{"Construction", "Logistics", "Wholesale", "Software", "Manufacturing",
	"Agriculture", "Healthcare", "Energy", "Consulting", "Retail"}

var titles = []string{
	"CEO", "CFO", "CTO", "Head of Procurement", "Procurement Manager", "Sales Director",
	"Office Manager", "Chief Accountant", "IT Manager", "Operations Director",
	"Генеральный директор", "Финансовый директор", "Главный бухгалтер", "Менеджер по закупкам",
	"Руководитель отдела продаж", "Коммерческий директор", "Инженер", "Юрист",
}

var products = []string{"Annual licence", "Support contract", "Pilot project", "Hardware supply",
	"Consulting", "Training", "Лицензии", "Поставка оборудования", "Внедрение", "Обучение"}

var subjects = map[string][]string{
	"call":    {"Intro call", "Follow-up call", "Price discussion", "Звонок: уточнение требований", "Звонок по счёту"},
	"meeting": {"Demo", "Kick-off meeting", "Quarterly review", "Встреча в офисе клиента", "Презентация продукта"},
	"email":   {"Sent proposal", "Sent contract draft", "Answered questions", "Отправлено КП", "Отправлен договор"},
	"note":    {"Decision expected next month", "Budget approved", "Prefers email", "Ждёт согласования бюджета", "Важный клиент"},
}

var activityTypes = []string{"call", "meeting", "email", "note"}

var tagSet = []string{"lead", "customer", "partner", "vip", "newsletter", "event-2026", "reseller", "churn-risk"}

var emailDomains = []string{"mail.example", "corp.example", "post.example", "inbox.example", "yandex.example", "gmail.example"}

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
	'ч': "ch", 'ш': "sh", 'щ': "shch", 'ы': "y", 'э': "e", 'ю': "yu", 'я': "ya",
}

// translit turns a name into the lowercase ASCII of an email address:
// Соловьёв → solovev, O'Connor → oconnor.
func translit(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if t, ok := translitTable[r]; ok {
			b.WriteString(t)
		} else if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// person is a generated contact's identity.
type person struct {
	first, last, email string
	ru                 bool
}

// mix is SplitMix64's finaliser: a cheap, well-spread hash of a counter.
func mix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// personOf returns contact number seq of the data set made with seed: 60%
// Russian, 40% English names, half of them women, and a unique address
// that ends in the sequence number.
func personOf(seed uint64, seq int) person {
	h := mix(seed ^ mix(uint64(seq)))
	p := person{ru: h%100 < 60}
	female := h>>8&1 == 1
	fi, li := int(h>>16&0xffff), int(h>>32&0xffff)
	switch {
	case p.ru && female:
		p.first, p.last = ruFemaleFirst[fi%len(ruFemaleFirst)], feminine(ruSurnames[li%len(ruSurnames)])
	case p.ru:
		p.first, p.last = ruMaleFirst[fi%len(ruMaleFirst)], ruSurnames[li%len(ruSurnames)]
	case female:
		p.first, p.last = enFemaleFirst[fi%len(enFemaleFirst)], enSurnames[li%len(enSurnames)]
	default:
		p.first, p.last = enMaleFirst[fi%len(enMaleFirst)], enSurnames[li%len(enSurnames)]
	}
	domain := emailDomains[int(h>>48)%len(emailDomains)]
	p.email = translit(p.first) + "." + translit(p.last) + "." + strconv.Itoa(seq) + "@" + domain
	return p
}

// phoneOf returns a phone number in E.164 from the drama range.
func phoneOf(n int) string {
	return "+442079460" + strconv.Itoa(1000 + n%1000)[1:]
}
