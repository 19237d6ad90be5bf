package gen

import (
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/brianvoe/gofakeit/v7/data"
	"golang.org/x/text/unicode/norm"
)

// A name as a person writes it (display) and as it goes into a login (key:
// lower-case ASCII letters and hyphens, unique within its pool, so that
// first.last is unique under Okta's comparison without remembering logins).
type name struct {
	display string
	key     string
}

// Names gofakeit does not have: accents and other letters outside ASCII, so
// that displayName and friends sometimes need UTF-8 (and base64 in LDIF).
var accentedFirst = []string{
	"José", "María", "François", "Zoë", "Renée", "Jürgen", "Søren", "Łukasz",
	"Ángel", "Inés", "Björn", "Chloé", "Hélène", "Agnès", "Léa", "Noémie",
	"Raphaël", "Jérôme", "Andrés", "Joaquín", "Sebastián", "Martín", "Iñaki",
	"Begoña", "João", "Gonçalo", "Müge", "Çağla", "Şule", "Ömer", "Göran",
	"Åsa", "Mårten", "Jiří", "Tomáš", "Zoltán", "Ágnes", "Dóra", "Siobhán",
	"Seán", "Bartłomiej", "Małgorzata", "Anaïs", "Maëlle", "Loïc", "Mónica",
	"Verónica", "Lúcia", "Frédéric", "Geneviève", "Cécile", "Ólafur", "Þóra",
	"Dagný", "Benoît", "Ludovic", "Anne-Sophie", "Jean-Luc", "Zsófia", "Kübra",
}

var accentedLast = []string{
	"Müller", "Schröder", "Gómez", "Núñez", "García", "Pérez", "Fernández",
	"Martínez", "Rodríguez", "López", "Sánchez", "González", "Hernández",
	"Jiménez", "Muñoz", "Lefèvre", "Côté", "Gagné", "Bélanger", "Lévesque",
	"Dvořák", "Čapek", "Novák", "Kowalczyk", "Wiśniewski", "Wójcik",
	"Łukaszewicz", "Ångström", "Öberg", "Søndergaard", "Jørgensen",
	"Østergaard", "Nguyễn", "Trần", "Phạm", "Yılmaz", "Öztürk", "Şahin",
	"Çelik", "O'Brien", "O'Connor", "D'Angelo", "da Silva", "dos Santos",
	"van der Berg", "de la Cruz", "Smith-Jones", "García-Márquez", "Gonçalves",
	"Großmann", "Weiß", "Strauß", "Kovačević", "Petrović", "Jovanović",
	"Horváth", "Szabó", "Tóth", "Lindqvist", "Håkansson",
}

// loginPart turns a name into the part of a login it gives: accents
// dropped, letters that do not decompose spelled out, lower case, nothing
// but a–z and inner hyphens.
func loginPart(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		switch r {
		case 'ø':
			b.WriteByte('o')
		case 'ł':
			b.WriteByte('l')
		case 'ß':
			b.WriteString("ss")
		case 'æ':
			b.WriteString("ae")
		case 'œ':
			b.WriteString("oe")
		case 'đ', 'ð':
			b.WriteByte('d')
		case 'þ':
			b.WriteString("th")
		case 'ı':
			b.WriteByte('i')
		case '-':
			b.WriteByte('-')
		default:
			if r >= 'a' && r <= 'z' {
				b.WriteRune(r)
			}
		}
	}
	k := strings.Trim(b.String(), "-")
	for strings.Contains(k, "--") {
		k = strings.ReplaceAll(k, "--", "-")
	}
	return k
}

// namePool keeps the first name of each login key, in list order.
func namePool(lists ...[]string) []name {
	seen := make(map[string]bool)
	var out []name
	for _, list := range lists {
		for _, s := range list {
			k := loginPart(s)
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, name{display: s, key: k})
		}
	}
	return out
}

// The departments of the synthetic company.
var departments = []string{
	"Engineering", "Sales", "Marketing", "Finance", "Human Resources", "Legal",
	"Operations", "Customer Support", "Product", "IT", "Facilities",
	"Procurement", "Research & Development", "Security", "Executive Office",
}

type weighted struct {
	value  string
	weight int
}

var employeeTypes = []weighted{
	{"Employee", 76}, {"Contractor", 14}, {"Temporary", 4}, {"Intern", 3}, {"Vendor", 3},
}

type city struct {
	name, region, tz string
	locale, lang     string // override the country's (Québec speaks French)
}

// A country of the synthetic company, with what makes its users' values
// consistent: language, locale, time zones, phone and postal formats.
// Templates: '#' is any digit, 'N' a digit from 2 to 9, 'A' a capital letter.
type country struct {
	code     string
	weight   int
	lang     string // preferredLanguage, a BCP 47 tag
	locale   string // ll_CC
	cities   []city
	landline []string
	mobile   []string
	postal   []string
	streets  []string // empty: English-style street names from gofakeit
	style    streetStyle
}

type streetStyle int

const (
	numberFirst      streetStyle = iota // 1234 Brookville Road
	numberAfter                         // Hauptstraße 12
	numberAfterComma                    // Calle Mayor, 12
	japanese                            // 1-2-3 Shibuya
)

var countries = []country{
	{code: "US", weight: 38, lang: "en-US", locale: "en_US",
		cities: []city{
			{name: "New York", region: "NY", tz: "America/New_York"},
			{name: "Los Angeles", region: "CA", tz: "America/Los_Angeles"},
			{name: "Chicago", region: "IL", tz: "America/Chicago"},
			{name: "Houston", region: "TX", tz: "America/Chicago"},
			{name: "Phoenix", region: "AZ", tz: "America/Phoenix"},
			{name: "Seattle", region: "WA", tz: "America/Los_Angeles"},
			{name: "Denver", region: "CO", tz: "America/Denver"},
			{name: "Boston", region: "MA", tz: "America/New_York"},
			{name: "Atlanta", region: "GA", tz: "America/New_York"},
			{name: "Miami", region: "FL", tz: "America/New_York"},
			{name: "Detroit", region: "MI", tz: "America/Detroit"},
			{name: "Austin", region: "TX", tz: "America/Chicago"},
			{name: "San Francisco", region: "CA", tz: "America/Los_Angeles"},
			{name: "Minneapolis", region: "MN", tz: "America/Chicago"},
			{name: "Indianapolis", region: "IN", tz: "America/Indiana/Indianapolis"},
			{name: "Anchorage", region: "AK", tz: "America/Anchorage"},
			{name: "Honolulu", region: "HI", tz: "Pacific/Honolulu"},
			{name: "Salt Lake City", region: "UT", tz: "America/Denver"},
			{name: "Portland", region: "OR", tz: "America/Los_Angeles"},
			{name: "Raleigh", region: "NC", tz: "America/New_York"},
		},
		landline: []string{"+1 N##-N##-####", "(N##) N##-####", "+1N##N######", "N##.N##.####"},
		mobile:   []string{"+1 N##-N##-####", "(N##) N##-####", "+1N##N######"},
		postal:   []string{"#####", "#####-####"},
	},
	{code: "GB", weight: 10, lang: "en-GB", locale: "en_GB",
		cities: []city{
			{name: "London", region: "England", tz: "Europe/London"},
			{name: "Manchester", region: "England", tz: "Europe/London"},
			{name: "Birmingham", region: "England", tz: "Europe/London"},
			{name: "Leeds", region: "England", tz: "Europe/London"},
			{name: "Bristol", region: "England", tz: "Europe/London"},
			{name: "Edinburgh", region: "Scotland", tz: "Europe/London"},
			{name: "Glasgow", region: "Scotland", tz: "Europe/London"},
			{name: "Cardiff", region: "Wales", tz: "Europe/London"},
			{name: "Belfast", region: "Northern Ireland", tz: "Europe/London"},
		},
		landline: []string{"+44 20 #### ####", "020 #### ####", "+44 161 ### ####", "0113 ### ####"},
		mobile:   []string{"+44 7### ######", "07### ######", "+447#########"},
		postal:   []string{"A# #AA", "AA# #AA", "AA## #AA"},
	},
	{code: "DE", weight: 10, lang: "de-DE", locale: "de_DE",
		cities: []city{
			{name: "Berlin", region: "Berlin", tz: "Europe/Berlin"},
			{name: "München", region: "Bayern", tz: "Europe/Berlin"},
			{name: "Hamburg", region: "Hamburg", tz: "Europe/Berlin"},
			{name: "Köln", region: "Nordrhein-Westfalen", tz: "Europe/Berlin"},
			{name: "Frankfurt am Main", region: "Hessen", tz: "Europe/Berlin"},
			{name: "Stuttgart", region: "Baden-Württemberg", tz: "Europe/Berlin"},
			{name: "Düsseldorf", region: "Nordrhein-Westfalen", tz: "Europe/Berlin"},
			{name: "Leipzig", region: "Sachsen", tz: "Europe/Berlin"},
		},
		landline: []string{"+49 30 #######", "030 #######", "+49 89 ########", "089 ########", "+4969#######"},
		mobile:   []string{"+49 15# ########", "015# ########", "+4917#########"},
		postal:   []string{"#####"},
		streets:  []string{"Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg", "Lindenallee", "Goethestraße", "Friedrichstraße", "Am Markt", "Rosenweg", "Kastanienallee"},
		style:    numberAfter,
	},
	{code: "FR", weight: 8, lang: "fr-FR", locale: "fr_FR",
		cities: []city{
			{name: "Paris", region: "Île-de-France", tz: "Europe/Paris"},
			{name: "Lyon", region: "Auvergne-Rhône-Alpes", tz: "Europe/Paris"},
			{name: "Marseille", region: "Provence-Alpes-Côte d'Azur", tz: "Europe/Paris"},
			{name: "Toulouse", region: "Occitanie", tz: "Europe/Paris"},
			{name: "Nantes", region: "Pays de la Loire", tz: "Europe/Paris"},
			{name: "Lille", region: "Hauts-de-France", tz: "Europe/Paris"},
			{name: "Bordeaux", region: "Nouvelle-Aquitaine", tz: "Europe/Paris"},
		},
		landline: []string{"+33 1 ## ## ## ##", "01 ## ## ## ##", "+33 4 ## ## ## ##", "04 ## ## ## ##"},
		mobile:   []string{"+33 6 ## ## ## ##", "06 ## ## ## ##", "+337########"},
		postal:   []string{"#####"},
		streets:  []string{"rue de la Paix", "avenue des Champs-Élysées", "boulevard Haussmann", "rue Victor Hugo", "place de la République", "rue du Faubourg Saint-Honoré", "quai de la Tournelle", "rue Lafayette"},
		style:    numberFirst,
	},
	{code: "CA", weight: 6, lang: "en-CA", locale: "en_CA",
		cities: []city{
			{name: "Toronto", region: "ON", tz: "America/Toronto"},
			{name: "Ottawa", region: "ON", tz: "America/Toronto"},
			{name: "Montréal", region: "QC", tz: "America/Toronto", locale: "fr_CA", lang: "fr-CA"},
			{name: "Québec", region: "QC", tz: "America/Toronto", locale: "fr_CA", lang: "fr-CA"},
			{name: "Vancouver", region: "BC", tz: "America/Vancouver"},
			{name: "Calgary", region: "AB", tz: "America/Edmonton"},
			{name: "Winnipeg", region: "MB", tz: "America/Winnipeg"},
			{name: "Halifax", region: "NS", tz: "America/Halifax"},
		},
		landline: []string{"+1 N##-N##-####", "(N##) N##-####", "+1N##N######"},
		mobile:   []string{"+1 N##-N##-####", "(N##) N##-####"},
		postal:   []string{"A#A #A#"},
	},
	{code: "ES", weight: 4, lang: "es-ES", locale: "es_ES",
		cities: []city{
			{name: "Madrid", region: "Comunidad de Madrid", tz: "Europe/Madrid"},
			{name: "Barcelona", region: "Cataluña", tz: "Europe/Madrid"},
			{name: "Valencia", region: "Comunidad Valenciana", tz: "Europe/Madrid"},
			{name: "Sevilla", region: "Andalucía", tz: "Europe/Madrid"},
			{name: "Bilbao", region: "País Vasco", tz: "Europe/Madrid"},
			{name: "Las Palmas de Gran Canaria", region: "Canarias", tz: "Atlantic/Canary"},
		},
		landline: []string{"+34 91 ### ## ##", "91 ### ## ##", "+34 93 ### ## ##"},
		mobile:   []string{"+34 6## ### ###", "6## ### ###", "+346########"},
		postal:   []string{"#####"},
		streets:  []string{"Calle Mayor", "Gran Vía", "Paseo de la Castellana", "Avenida de América", "Calle de Alcalá", "Rambla de Catalunya"},
		style:    numberAfterComma,
	},
	{code: "IT", weight: 4, lang: "it-IT", locale: "it_IT",
		cities: []city{
			{name: "Roma", region: "Lazio", tz: "Europe/Rome"},
			{name: "Milano", region: "Lombardia", tz: "Europe/Rome"},
			{name: "Torino", region: "Piemonte", tz: "Europe/Rome"},
			{name: "Napoli", region: "Campania", tz: "Europe/Rome"},
			{name: "Bologna", region: "Emilia-Romagna", tz: "Europe/Rome"},
		},
		landline: []string{"+39 02 #### ####", "02 #### ####", "+39 06 ########"},
		mobile:   []string{"+39 3## ### ####", "3## ### ####"},
		postal:   []string{"#####"},
		streets:  []string{"Via Roma", "Corso Italia", "Via Garibaldi", "Piazza del Duomo", "Via Giuseppe Verdi", "Viale Europa"},
		style:    numberAfterComma,
	},
	{code: "NL", weight: 3, lang: "nl-NL", locale: "nl_NL",
		cities: []city{
			{name: "Amsterdam", region: "Noord-Holland", tz: "Europe/Amsterdam"},
			{name: "Rotterdam", region: "Zuid-Holland", tz: "Europe/Amsterdam"},
			{name: "Utrecht", region: "Utrecht", tz: "Europe/Amsterdam"},
			{name: "Eindhoven", region: "Noord-Brabant", tz: "Europe/Amsterdam"},
		},
		landline: []string{"+31 20 ### ####", "020 ### ####", "+3110#######"},
		mobile:   []string{"+31 6 ########", "06 ########", "06-########"},
		postal:   []string{"#### AA"},
		streets:  []string{"Kerkstraat", "Dorpsstraat", "Stationsweg", "Keizersgracht", "Prinsengracht", "Molenweg"},
		style:    numberAfter,
	},
	{code: "SE", weight: 2, lang: "sv-SE", locale: "sv_SE",
		cities: []city{
			{name: "Stockholm", region: "Stockholms län", tz: "Europe/Stockholm"},
			{name: "Göteborg", region: "Västra Götalands län", tz: "Europe/Stockholm"},
			{name: "Malmö", region: "Skåne län", tz: "Europe/Stockholm"},
		},
		landline: []string{"+46 8 ### ### ##", "08-### ### ##", "+468########"},
		mobile:   []string{"+46 7# ### ## ##", "07#-### ## ##"},
		postal:   []string{"### ##"},
		streets:  []string{"Storgatan", "Drottninggatan", "Kungsgatan", "Sveavägen", "Götgatan", "Linnégatan"},
		style:    numberAfter,
	},
	{code: "AU", weight: 4, lang: "en-AU", locale: "en_AU",
		cities: []city{
			{name: "Sydney", region: "NSW", tz: "Australia/Sydney"},
			{name: "Melbourne", region: "VIC", tz: "Australia/Melbourne"},
			{name: "Brisbane", region: "QLD", tz: "Australia/Brisbane"},
			{name: "Perth", region: "WA", tz: "Australia/Perth"},
			{name: "Adelaide", region: "SA", tz: "Australia/Adelaide"},
		},
		landline: []string{"+61 2 #### ####", "(02) #### ####", "+61 3 #### ####"},
		mobile:   []string{"+61 4## ### ###", "04## ### ###"},
		postal:   []string{"####"},
	},
	{code: "IN", weight: 5, lang: "en-IN", locale: "en_IN",
		cities: []city{
			{name: "Bengaluru", region: "Karnataka", tz: "Asia/Kolkata"},
			{name: "Mumbai", region: "Maharashtra", tz: "Asia/Kolkata"},
			{name: "Pune", region: "Maharashtra", tz: "Asia/Kolkata"},
			{name: "Hyderabad", region: "Telangana", tz: "Asia/Kolkata"},
			{name: "Chennai", region: "Tamil Nadu", tz: "Asia/Kolkata"},
		},
		landline: []string{"+91 80 #### ####", "080 #### ####", "+91 22 #### ####"},
		mobile:   []string{"+91 9#### #####", "+919#########", "09#########"},
		postal:   []string{"5#####", "4#####"},
	},
	{code: "JP", weight: 2, lang: "ja-JP", locale: "ja_JP",
		cities: []city{
			{name: "Tokyo", region: "Tokyo", tz: "Asia/Tokyo"},
			{name: "Osaka", region: "Osaka", tz: "Asia/Tokyo"},
			{name: "Yokohama", region: "Kanagawa", tz: "Asia/Tokyo"},
		},
		landline: []string{"+81 3-####-####", "03-####-####", "+81 6-####-####"},
		mobile:   []string{"+81 90-####-####", "090-####-####", "080-####-####"},
		postal:   []string{"###-####"},
		streets:  []string{"Marunouchi", "Shibuya", "Shinjuku", "Umeda", "Minato Mirai", "Roppongi"},
		style:    japanese,
	},
	{code: "BR", weight: 3, lang: "pt-BR", locale: "pt_BR",
		cities: []city{
			{name: "São Paulo", region: "SP", tz: "America/Sao_Paulo"},
			{name: "Rio de Janeiro", region: "RJ", tz: "America/Sao_Paulo"},
			{name: "Belo Horizonte", region: "MG", tz: "America/Sao_Paulo"},
			{name: "Porto Alegre", region: "RS", tz: "America/Sao_Paulo"},
		},
		landline: []string{"+55 11 ####-####", "(11) ####-####", "+55 21 ####-####"},
		mobile:   []string{"+55 11 9####-####", "(11) 9####-####", "+55219########"},
		postal:   []string{"#####-###"},
		streets:  []string{"Rua das Flores", "Avenida Paulista", "Rua Augusta", "Avenida Atlântica", "Rua da Consolação"},
		style:    numberAfterComma,
	},
	{code: "MX", weight: 1, lang: "es-MX", locale: "es_MX",
		cities: []city{
			{name: "Ciudad de México", region: "CDMX", tz: "America/Mexico_City"},
			{name: "Monterrey", region: "Nuevo León", tz: "America/Monterrey"},
			{name: "Guadalajara", region: "Jalisco", tz: "America/Mexico_City"},
		},
		landline: []string{"+52 55 #### ####", "55 #### ####", "+52 81 #### ####"},
		mobile:   []string{"+52 1 55 #### ####", "+5255########"},
		postal:   []string{"#####"},
		streets:  []string{"Avenida Reforma", "Calle Hidalgo", "Avenida Juárez", "Calle Morelos", "Avenida Insurgentes"},
		style:    numberAfter,
	},
}

// Values for the injected problems. Each is one that Okta refuses (checked
// against internal/schema by the tests), in the shapes real extracts have.
var (
	badCountries = []string{"USA", "DEU", "GBR", "FRA", "UK", "Germany", "United States", "U.S.", "EN", "España", "Deutschland", "N/A"}
	badZones     = []string{
		"Pacific Standard Time", "Eastern Standard Time", "W. Europe Standard Time",
		"GMT Standard Time", "Romance Standard Time", "India Standard Time",
		"Tokyo Standard Time", "CEST", "PST", "UTC+01:00", "GMT-05:00", "Europe/Berlinn",
		"America/NewYork", "Central Europe Standard Time", "europe/paris",
	}
	titleJoiners = []string{", ", " and ", " & ", " / ", "; "}
	titleTails   = []string{" (EMEA)", " (Interim)", " (Acting)", " - Global", ", North America"}
)

// pools are what a generator picks from, built once per Config.
type pools struct {
	first, last []name
	titles      []string
	streets     []string // English-style street names without a number
	countryPick []uint8  // index into countries, repeated by weight
	typePick    []uint8  // index into employeeTypes, repeated by weight
}

func newPools(seed int64) *pools {
	// gofakeit.New(0) would seed from crypto/rand: build the faker from our
	// own PCG so that every seed, 0 included, is deterministic.
	f := gofakeit.NewFaker(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15), false)
	p := &pools{
		first: namePool(data.Person["first"], accentedFirst),
		last:  namePool(data.Person["last"], accentedLast),
	}
	seen := make(map[string]bool)
	for len(p.titles) < 600 {
		var t string
		switch f.IntN(4) {
		case 0:
			t = f.JobTitle()
		case 1:
			t = f.JobLevel() + " " + f.JobTitle()
		default:
			t = f.JobDescriptor() + " " + f.JobLevel() + " " + f.JobTitle()
		}
		if len(t) <= 60 && !seen[t] {
			seen[t] = true
			p.titles = append(p.titles, t)
		}
	}
	kinds := []string{"Street", "Road", "Avenue", "Lane", "Drive", "Court", "Way", "Boulevard", "Place"}
	for range 1024 {
		s := f.StreetName() + f.StreetSuffix() + " " + kinds[f.IntN(len(kinds))]
		if f.IntN(4) == 0 {
			s = f.StreetPrefix() + " " + s
		}
		p.streets = append(p.streets, s)
	}
	for i, c := range countries {
		for range c.weight {
			p.countryPick = append(p.countryPick, uint8(i))
		}
	}
	for i, t := range employeeTypes {
		for range t.weight {
			p.typePick = append(p.typePick, uint8(i))
		}
	}
	return p
}
