package demo

// The vocabularies the generator picks from. Every name, company and address
// here is made up; domains use the reserved TLD .example (RFC 2606) so that no
// generated email address can ever be delivered, and phone numbers come from
// ranges reserved for fiction where the numbering plan has them (UK 020 7946
// 0xxx and friends, North American 555-01xx).

var ruMaleFirst = []string{
	"Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья",
	"Кирилл", "Михаил", "Никита", "Иван", "Егор", "Роман", "Павел", "Владимир",
	"Николай", "Олег", "Виктор", "Константин", "Юрий", "Григорий", "Денис", "Евгений",
	"Тимур", "Антон", "Вадим", "Борис", "Фёдор", "Глеб",
}

var ruFemaleFirst = []string{
	"Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Екатерина", "Ирина",
	"Светлана", "Юлия", "Анастасия", "Дарья", "Полина", "Ксения", "Виктория", "Алина",
	"Марина", "Вера", "Людмила", "Софья", "Галина", "Надежда", "Валерия", "Евгения",
	"Кристина", "Алёна", "Лариса", "Маргарита",
}

// ruSurnames are in the masculine form; feminine derives the other.
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
	"Шевченко", "Бондаренко", "Ковальчук", "Черных", "Седых",
}

var enMaleFirst = []string{
	"James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas",
	"Daniel", "Matthew", "Andrew", "Christopher", "George", "Oliver", "Henry", "Samuel",
	"Benjamin", "Edward", "Jack", "Harry", "Peter", "Mark", "Paul", "Simon",
}

var enFemaleFirst = []string{
	"Mary", "Emma", "Olivia", "Sophie", "Charlotte", "Emily", "Jessica", "Sarah",
	"Laura", "Hannah", "Grace", "Lucy", "Rachel", "Amelia", "Chloe", "Megan",
	"Katherine", "Elizabeth", "Alice", "Rebecca", "Helen", "Victoria",
}

var enSurnames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Taylor", "Davies", "Wilson",
	"Evans", "Thomas", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White",
	"Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke", "Jackson",
	"Turner", "Hill", "Moore", "Cooper", "Ward", "Morris", "King", "Baker",
	"Harrison", "Morgan", "Patel", "Young", "Allen", "Mitchell", "Anderson", "Carter",
	"Phillips", "Bennett", "Murphy", "Collins", "Stewart", "Price", "Reed", "Foster",
	"Hayes", "Sullivan", "O'Connor", "Fletcher",
}

// Russian company names are a root and a line of business.
var ruCompanyRoots = []string{
	"Север", "Волга", "Урал", "Байкал", "Альфа", "Вектор", "Гранит", "Меридиан",
	"Орион", "Сигма", "Кедр", "Янтарь", "Рубин", "Аврора", "Полярис", "Сапфир",
	"Атлант", "Ладога", "Енисей", "Алтай", "Омега", "Прогресс", "Восход", "Горизонт",
	"Импульс", "Квант", "Магистраль", "Нева", "Ока", "Престиж",
}

type business struct {
	suffix, industry string
}

var ruBusinesses = []business{
	{"Строй", "Строительство"},
	{"Логистик", "Логистика"},
	{"Трейд", "Оптовая торговля"},
	{"Софт", "Разработка ПО"},
	{"Агро", "Сельское хозяйство"},
	{"Мед", "Здравоохранение"},
	{"Энерго", "Энергетика"},
	{"Пром", "Промышленное производство"},
	{"Телеком", "Телекоммуникации"},
	{"Фарм", "Фармацевтика"},
	{"Металл", "Металлургия"},
	{"Консалт", "Консалтинг"},
	{"Инвест", "Финансовые услуги"},
	{"Транс", "Транспорт"},
	{"Ритейл", "Розничная торговля"},
}

var ruLegalForms = []string{"ООО", "ООО", "ООО", "АО", "АО", "ПАО"}

var enCompanyRoots = []string{
	"Northwind", "Bluefield", "Redwood", "Silverline", "Brightstone", "Oakridge",
	"Greenleaf", "Ironbridge", "Highgate", "Westbrook", "Clearwater", "Blackmoor",
	"Stonebridge", "Riverside", "Summit", "Harbour", "Kingsway", "Lakeside",
	"Fairfax", "Ashford", "Evergreen", "Crestview", "Pinehurst", "Maple & Finch",
}

var enBusinesses = []business{
	{"Logistics", "Logistics"},
	{"Software", "Software"},
	{"Consulting", "Consulting"},
	{"Manufacturing", "Manufacturing"},
	{"Health", "Healthcare"},
	{"Energy", "Energy"},
	{"Capital", "Financial services"},
	{"Foods", "Food & beverage"},
	{"Telecom", "Telecommunications"},
	{"Analytics", "Data & analytics"},
	{"Pharma", "Pharmaceuticals"},
	{"Construction", "Construction"},
	{"Retail", "Retail"},
	{"Media", "Media"},
}

// A city of a company: its phone area code and street names.
type ruCity struct {
	name, code string
	streets    []string
}

var ruCities = []ruCity{
	{"Москва", "495", []string{"ул. Тверская", "ул. Большая Якиманка", "Ленинский пр-т", "ул. Профсоюзная", "Пресненская наб.", "ул. Новый Арбат", "ул. Бауманская"}},
	{"Москва", "499", []string{"ул. Шаболовка", "Варшавское ш.", "ул. Садовая-Кудринская", "ул. Верхняя Красносельская"}},
	{"Санкт-Петербург", "812", []string{"Невский пр-т", "ул. Марата", "Московский пр-т", "наб. реки Фонтанки", "Лиговский пр-т"}},
	{"Екатеринбург", "343", []string{"ул. Малышева", "пр-т Ленина", "ул. 8 Марта"}},
	{"Новосибирск", "383", []string{"Красный пр-т", "ул. Кирова", "ул. Фрунзе"}},
	{"Казань", "843", []string{"ул. Баумана", "ул. Пушкина", "пр-т Победы"}},
	{"Краснодар", "861", []string{"ул. Красная", "ул. Северная", "ул. Уральская"}},
}

// Country codes of English-speaking companies and contacts.
const (
	countryUK = "UK"
	countryUS = "US"
)

// ukRanges are area codes with a 1000-number block Ofcom reserves for drama;
// the number is the prefix plus four digits.
var ukRanges = []struct{ city, prefix string }{
	{"London", "+44 20 7946 "},
	{"Leeds", "+44 113 496 "},
	{"Manchester", "+44 161 496 "},
	{"Bristol", "+44 117 496 "},
	{"Edinburgh", "+44 131 496 "},
	{"Belfast", "+44 28 9018 "},
}

var ukStreets = []string{"Kingsway", "High Street", "Station Road", "Victoria Street", "Queen Street", "Church Lane", "Mill Road", "Park Avenue"}

// usAreas are area codes; the number is 555-01xx, reserved for fiction.
var usAreas = []struct{ city, state, code, zip string }{
	{"New York", "NY", "212", "10001"},
	{"Boston", "MA", "617", "02110"},
	{"Chicago", "IL", "312", "60601"},
	{"San Francisco", "CA", "415", "94105"},
	{"Washington", "DC", "202", "20005"},
	{"Miami", "FL", "305", "33131"},
}

var usStreets = []string{"Market Street", "Main Street", "Oak Avenue", "Fifth Avenue", "Elm Street", "Washington Boulevard", "Lake Shore Drive"}

var ruTitles = []string{
	"Генеральный директор", "Коммерческий директор", "Финансовый директор", "Технический директор",
	"Руководитель отдела закупок", "Менеджер по закупкам", "Главный бухгалтер", "Руководитель ИТ-отдела",
	"Менеджер проектов", "Специалист по закупкам", "Директор по развитию", "Юрист",
	"Руководитель отдела продаж", "Офис-менеджер", "Инженер",
}

var enTitles = []string{
	"CEO", "Chief Operating Officer", "CFO", "CTO", "Head of Procurement", "Procurement Manager",
	"Finance Director", "IT Manager", "Project Manager", "Operations Director",
	"Business Development Manager", "Legal Counsel", "Head of Sales", "Office Manager", "Engineer",
}

var ruContactNotes = []string{
	"Предпочитает звонки после 15:00.",
	"Решения принимает вместе с финансовым директором.",
	"Просил присылать документы только в PDF.",
	"Познакомились на выставке «Иннопром».",
	"Лучше писать в мессенджер, на почту отвечает медленно.",
}

var enContactNotes = []string{
	"Prefers calls in the morning.",
	"Signs off on budgets together with the CFO.",
	"Asked for all documents as PDF.",
	"Met at the London Tech Week booth.",
	"Replies faster on the messenger than by email.",
}

// Tag vocabularies.
var (
	contactTags = []string{"vip", "partner", "lead", "customer", "newsletter", "churn-risk", "referral", "event"}
	companyTags = []string{"customer", "partner", "prospect", "key-account", "reseller"}
	dealTags    = []string{"new-business", "renewal", "upsell", "tender", "pilot"}
)

// Consent purposes and sources.
var (
	consentPurposes = []string{"marketing", "newsletter", "profiling"}
	ruSources       = []string{"веб-форма", "подписанный договор", "телефонный звонок", "выставка"}
	enSources       = []string{"web form", "signed contract", "phone call", "trade show"}
)

// Deal titles; the company name is appended.
var ruDealTitles = []string{
	"Поставка серверного оборудования", "Внедрение CRM", "Годовая лицензия", "Техническая поддержка на 2 года",
	"Пилотный проект", "Расширение лицензий", "Аудит информационной безопасности", "Обучение сотрудников",
	"Миграция в облако", "Интеграция с 1С", "Сервисный контракт", "Поставка рабочих станций",
}

var enDealTitles = []string{
	"Annual licence renewal", "CRM roll-out", "Pilot project", "Support contract, 2 years",
	"Security audit", "Additional seats", "Cloud migration", "Staff training",
	"Hardware refresh", "ERP integration", "Managed services", "Data platform proof of concept",
}

var ruDealNotes = []string{
	"Бюджет согласован на уровне директора, ждём одобрения закупок.",
	"Конкурирующее предложение от интегратора, важна цена.",
	"Нужна демонстрация для ИТ-отдела.",
	"Тендер на площадке, подача до конца месяца.",
}

var enDealNotes = []string{
	"Budget approved by the director; waiting for procurement.",
	"Competing offer from an integrator; price matters.",
	"The IT team wants a live demo first.",
	"Formal tender; bids are due at month end.",
}

// An activity template: a subject and a body.
type template struct{ subject, body string }

// Activity templates by language and type. intro templates open a history.
var activityTemplates = map[string]map[string][]template{
	"ru": {
		"intro": {
			{"Первый контакт", "Входящая заявка с сайта. Интересуются автоматизацией отдела продаж, просят презентацию."},
			{"Знакомство на выставке", "Обменялись контактами на стенде. Договорились созвониться на следующей неделе."},
			{"Рекомендация партнёра", "Контакт передан партнёром. Есть потребность в замене текущей системы."},
		},
		"call": {
			{"Звонок: уточнение требований", "Обсудили количество пользователей и сроки. Клиент просит прислать КП до пятницы."},
			{"Звонок по счёту", "Уточнили реквизиты для выставления счёта. Оплата ожидается в течение 10 дней."},
			{"Созвон по проекту", "Обсудили ход внедрения, замечаний нет. Следующий созвон через две недели."},
			{"Звонок: продление договора", "Клиент готов продлить договор, просит скидку за оплату на год вперёд."},
			{"Не дозвонились", "Трубку не взяли, оставили сообщение секретарю."},
			{"Звонок в поддержку", "Жалоба на медленную работу отчётов. Передали в техподдержку, обещали ответ завтра."},
		},
		"meeting": {
			{"Встреча в офисе клиента", "Провели демонстрацию системы для руководства. Вопросы по безопасности и хранению данных."},
			{"Видеовстреча: презентация решения", "Показали модуль сделок и отчёты. Клиент запросил тестовый доступ."},
			{"Переговоры по условиям", "Обсудили цену и порядок оплаты. Договорились о поэтапной оплате."},
			{"Рабочая встреча по внедрению", "Согласовали план миграции данных и список интеграций."},
		},
		"email": {
			{"Отправлено коммерческое предложение", "Направили КП с тремя вариантами лицензирования и сроками внедрения."},
			{"Письмо: договор на согласование", "Отправили проект договора юристам клиента."},
			{"Ответ на вопросы по безопасности", "Ответили на опросник службы безопасности клиента, приложили описание шифрования."},
			{"Письмо с итогами встречи", "Разослали участникам протокол встречи и список следующих шагов."},
			{"Приглашение на вебинар", "Пригласили на вебинар о новых возможностях отчётов."},
		},
		"note": {
			{"Заметка", "Клиент в отпуске до конца месяца, вернуться к вопросу после."},
			{"Смена ответственного", "У клиента новый руководитель закупок, нужно заново представить проект."},
			{"Заметка о бюджете", "Бюджет на следующий квартал утверждается в конце месяца."},
			{"Внутренняя заметка", "Клиент чувствителен к срокам, не обещать лишнего."},
		},
	},
	"en": {
		"intro": {
			{"First contact", "Inbound request from the website. Looking to automate their sales team; asked for a deck."},
			{"Met at trade show", "Swapped details at our booth. Agreed to have a call next week."},
			{"Partner referral", "Introduced by a partner. They need to replace their current system."},
		},
		"call": {
			{"Call: requirements", "Went through user count and timelines. They want a proposal by Friday."},
			{"Call about invoice", "Confirmed billing details. Payment expected within 10 days."},
			{"Project check-in", "Roll-out on track, no issues raised. Next check-in in two weeks."},
			{"Call: contract renewal", "Happy to renew; asking for a discount for paying a year upfront."},
			{"No answer", "Could not reach them; left a voicemail."},
			{"Support call", "Complained that reports are slow. Passed to support, reply promised tomorrow."},
		},
		"meeting": {
			{"On-site meeting", "Demoed the system to the leadership team. Questions about security and data residency."},
			{"Video call: solution demo", "Showed the deals module and reports. They asked for a trial account."},
			{"Commercial negotiation", "Discussed price and payment terms. Agreed on staged payments."},
			{"Implementation workshop", "Agreed the data migration plan and the list of integrations."},
		},
		"email": {
			{"Proposal sent", "Sent a proposal with three licensing options and a roll-out schedule."},
			{"Email: contract for review", "Sent the draft contract to their legal team."},
			{"Security questionnaire answered", "Answered their security questionnaire and attached the encryption overview."},
			{"Meeting follow-up", "Sent the minutes and next steps to everyone who attended."},
			{"Webinar invitation", "Invited them to the webinar on the new reporting features."},
		},
		"note": {
			{"Note", "Contact is on holiday until month end; follow up afterwards."},
			{"New decision maker", "They have a new head of procurement; we need to re-introduce the project."},
			{"Budget note", "Next quarter's budget is approved at the end of the month."},
			{"Internal note", "Deadlines matter a lot to them; do not over-promise."},
		},
	},
}

// Task templates by language.
var taskTemplates = map[string][]template{
	"ru": {
		{"Подготовить коммерческое предложение", "Три варианта лицензирования, сроки внедрения."},
		{"Перезвонить клиенту", "Уточнить решение по бюджету."},
		{"Отправить договор на подпись", ""},
		{"Назначить демонстрацию", "Согласовать время с ИТ-отделом клиента."},
		{"Выставить счёт", "Реквизиты в карточке компании."},
		{"Ответить на обращение в поддержку", "Проблема с выгрузкой отчётов."},
		{"Подготовить отчёт по проекту", ""},
		{"Проверить оплату", ""},
	},
	"en": {
		{"Prepare proposal", "Three licensing options and a roll-out schedule."},
		{"Call back", "Check whether the budget was approved."},
		{"Send contract for signature", ""},
		{"Schedule a demo", "Agree a time with their IT team."},
		{"Issue invoice", "Billing details are on the company record."},
		{"Answer support ticket", "Report export fails for large date ranges."},
		{"Prepare project status report", ""},
		{"Check payment received", ""},
	},
}
