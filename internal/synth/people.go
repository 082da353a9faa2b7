package synth

import (
	"strings"
	"time"
)

// Names drawn from common names in England and Wales, across communities.
var (
	familyNames = []string{
		"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
		"Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
		"Patel", "Khan", "Ahmed", "Ali", "Hussain", "Begum", "Shah", "Singh", "Kaur", "Mistry",
		"Hughes", "Edwards", "Lewis", "Harris", "Martin", "Cooper", "Ward", "Morris", "King", "Baker",
		"O'Brien", "Murphy", "Kelly", "Campbell", "Stewart", "MacDonald", "Fraser", "Nowak", "Kowalski", "Wiśniewska",
		"Okafor", "Adeyemi", "Mensah", "Nguyen", "Chen", "Wong", "Da Silva", "Papadopoulos", "Ó Súilleabháin", "Ashworth",
		"Pryce", "Llewellyn", "Catchpole", "Sparrow", "Garrod", "Girling", "Bloomfield", "Last", "Scarfe", "Mayhew",
	}
	femaleNames = []string{
		"Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Grace", "Freya", "Lily", "Florence",
		"Margaret", "Susan", "Patricia", "Elizabeth", "Jean", "Linda", "Karen", "Janet", "Eleanor", "Joan",
		"Aisha", "Fatima", "Priya", "Amina", "Zoë", "Siobhan", "Niamh", "Agnieszka", "Chloé", "Mei",
		"Rachel", "Claire", "Sarah", "Emma", "Hannah", "Rebecca", "Sophie", "Megan", "Bethan", "Rhiannon",
	}
	maleNames = []string{
		"Oliver", "George", "Harry", "Noah", "Leo", "Arthur", "Muhammad", "Jack", "Charlie", "Oscar",
		"David", "John", "Michael", "Peter", "Robert", "Stephen", "Paul", "Richard", "Kevin", "Brian",
		"Imran", "Rajesh", "Arjun", "Tomasz", "Piotr", "Chidi", "Kwame", "Seán", "Dafydd", "Hamish",
		"James", "Thomas", "Daniel", "Matthew", "Andrew", "Christopher", "Mark", "Gareth", "Owen", "Rhys",
	}
	streets = []string{
		"Woodbridge Road", "Norwich Road", "Felixstowe Road", "Spring Road", "Henley Road", "Bramford Road",
		"London Road", "Valley Road", "Westerfield Road", "Foxhall Road", "Chevallier Street", "Orwell Quay",
		"Church Lane", "Station Road", "The Street", "Mill Lane", "High Street", "Victoria Road", "Park Road",
		"Queens Avenue", "Constable Road", "Gainsborough Road", "Hamilton Road", "St Helens Street",
	}
	practiceNames = []string{
		"Orwell Quay Surgery", "Riverside Surgery", "Castle Hill Medical Centre", "Deben Road Surgery",
		"Burlington Road Surgery", "Two Rivers Medical Centre", "Chesterfield Drive Practice", "Ravenswood Health Centre",
		"Haven Health", "Framfield House Surgery", "Hadleigh Road Practice", "Stowhealth", "Ivry Street Medical Practice",
		"Barrack Lane Medical Centre", "Woolpit Health Centre", "The Peninsula Practice", "Howard House Surgery",
		"Martlesham Heath Surgery", "Walton Surgery", "Leiston Surgery", "Church Farm Surgery", "Holbrook Surgery",
	}
)

// towns are the places of the service area with their postcode districts.
var towns = []struct {
	name, county string
	districts    []string
}{
	{"Ipswich", "Suffolk", []string{"IP1", "IP2", "IP3", "IP4", "IP5", "IP8"}},
	{"Felixstowe", "Suffolk", []string{"IP11"}},
	{"Woodbridge", "Suffolk", []string{"IP12", "IP13"}},
	{"Stowmarket", "Suffolk", []string{"IP14"}},
	{"Leiston", "Suffolk", []string{"IP16"}},
	{"Hadleigh", "Suffolk", []string{"IP7"}},
	{"Bury St Edmunds", "Suffolk", []string{"IP32", "IP33"}},
	{"Colchester", "Essex", []string{"CO1", "CO2", "CO3", "CO4"}},
	{"Norwich", "Norfolk", []string{"NR1", "NR2", "NR3", "NR4"}},
}

// person is the demographics of one patient or clinician.
type person struct {
	family, given, middle string
	gender                string // FHIR administrative gender
	birth                 time.Time
}

// newPerson draws a person aged between minAge and maxAge on ref.
func (g *Generator) newPerson(at time.Time, minAge, maxAge int) person {
	p := person{family: pick(g, familyNames), birth: g.birthDate(at, minAge, maxAge)}
	r := g.intn(100)
	names := femaleNames
	switch {
	case r < 49:
		p.gender = "female"
	case r < 98:
		p.gender, names = "male", maleNames
	case r < 99:
		p.gender = "other"
	default:
		p.gender = "unknown"
	}
	if p.gender == "other" || p.gender == "unknown" {
		if g.chance(0.5) {
			names = maleNames
		}
	}
	p.given = pick(g, names)
	if g.chance(0.4) {
		p.middle = pick(g, names)
	}
	return p
}

func (p person) name(use string, prefix ...string) obj {
	given := []string{p.given}
	if p.middle != "" && p.middle != p.given {
		given = append(given, p.middle)
	}
	return o("use", use, "family", p.family, "given", given, "prefix", prefix)
}

// email is a mailbox at an example domain.
func (p person) email(domain string) string {
	local := strings.ToLower(p.given + "." + p.family)
	local = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r == '.' {
			return r
		}
		return -1
	}, local)
	return local + "@" + domain
}

// address is a home or work address in the service area.
func (g *Generator) address(use string) obj {
	t := pick(g, towns)
	postcode := pick(g, t.districts) + " " + string(rune('0'+g.intn(10))) + g.postcodeLetters()
	return o("use", use, "type", "both", "line", []string{itoa(g.between(1, 240)) + " " + pick(g, streets)},
		"city", t.name, "district", t.county, "postalCode", postcode, "country", "GB")
}

// postcodeLetters are the two letters of a postcode's inward code, which
// never use C, I, K, M, O or V.
func (g *Generator) postcodeLetters() string {
	const letters = "ABDEFGHJLNPQRSTUWXYZ"
	return string([]byte{letters[g.intn(len(letters))], letters[g.intn(len(letters))]})
}

// mobile is a number in Ofcom's range for drama (07700 900000-900999).
func (g *Generator) mobile() string { return "07700 900" + g.digits(3) }

// landline is a number in Ofcom's drama range for the Ipswich area.
func (g *Generator) landline() string { return "01632 960" + g.digits(3) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// practice is a GP practice and one of its GPs, as every Bundle carries;
// roleURL is the GP's PractitionerRole when one was added (addRole).
type practice struct {
	orgURL, gpURL, roleURL string
	gp                     person
}

// addPractice adds an Organization (a GP practice with an ODS code) and a
// Practitioner (a GP at it) to b.
func (g *Generator) addPractice(b *bundle, at time.Time) practice {
	p := practice{orgURL: g.urn(), gpURL: g.urn()}
	b.add(p.orgURL, "Organization", o(
		"identifier", []obj{o("system", odsCode, "value", "D83"+g.digits(3))},
		"active", true,
		"type", []obj{o("coding", []obj{o("system", "https://fhir.nhs.uk/CodeSystem/organisation-role", "code", "76", "display", "GP practice")})},
		"name", pick(g, practiceNames),
		"telecom", []obj{o("system", "phone", "value", g.landline(), "use", "work")},
		"address", []obj{g.address("work")},
	))
	p.gp = g.newPerson(at, 30, 64)
	b.add(p.gpURL, "Practitioner", practitioner(g, p.gp, "MB BS, MRCGP"))
	return p
}

// practitioner is a doctor's Practitioner resource with a GMC number.
func practitioner(g *Generator, p person, qualification string) obj {
	return o(
		"identifier", []obj{o("system", gmcNo, "value", itoa(g.between(3000000, 7999999)))},
		"active", true,
		"name", []obj{p.name("official", "Dr")},
		"telecom", []obj{o("system", "email", "value", p.email("nhs.example"), "use", "work")},
		"gender", p.gender,
		"qualification", []obj{o("code", o("coding", []obj{o("system", "http://terminology.hl7.org/CodeSystem/v2-0360/2.7", "code", "MD", "display", "Doctor of Medicine")}, "text", qualification))},
	)
}

// addRole adds the PractitionerRole of the practice's GP (a referral's
// requester, which names the practice the referral comes from).
func (g *Generator) addRole(b *bundle, p *practice) {
	p.roleURL = g.urn()
	b.add(p.roleURL, "PractitionerRole", gpRole(p.gpURL, p.orgURL))
}

// gpRole is a general practitioner's role at a practice.
func gpRole(practitioner, organization string) obj {
	return o(
		"active", true,
		"practitioner", ref(practitioner),
		"organization", ref(organization),
		"code", []obj{sct("62247001", "General practitioner").cc()},
	)
}

// addPatient adds a Patient registered at the practice (an Organization
// reference), conforming to the telederm-patient profile, and returns its
// urn:uuid and demographics.
func (g *Generator) addPatient(b *bundle, org string, at time.Time, minAge, maxAge int) (string, person) {
	url := g.urn()
	p := g.newPerson(at, minAge, maxAge)
	telecom := []obj{o("system", "phone", "value", g.mobile(), "use", "mobile")}
	if g.chance(0.6) {
		telecom = append(telecom, o("system", "email", "value", p.email("example.com"), "use", "home"))
	}
	b.add(url, "Patient", o(
		"meta", o("profile", []string{ProfilePatient}),
		"identifier", []obj{o("system", nhsNo, "value", g.NHSNumber())},
		"active", true,
		"name", []obj{p.name("official")},
		"telecom", telecom,
		"gender", p.gender,
		"birthDate", date(p.birth),
		"address", []obj{g.address("home")},
		"generalPractitioner", refs(org),
		"managingOrganization", ref(org),
	))
	return url, p
}
