package storetest

import (
	"testing"
	"time"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// Code systems of the fixture.
const (
	sysNHS      = "https://fhir.nhs.uk/Id/nhs-number"
	sysODS      = "https://fhir.nhs.uk/Id/ods-organization-code"
	sysHospital = "urn:oid:2.16.840.1.113883.2.1.99"
	sysV2_0203  = "http://terminology.hl7.org/CodeSystem/v2-0203"
	sysGender   = "http://hl7.org/fhir/administrative-gender"
	sysStatus   = "http://hl7.org/fhir/request-status"
	sysReport   = "http://hl7.org/fhir/diagnostic-report-status"
	sysSNOMED   = "http://snomed.info/sct"
	sysLocal    = "http://telederm.example/codes"
	sysLOINC    = "http://loinc.org"
	sysUCUM     = "http://unitsofmeasure.org"
	qnrURL      = "http://telederm.example/fhir/Questionnaire/referral"
)

// The fixture's search parameters, as the registry would hand them over.
var (
	pName       = param("name", search.String)
	pFamily     = param("family", search.String)
	pGiven      = param("given", search.String)
	pBirthdate  = param("birthdate", search.Date)
	pGender     = param("gender", search.Token)
	pIdentifier = param("identifier", search.Token)
	pOrg        = param("organization", search.Reference)
	pSubject    = param("subject", search.Reference)
	pRequester  = param("requester", search.Reference)
	pPerformer  = param("performer", search.Reference)
	pAuthored   = param("authored", search.Date)
	pCode       = param("code", search.Token)
	pStatus     = param("status", search.Token)
	pBasedOn    = param("based-on", search.Reference)
	pDate       = param("date", search.Date)
	pValueQty   = param("value-quantity", search.Quantity)
	pCodeValue  = param("code-value-quantity", search.Composite)
	pDoseNumber = param("dose-number", search.Number)
	pURL        = param("url", search.URI)
	pQnr        = param("questionnaire", search.Reference)
)

// The fixture's instants.
var (
	srAuthored  = time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)
	mediaTaken  = time.Date(2025, 3, 1, 10, 20, 0, 0, time.UTC)
	obsMeasured = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	obsLater    = time.Date(2025, 3, 2, 9, 30, 0, 0, time.UTC)
)

// referralFixture commits a small referral world, in this order (the
// store's default order is the order of creation):
//
//	Organization org-1 "Riverside Surgery", org-2 "Adamson Dermatology Centre"
//	Practitioner pr-1 "Ada Lovelace", pr-2 "Grace Hopper"
//	Patient pat-1 Zoë O'Brien     1970-01-01 female  NHS 9434765919  org-1 GP pr-1
//	        pat-2 John Smith      1970-01-02 male    NHS 9000000009 + MRN123 (type MR)  org-2 GP pr-2
//	        pat-3 Joanna Smythe   1969       |female (no system)  identifier |X-1  org-1
//	        pat-4 Jonathan Smith-Jones  no birthdate, no gender  NHS X-1
//	        pat-5 Deleted Smith   male  NHS 1111111111  org-1            (then deleted)
//	        pat-6 Pat Oldname 1980-05-05 -> updated to Pat Newname 1981-06-06
//	        pat-7 Anna Smith      1970-01-01 female  org-2
//	ServiceRequest sr-1 pat-1 by pr-1, 2025-03-01T10:15:00Z, snomed|tele-derm + local|referral, active
//	               sr-2 pat-2 by org-2, 2025-03-02, snomed|derm-advice, completed
//	               sr-3 pat-3 by pr-1, 2025-03-01, http://example.org/local|tele-derm, active
//	               sr-4 pat-4, draft (no requester, authored or code)
//	               sr-5 pat-5 by pr-2, 2025-02-28, snomed|tele-derm, active
//	Media med-1, med-2 based on sr-1 (pat-1); med-3 on sr-2 (pat-2)
//	DiagnosticReport dr-1 sr-1 final (performer pr-2); dr-2 sr-2 preliminary;
//	                 dr-3 sr-2 final (then deleted)
//	Observation obs-1 pat-1 height 172 cm at 2025-03-01T10:00:00Z (+ composite)
//	            obs-2 pat-1 weight 70.5 kg on 2025-03-01
//	            obs-3 pat-2 weight 70 kg (unit "kilogram"), Period 2025-02-01 onwards
//	            obs-4 pat-3 100 (no unit) at 2025-03-02T09:30:00Z
//	            obs-5 pat-2 100 mg, no date
//	            obs-6 subject Group/pat-1, height, no value, no date
//	ImmunizationRecommendation ir-1 dose 1, ir-2 2, ir-3 2.0, ir-4 3, ir-5 none, ir-6 2.4
//	Questionnaire q-1 …/referral, q-2 …/referral/photos, q-3 urn:uuid
//	QuestionnaireResponse qr-1 canonical|1.0 subject NHS identifier 9434765919,
//	                      qr-2 canonical|2.0 subject identifier |9434765919 (no system),
//	                      qr-3 Questionnaire/q-1 subject pat-2
func referralFixture(t *testing.T, r store.Repository) {
	t.Helper()
	patRefs := func(org, gp string) []search.Entry {
		var out []search.Entry
		if org != "" {
			out = append(out, eRef("organization", "Organization", org))
		}
		if gp != "" {
			out = append(out, eRef("general-practitioner", "Practitioner", gp))
		}
		return out
	}
	name := func(family, given string) []search.Entry {
		return []search.Entry{eString("family", family), eString("given", given),
			eString("name", family), eString("name", given)}
	}
	patient := func(id string, parts ...[]search.Entry) store.Change {
		var all []search.Entry
		for _, p := range parts {
			all = append(all, p...)
		}
		return resource("Patient", id, 1, all...)
	}
	one := func(e ...search.Entry) []search.Entry { return e }

	changes := []store.Change{
		resource("Organization", "org-1", 0, eString("name", "Riverside Surgery"),
			eIdentifier("identifier", sysODS, "A12345", "", "")),
		resource("Organization", "org-2", 0, eString("name", "Adamson Dermatology Centre"),
			eIdentifier("identifier", sysODS, "RX1", "", "")),
		resource("Practitioner", "pr-1", 0, eString("name", "Ada"), eString("name", "Lovelace"),
			eString("family", "Lovelace"), eString("given", "Ada")),
		resource("Practitioner", "pr-2", 0, eString("name", "Grace"), eString("name", "Hopper"),
			eString("family", "Hopper"), eString("given", "Grace")),

		patient("pat-1", name("O'Brien", "Zoë"), patRefs("org-1", "pr-1"), one(
			eDate("birthdate", days(1970, 1, 1)),
			eToken("gender", sysGender, "female"),
			eIdentifier("identifier", sysNHS, "9434765919", "", ""))),
		patient("pat-2", name("Smith", "John"), patRefs("org-2", "pr-2"), one(
			eDate("birthdate", days(1970, 1, 2)),
			eToken("gender", sysGender, "male"),
			eIdentifier("identifier", sysNHS, "9000000009", "", ""),
			eIdentifier("identifier", sysHospital, "MRN123", sysV2_0203, "MR"))),
		patient("pat-3", name("Smythe", "Joanna"), patRefs("org-1", ""), one(
			eDate("birthdate", years(1969)),
			eToken("gender", "", "female"),
			eIdentifier("identifier", "", "X-1", "", ""))),
		patient("pat-4", name("Smith-Jones", "Jonathan"), one(
			eIdentifier("identifier", sysNHS, "X-1", "", ""))),
		patient("pat-5", name("Smith", "Deleted"), patRefs("org-1", ""), one(
			eToken("gender", sysGender, "male"),
			eIdentifier("identifier", sysNHS, "1111111111", "", ""))),
		patient("pat-6", name("Oldname", "Pat"), one(
			eDate("birthdate", days(1980, 5, 5)))),
		patient("pat-7", name("Smith", "Anna"), patRefs("org-2", ""), one(
			eDate("birthdate", days(1970, 1, 1)),
			eToken("gender", sysGender, "female"))),

		resource("ServiceRequest", "sr-1", 2,
			eRef("subject", "Patient", "pat-1"), eRef("patient", "Patient", "pat-1"),
			eRef("requester", "Practitioner", "pr-1"),
			eDate("authored", seconds(srAuthored)),
			eTokenText("code", sysSNOMED, "tele-derm", "Teledermatology referral"),
			eTokenText("code", sysLocal, "referral", "Teledermatology referral"),
			eToken("status", sysStatus, "active")),
		resource("ServiceRequest", "sr-2", 2,
			eRef("subject", "Patient", "pat-2"), eRef("patient", "Patient", "pat-2"),
			eRef("requester", "Organization", "org-2"),
			eDate("authored", days(2025, 3, 2)),
			eTokenText("code", sysSNOMED, "derm-advice", "Dermatology advice"),
			eToken("status", sysStatus, "completed")),
		resource("ServiceRequest", "sr-3", 2,
			eRef("subject", "Patient", "pat-3"), eRef("patient", "Patient", "pat-3"),
			eRef("requester", "Practitioner", "pr-1"),
			eDate("authored", days(2025, 3, 1)),
			eTokenText("code", "http://example.org/local", "tele-derm", "Skin photo review"),
			eToken("status", sysStatus, "active")),
		resource("ServiceRequest", "sr-4", 2,
			eRef("subject", "Patient", "pat-4"), eRef("patient", "Patient", "pat-4"),
			eToken("status", sysStatus, "draft")),
		resource("ServiceRequest", "sr-5", 2,
			eRef("subject", "Patient", "pat-5"), eRef("patient", "Patient", "pat-5"),
			eRef("requester", "Practitioner", "pr-2"),
			eDate("authored", days(2025, 2, 28)),
			eToken("code", sysSNOMED, "tele-derm"),
			eToken("status", sysStatus, "active")),

		resource("Media", "med-1", 3, eRef("based-on", "ServiceRequest", "sr-1"),
			eRef("subject", "Patient", "pat-1"),
			eDate("created", seconds(mediaTaken))),
		resource("Media", "med-2", 3, eRef("based-on", "ServiceRequest", "sr-1"),
			eRef("subject", "Patient", "pat-1")),
		resource("Media", "med-3", 3, eRef("based-on", "ServiceRequest", "sr-2"),
			eRef("subject", "Patient", "pat-2")),

		resource("DiagnosticReport", "dr-1", 4, eRef("based-on", "ServiceRequest", "sr-1"),
			eRef("subject", "Patient", "pat-1"), eRef("performer", "Practitioner", "pr-2"),
			eToken("status", sysReport, "final")),
		resource("DiagnosticReport", "dr-2", 4, eRef("based-on", "ServiceRequest", "sr-2"),
			eRef("subject", "Patient", "pat-2"), eToken("status", sysReport, "preliminary")),
		resource("DiagnosticReport", "dr-3", 4, eRef("based-on", "ServiceRequest", "sr-2"),
			eRef("subject", "Patient", "pat-2"), eToken("status", sysReport, "final")),

		resource("Observation", "obs-1", 5, eRef("subject", "Patient", "pat-1"),
			eToken("code", sysLOINC, "8302-2"),
			eQuantity("value-quantity", "172", sysUCUM, "cm", "cm"),
			eDate("date", seconds(obsMeasured)),
			search.Entry{Param: "code-value-quantity", Kind: search.Composite, Parts: []search.Entry{
				eToken("code", sysLOINC, "8302-2"),
				eQuantity("value-quantity", "172", sysUCUM, "cm", "cm")}}),
		resource("Observation", "obs-2", 5, eRef("subject", "Patient", "pat-1"),
			eToken("code", sysLOINC, "29463-7"),
			eQuantity("value-quantity", "70.5", sysUCUM, "kg", "kg"),
			eDate("date", days(2025, 3, 1))),
		resource("Observation", "obs-3", 5, eRef("subject", "Patient", "pat-2"),
			eToken("code", sysLOINC, "29463-7"),
			eQuantity("value-quantity", "70", sysUCUM, "kg", "kilogram"),
			eDate("date", span{us(day(2025, 2, 1)), maxDate})),
		resource("Observation", "obs-4", 5, eRef("subject", "Patient", "pat-3"),
			eQuantity("value-quantity", "100", "", "", ""),
			eDate("date", seconds(obsLater))),
		resource("Observation", "obs-5", 5, eRef("subject", "Patient", "pat-2"),
			eQuantity("value-quantity", "100", sysUCUM, "mg", "mg")),
		resource("Observation", "obs-6", 5, eRef("subject", "Group", "pat-1"),
			eToken("code", sysLOINC, "8302-2")),

		resource("ImmunizationRecommendation", "ir-1", 6, eNumber("dose-number", "1")),
		resource("ImmunizationRecommendation", "ir-2", 6, eNumber("dose-number", "2")),
		resource("ImmunizationRecommendation", "ir-3", 6, eNumber("dose-number", "2.0")),
		resource("ImmunizationRecommendation", "ir-4", 6, eNumber("dose-number", "3")),
		resource("ImmunizationRecommendation", "ir-5", 6),
		resource("ImmunizationRecommendation", "ir-6", 6, eNumber("dose-number", "2.4")),

		resource("Questionnaire", "q-1", 7, eURI("url", qnrURL)),
		resource("Questionnaire", "q-2", 7, eURI("url", qnrURL+"/photos")),
		resource("Questionnaire", "q-3", 7, eURI("url", "urn:uuid:53fefa32-fcbb-4ff8-8a92-55ee120877b7")),

		resource("QuestionnaireResponse", "qr-1", 8, eCanonical("questionnaire", qnrURL, "1.0"),
			eRefIdentifier("subject", sysNHS, "9434765919")),
		resource("QuestionnaireResponse", "qr-2", 8, eCanonical("questionnaire", qnrURL, "2.0"),
			eRefIdentifier("subject", "", "9434765919")),
		resource("QuestionnaireResponse", "qr-3", 8, eRef("questionnaire", "Questionnaire", "q-1"),
			eRef("subject", "Patient", "pat-2")),
	}
	commit(t, r, changes...)

	// pat-6 is updated: the old name and birth date must stop matching.
	pat6 := write("Patient", "pat-6", 2, minute(10))
	pat6.Index = append(name("Newname", "Pat"), eDate("birthdate", days(1981, 6, 6)))
	commit(t, r, pat6)
	// pat-5 and dr-3 are deleted: a tombstone has no entries.
	commit(t, r, tombstone("Patient", "pat-5", 2, minute(11)), tombstone("DiagnosticReport", "dr-3", 2, minute(11)))
}
