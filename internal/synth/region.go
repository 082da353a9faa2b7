package synth

import "time"

// Region is a teledermatology service area in one transaction: the GP
// practices with their GPs, and the hospital's dermatology service with
// its consultants. The references are the Bundle's urn:uuids; a caller
// that posts the Bundle maps them to the ids the server gave.
type Region struct {
	Bundle      []byte
	Practices   []RegionPractice
	Service     string   // the dermatology service Organization
	Consultants []string // consultant dermatologists (Practitioner)
}

// RegionPractice is one GP practice of a Region.
type RegionPractice struct {
	Organization, ODS, Name string
	GPs                     []RegionGP
}

// RegionGP is a GP and their role at the practice (a referral's requester).
type RegionGP struct {
	Practitioner, Role string
}

// consultants is how many dermatologists the service has.
const consultants = 5

// Region makes a service area of n practices, each with 2 to 5 GPs, and a
// dermatology service of five consultants. Practice names and ODS codes
// are distinct.
func (g *Generator) Region(n int) Region {
	b := &bundle{}
	r := Region{Service: g.urn()}
	at := epoch
	names := map[string]bool{}
	codes := map[string]bool{}
	for len(r.Practices) < n {
		name := g.practiceName(len(r.Practices))
		ods := "D83" + g.digits(3)
		if names[name] || codes[ods] {
			continue
		}
		names[name], codes[ods] = true, true
		p := RegionPractice{Organization: g.urn(), ODS: ods, Name: name}
		b.add(p.Organization, "Organization", o(
			"identifier", []obj{o("system", odsCode, "value", ods)},
			"active", true,
			"type", []obj{o("coding", []obj{o("system", "https://fhir.nhs.uk/CodeSystem/organisation-role", "code", "76", "display", "GP practice")})},
			"name", name,
			"telecom", []obj{o("system", "phone", "value", g.landline(), "use", "work")},
			"address", []obj{g.address("work")},
		))
		for range g.between(2, 5) {
			gp := RegionGP{Practitioner: g.urn(), Role: g.urn()}
			b.add(gp.Practitioner, "Practitioner", g.clinician(at, "MB BS, MRCGP"))
			b.add(gp.Role, "PractitionerRole", gpRole(gp.Practitioner, p.Organization))
			p.GPs = append(p.GPs, gp)
		}
		r.Practices = append(r.Practices, p)
	}
	b.add(r.Service, "Organization", o(
		"identifier", []obj{o("system", odsCode, "value", "RGQ")},
		"active", true,
		"type", []obj{o("coding", []obj{o("system", "http://terminology.hl7.org/CodeSystem/organization-type", "code", "prov", "display", "Healthcare Provider")})},
		"name", "Ipswich Hospital Dermatology (teledermatology advice and guidance)",
		"telecom", []obj{o("system", "phone", "value", g.landline(), "use", "work")},
	))
	for range consultants {
		c := g.urn()
		b.add(c, "Practitioner", g.clinician(at, "MB ChB, FRCP (Dermatology)"))
		b.add(g.urn(), "PractitionerRole", o(
			"active", true,
			"practitioner", ref(c),
			"organization", ref(r.Service),
			"code", []obj{sct("18803008", "Dermatologist").cc()},
			"specialty", []obj{sct("394582007", "Dermatology").cc()},
		))
		r.Consultants = append(r.Consultants, c)
	}
	r.Bundle = b.json()
	return r
}

// practiceName is a GP practice's name: the known names first, then
// names made from the area's streets and towns.
func (g *Generator) practiceName(i int) string {
	if i < len(practiceNames) {
		return practiceNames[i]
	}
	street := pick(g, streets)
	if g.chance(0.5) {
		return street + " Surgery"
	}
	return pick(g, towns).name + " " + pick(g, []string{"Medical Practice", "Health Centre", "Family Practice"}) + " (" + street + ")"
}

// clinician is a Practitioner with a GMC number.
func (g *Generator) clinician(at time.Time, qualification string) obj {
	return practitioner(g, g.newPerson(at, 30, 64), qualification)
}
