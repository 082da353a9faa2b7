package storetest

import (
	"testing"
	"time"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchValues checks every parameter type, modifier and prefix on the
// referral fixture. Live patients, in order: pat-1, pat-2, pat-3, pat-4,
// pat-6, pat-7 (pat-5 is deleted).
func testSearchValues(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	pat := func(ids ...string) []string { return refs("Patient", ids...) }
	sr := func(ids ...string) []string { return refs("ServiceRequest", ids...) }
	obs := func(ids ...string) []string { return refs("Observation", ids...) }
	ir := func(ids ...string) []string { return refs("ImmunizationRecommendation", ids...) }
	qnr := func(ids ...string) []string { return refs("Questionnaire", ids...) }
	none := []string{}

	patients := func(name string, want []string, ps ...search.Predicate) searchCase {
		return searchCase{name, search.Query{Type: "Patient", Where: and(ps...)}, want}
	}
	typed := func(typ, name string, want []string, ps ...search.Predicate) searchCase {
		return searchCase{name, search.Query{Type: typ, Where: and(ps...)}, want}
	}
	birth := func(prefix search.Prefix, s span) search.Predicate { return qDate(pBirthdate, prefix, s) }
	date := func(prefix search.Prefix, s span) search.Predicate { return qDate(pDate, prefix, s) }
	y1969, y1970 := years(1969), years(1970)
	jan1, jan2, dec31 := days(1970, 1, 1), days(1970, 1, 2), days(1969, 12, 31)
	ten := time.Date(1970, 1, 1, 10, 0, 0, 0, time.UTC)
	mar1, mar := days(2025, 3, 1), months(2025, 3)
	dose := func(prefix search.Prefix, v string) search.Predicate { return qNumber(pDoseNumber, prefix, v) }
	qty := func(prefix search.Prefix, v, system, code string) search.Predicate {
		return qQuantity(pValueQty, prefix, v, system, code)
	}
	ofType := func(typeSystem, typeCode, value string) search.Predicate {
		return search.Predicate{Param: pIdentifier, Modifier: ":of-type",
			Value: search.Value{TypeSystem: typeSystem, TypeCode: typeCode, Code: value}}
	}
	text := func(s string) search.Predicate {
		return search.Predicate{Param: pCode, Modifier: ":text", Value: search.Value{Text: search.Normalize(s)}}
	}

	runSearchCases(t, r, []searchCase{
		// string: normalised starts-with on every entry of the parameter.
		patients("string starts with", pat("pat-2", "pat-4", "pat-7"), qString(pName, "smith")),
		patients("string short prefix", pat("pat-2", "pat-4", "pat-7"), qString(pName, "Smi")),
		patients("string prefix of several names", pat("pat-2", "pat-3", "pat-4"), qString(pName, "jo")),
		patients("string longer than some names", pat("pat-2"), qString(pName, "john")),
		patients("string case and accents folded", pat("pat-1"), qString(pName, "ZOË")),
		patients("string punctuation folded", pat("pat-1"), qString(pName, "o'brien")),
		patients("string not in the middle", none, qString(pName, "brien")),
		patients("string exact", pat("pat-1"), modified(":exact", qString(pName, "Zoë"))),
		patients("string exact is case and accent sensitive", none, modified(":exact", qString(pName, "zoe"))),
		patients("string exact is whole value", pat("pat-2", "pat-7"), modified(":exact", qString(pName, "Smith"))),
		patients("string contains", pat("pat-2", "pat-4", "pat-7"), modified(":contains", qString(pName, "mit"))),
		patients("string contains end", pat("pat-4"), modified(":contains", qString(pName, "JONES"))),
		patients("string contains after punctuation", pat("pat-1"), modified(":contains", qString(pName, "brien"))),
		patients("string AND of two params", pat("pat-2", "pat-4"), qString(pFamily, "smith"), qString(pGiven, "jo")),
		patients("string AND narrows", pat("pat-2"), qString(pFamily, "smith"), qString(pGiven, "john")),
		typed("Practitioner", "string other type", refs("Practitioner", "pr-1"), qString(pName, "ada")),

		// token
		patients("token code in any system", pat("pat-1", "pat-3", "pat-7"), qCode(pGender, "female")),
		patients("token system|code", pat("pat-1", "pat-7"), qSystemCode(pGender, sysGender, "female")),
		patients("token |code means no system", pat("pat-3"), qSystemCode(pGender, "", "female")),
		patients("token system| means any code", pat("pat-1", "pat-2", "pat-7"), qSystemCode(pGender, sysGender, "")),
		patients("token identifier any system", pat("pat-3", "pat-4"), qCode(pIdentifier, "X-1")),
		patients("token identifier |value", pat("pat-3"), qSystemCode(pIdentifier, "", "X-1")),
		patients("token identifier system|value", pat("pat-4"), qSystemCode(pIdentifier, sysNHS, "X-1")),
		patients("token identifier system|", pat("pat-1", "pat-2", "pat-4"), qSystemCode(pIdentifier, sysNHS, "")),
		patients("token code is case sensitive", none, qCode(pGender, "Female")),
		patients("token of deleted resource", none, qSystemCode(pIdentifier, sysNHS, "1111111111")),
		{"token OR", search.Query{Type: "Patient", Where: []search.Clause{
			or(qCode(pGender, "male"), qSystemCode(pGender, "", "female"))}}, pat("pat-2", "pat-3")},
		patients("token AND date", pat("pat-1", "pat-7"), qCode(pGender, "female"), birth(search.Eq, y1970)),
		patients("token :not includes resources without the param", pat("pat-1", "pat-3", "pat-4", "pat-6", "pat-7"),
			modified(":not", qCode(pGender, "male"))),
		patients("token :not system|code", pat("pat-2", "pat-3", "pat-4", "pat-6"),
			modified(":not", qSystemCode(pGender, sysGender, "female"))),
		patients("token :not with several entries", pat("pat-3", "pat-6", "pat-7"),
			modified(":not", qSystemCode(pIdentifier, sysNHS, ""))),
		patients("token :not any entry", pat("pat-1", "pat-2", "pat-6", "pat-7"), modified(":not", qCode(pIdentifier, "X-1"))),
		patients("token :of-type", pat("pat-2"), ofType(sysV2_0203, "MR", "MRN123")),
		patients("token :of-type wrong type", none, ofType(sysV2_0203, "MR", "9000000009")),
		patients("token :missing=true", pat("pat-4", "pat-6"), qMissing(pGender, true)),
		patients("token :missing=false", pat("pat-1", "pat-2", "pat-3", "pat-7"), qMissing(pGender, false)),
		typed("ServiceRequest", "token two codings, either matches", sr("sr-1"), qCode(pCode, "referral")),
		typed("ServiceRequest", "token code in several systems", sr("sr-1", "sr-3", "sr-5"), qCode(pCode, "tele-derm")),
		typed("ServiceRequest", "token system|code one system", sr("sr-1", "sr-5"), qSystemCode(pCode, sysSNOMED, "tele-derm")),
		typed("ServiceRequest", "token :text starts with", sr("sr-1"), text("teledermatology")),
		typed("ServiceRequest", "token :text normalised", sr("sr-3"), text("SKIN  photo")),
		typed("ServiceRequest", "token :text not inside a word", sr("sr-2"), text("dermatology")),
		typed("ServiceRequest", "token :not code", sr("sr-2", "sr-4"), modified(":not", qCode(pCode, "tele-derm"))),

		// date: prefixes compare the search range with the entry's range.
		patients("date eq year contains days", pat("pat-1", "pat-2", "pat-7"), birth(search.Eq, y1970)),
		patients("date no prefix is eq", pat("pat-1", "pat-7"), birth("", jan1)),
		patients("date eq day", pat("pat-1", "pat-7"), birth(search.Eq, jan1)),
		patients("date eq day inside a year entry", none, birth(search.Eq, dec31)),
		patients("date eq year entry", pat("pat-3"), birth(search.Eq, y1969)),
		patients("date eq second inside a day entry", none, birth(search.Eq, seconds(ten))),
		patients("date ne", pat("pat-3", "pat-6"), birth(search.Ne, y1970)),
		patients("date gt day", pat("pat-2", "pat-6"), birth(search.Gt, jan1)),
		patients("date gt year boundary", pat("pat-1", "pat-2", "pat-6", "pat-7"), birth(search.Gt, y1969)),
		patients("date lt day", pat("pat-3"), birth(search.Lt, jan1)),
		patients("date lt year", pat("pat-3"), birth(search.Lt, y1970)),
		patients("date ge day", pat("pat-1", "pat-2", "pat-6", "pat-7"), birth(search.Ge, jan1)),
		patients("date ge year", pat("pat-1", "pat-2", "pat-6", "pat-7"), birth(search.Ge, y1970)),
		patients("date le day", pat("pat-1", "pat-3", "pat-7"), birth(search.Le, jan1)),
		patients("date le year", pat("pat-3"), birth(search.Le, y1969)),
		patients("date ge minute inside a day entry", pat("pat-1", "pat-2", "pat-6", "pat-7"),
			birth(search.Ge, minutes(ten))),
		patients("date le minute inside a day entry", pat("pat-1", "pat-3", "pat-7"),
			birth(search.Le, minutes(ten))),
		patients("date sa year (entry starts at its end)", pat("pat-1", "pat-2", "pat-6", "pat-7"), birth(search.Sa, y1969)),
		patients("date sa day", pat("pat-2", "pat-6"), birth(search.Sa, jan1)),
		patients("date eb day (entry ends at its start)", pat("pat-3"), birth(search.Eb, jan1)),
		patients("date eb next day", pat("pat-1", "pat-3", "pat-7"), birth(search.Eb, jan2)),
		patients("date eb nothing before", none, birth(search.Eb, y1969)),
		patients("date ap window overlaps", pat("pat-1", "pat-2", "pat-3", "pat-7"),
			qDateAp(pBirthdate, jan1, span{us(day(1969, 12, 25)), us(day(1970, 1, 8))})),
		patients("date ap window ends where an entry starts", pat("pat-3"),
			qDateAp(pBirthdate, dec31, span{us(day(1969, 12, 25)), us(day(1970, 1, 1))})),
		patients("date ap no overlap", none, qDateAp(pBirthdate, days(1970, 1, 7), span{us(day(1970, 1, 5)), us(day(1970, 1, 10))})),
		patients("date range as two clauses", pat("pat-1", "pat-7"), birth(search.Ge, jan1), birth(search.Lt, jan2)),
		patients("date :missing=true", pat("pat-4"), qMissing(pBirthdate, true)),
		patients("date :missing=false", pat("pat-1", "pat-2", "pat-3", "pat-6", "pat-7"), qMissing(pBirthdate, false)),
		typed("Observation", "date eq day", obs("obs-1", "obs-2"), date(search.Eq, mar1)),
		typed("Observation", "date eq month", obs("obs-1", "obs-2", "obs-4"), date(search.Eq, mar)),
		typed("Observation", "date eq second", obs("obs-1"), date(search.Eq, seconds(obsMeasured))),
		typed("Observation", "date eq minute", obs("obs-1"), date(search.Eq, minutes(obsMeasured))),
		typed("Observation", "date gt open period", obs("obs-3", "obs-4"), date(search.Gt, mar1)),
		typed("Observation", "date ge far future open period", obs("obs-3"), date(search.Ge, years(2030))),
		typed("Observation", "date lt period start", obs("obs-3"), date(search.Lt, days(2025, 2, 2))),
		typed("Observation", "date sa", obs("obs-4"), date(search.Sa, mar1)),
		typed("Observation", "date eb excludes open period", obs("obs-1", "obs-2", "obs-4"), date(search.Eb, days(2025, 12, 31))),
		typed("Observation", "date ne month", obs("obs-3"), date(search.Ne, mar)),
		typed("Observation", "date :missing=true", obs("obs-5", "obs-6"), qMissing(pDate, true)),

		// number: entries and values are ranges at their written precision.
		// eq, ne, sa, eb and ap compare ranges; gt, lt, ge and le compare
		// the exact value, as R4's number examples say ("gt100: values
		// that are greater than exactly 100").
		typed("ImmunizationRecommendation", "number eq", ir("ir-2", "ir-3", "ir-6"), dose(search.Eq, "2")),
		typed("ImmunizationRecommendation", "number eq more precise", ir("ir-3"), dose(search.Eq, "2.0")),
		typed("ImmunizationRecommendation", "number ne", ir("ir-1", "ir-4"), dose(search.Ne, "2")),
		typed("ImmunizationRecommendation", "number gt exactly", ir("ir-4", "ir-6"), dose(search.Gt, "2")),
		typed("ImmunizationRecommendation", "number gt precise", ir("ir-4", "ir-6"), dose(search.Gt, "2.0")),
		typed("ImmunizationRecommendation", "number lt exactly", ir("ir-1"), dose(search.Lt, "2")),
		typed("ImmunizationRecommendation", "number lt above a value", ir("ir-1", "ir-2", "ir-3"), dose(search.Lt, "2.4")),
		typed("ImmunizationRecommendation", "number ge", ir("ir-2", "ir-3", "ir-4", "ir-6"), dose(search.Ge, "2")),
		typed("ImmunizationRecommendation", "number le", ir("ir-1", "ir-2", "ir-3"), dose(search.Le, "2")),
		typed("ImmunizationRecommendation", "number le equal", ir("ir-1", "ir-2", "ir-3", "ir-6"), dose(search.Le, "2.4")),
		typed("ImmunizationRecommendation", "number sa at boundary", ir("ir-4"), dose(search.Sa, "2")),
		typed("ImmunizationRecommendation", "number eb at boundary", ir("ir-1"), dose(search.Eb, "2")),
		typed("ImmunizationRecommendation", "number sa precise", ir("ir-4", "ir-6"), dose(search.Sa, "2.0")),
		typed("ImmunizationRecommendation", "number eb precise", ir("ir-1"), dose(search.Eb, "2.0")),
		typed("ImmunizationRecommendation", "number ap", ir("ir-2", "ir-3"), qNumberAp(pDoseNumber, "2", 1.8, 2.2)),
		typed("ImmunizationRecommendation", "number ap wider window", ir("ir-1", "ir-2", "ir-3", "ir-4", "ir-6"),
			qNumberAp(pDoseNumber, "2", 1.2, 2.8)),
		typed("ImmunizationRecommendation", "number ap window ends where an entry starts", ir("ir-1"), qNumberAp(pDoseNumber, "1", 0.9, 1.5)),
		typed("ImmunizationRecommendation", "number :missing=true", ir("ir-5"), qMissing(pDoseNumber, true)),

		// quantity: number rules, and the unit when one is given.
		typed("Observation", "quantity without unit", obs("obs-4", "obs-5"), qty(search.Eq, "100", "", "")),
		typed("Observation", "quantity system|code", obs("obs-5"), qty(search.Eq, "100", sysUCUM, "mg")),
		typed("Observation", "quantity code only", obs("obs-5"), qty(search.Eq, "100", "", "mg")),
		typed("Observation", "quantity wrong unit", none, qty(search.Eq, "100", sysUCUM, "kg")),
		typed("Observation", "quantity unit as written", obs("obs-3"), qty(search.Eq, "70", "", "kilogram")),
		typed("Observation", "quantity ucum kg", obs("obs-3"), qty(search.Eq, "70", sysUCUM, "kg")),
		typed("Observation", "quantity precision", obs("obs-2"), qty(search.Eq, "70.5", sysUCUM, "kg")),
		typed("Observation", "quantity eq range", obs("obs-3"), qty(search.Eq, "70", "", "")),
		typed("Observation", "quantity gt with unit", obs("obs-2"), qty(search.Gt, "70", sysUCUM, "kg")),
		typed("Observation", "quantity gt without unit", obs("obs-1", "obs-2", "obs-4", "obs-5"), qty(search.Gt, "70", "", "")),
		typed("Observation", "quantity lt", obs("obs-2", "obs-3"), qty(search.Lt, "100", "", "")),
		typed("Observation", "quantity le with code", obs("obs-2", "obs-3"), qty(search.Le, "70.5", "", "kg")),
		typed("Observation", "quantity ne with unit", obs("obs-2"), qty(search.Ne, "70", sysUCUM, "kg")),
		typed("Observation", "quantity ge with unit", obs("obs-2", "obs-3"), qty(search.Ge, "70", sysUCUM, "kg")),
		typed("Observation", "quantity sa", obs("obs-1", "obs-4", "obs-5"), qty(search.Sa, "70", "", "")),
		typed("Observation", "quantity sa at boundary", obs("obs-2", "obs-3"), qty(search.Sa, "69", "", "kg")),
		typed("Observation", "quantity eb at boundary", obs("obs-2", "obs-3"), qty(search.Eb, "100", "", "")),
		typed("Observation", "quantity :missing=true", obs("obs-6"), qMissing(pValueQty, true)),
		typed("Observation", "quantity ap with unit", obs("obs-2", "obs-3"), func() search.Predicate {
			p := qNumberAp(pValueQty, "70", 63, 77)
			p.Value.System, p.Value.Code = sysUCUM, "kg"
			return p
		}()),

		// uri
		typed("Questionnaire", "uri exact", qnr("q-1"), qURI(pURL, "", qnrURL)),
		typed("Questionnaire", "uri exact other scheme", qnr("q-3"), qURI(pURL, "", "urn:uuid:53fefa32-fcbb-4ff8-8a92-55ee120877b7")),
		typed("Questionnaire", "uri exact is not prefix", none, qURI(pURL, "", "http://telederm.example/fhir/Questionnaire")),
		typed("Questionnaire", "uri :below", qnr("q-1", "q-2"), qURI(pURL, ":below", "http://telederm.example/fhir/")),
		typed("Questionnaire", "uri :below itself", qnr("q-1", "q-2"), qURI(pURL, ":below", qnrURL)),
		typed("Questionnaire", "uri :above", qnr("q-1", "q-2"), qURI(pURL, ":above", qnrURL+"/photos")),
		typed("Questionnaire", "uri :above itself", qnr("q-1"), qURI(pURL, ":above", qnrURL)),
		typed("Questionnaire", "uri :missing=false", qnr("q-1", "q-2", "q-3"), qMissing(pURL, false)),

		// updates replace entries; deletions remove them.
		patients("updated: old value gone", none, qString(pFamily, "oldname")),
		patients("updated: old date gone", none, birth(search.Eq, days(1980, 5, 5))),
		patients("updated: new value", pat("pat-6"), qString(pFamily, "newname")),
		patients("updated: new date", pat("pat-6"), birth(search.Eq, days(1981, 6, 6))),
		patients("deleted: token", pat("pat-2"), qCode(pGender, "male")),
		patients("deleted: no entries but not missing", pat("pat-4"), qMissing(pBirthdate, true)),
		patients("no predicates: every live resource of the type", pat("pat-1", "pat-2", "pat-3", "pat-4", "pat-6", "pat-7")),
		typed("Encounter", "type without resources", none),
	})

	// A system search with no predicates returns every live resource and
	// none of the deleted ones.
	page := searchAll(t, r, search.Query{})
	got := map[string]bool{}
	for _, ref := range refsOf(page.Matches) {
		if got[ref] {
			t.Errorf("system search: %s twice", ref)
		}
		got[ref] = true
	}
	if len(got) != 38 || got["Patient/pat-5"] || got["DiagnosticReport/dr-3"] {
		t.Errorf("system search: %d resources (deleted pat-5 %v, dr-3 %v), want the 38 live ones",
			len(got), got["Patient/pat-5"], got["DiagnosticReport/dr-3"])
	}
}

// testSearchReferences checks reference, canonical and :identifier
// matching.
func testSearchReferences(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	sr := func(ids ...string) []string { return refs("ServiceRequest", ids...) }
	obs := func(ids ...string) []string { return refs("Observation", ids...) }
	qr := func(ids ...string) []string { return refs("QuestionnaireResponse", ids...) }
	typed := func(typ, name string, want []string, ps ...search.Predicate) searchCase {
		return searchCase{name, search.Query{Type: typ, Where: and(ps...)}, want}
	}
	canonical := func(url, version string) search.Predicate {
		return search.Predicate{Param: pQnr, Value: search.Value{Ref: &search.RefValue{URL: url, Version: version}}}
	}
	identifier := func(system, value string) search.Predicate {
		return search.Predicate{Param: pSubject, Modifier: ":identifier",
			Value: search.Value{Ref: &search.RefValue{System: system, Code: value, HasSystem: system != ""}}}
	}
	noSystem := search.Predicate{Param: pSubject, Modifier: ":identifier",
		Value: search.Value{Ref: &search.RefValue{Code: "9434765919", HasSystem: true}}}
	runSearchCases(t, r, []searchCase{
		typed("ServiceRequest", "type and id", sr("sr-1"), qRef(pSubject, "Patient", "pat-1")),
		typed("ServiceRequest", "id only", sr("sr-1"), qRef(pSubject, "", "pat-1")),
		typed("ServiceRequest", "target deleted, reference still indexed", sr("sr-5"), qRef(pSubject, "Patient", "pat-5")),
		typed("ServiceRequest", "several referrers", sr("sr-1", "sr-3"), qRef(pRequester, "Practitioner", "pr-1")),
		typed("ServiceRequest", "other target type", sr("sr-2"), qRef(pRequester, "Organization", "org-2")),
		typed("ServiceRequest", "type must match", []string{}, qRef(pRequester, "Organization", "pr-1")),
		{"OR", search.Query{Type: "ServiceRequest", Where: []search.Clause{
			or(qRef(pRequester, "Practitioner", "pr-1"), qRef(pRequester, "Organization", "org-2"))}}, sr("sr-1", "sr-2", "sr-3")},
		typed("ServiceRequest", ":missing=true", sr("sr-4"), qMissing(pRequester, true)),
		typed("ServiceRequest", ":missing=false", sr("sr-1", "sr-2", "sr-3", "sr-5"), qMissing(pRequester, false)),
		typed("Observation", "id only matches every type", obs("obs-1", "obs-2", "obs-6"), qRef(pSubject, "", "pat-1")),
		typed("Observation", "typed excludes same id of another type", obs("obs-1", "obs-2"), qRef(pSubject, "Patient", "pat-1")),
		typed("Observation", "other type same id", obs("obs-6"), qRef(pSubject, "Group", "pat-1")),
		typed("QuestionnaireResponse", "canonical any version", qr("qr-1", "qr-2"), canonical(qnrURL, "")),
		typed("QuestionnaireResponse", "canonical with version", qr("qr-2"), canonical(qnrURL, "2.0")),
		typed("QuestionnaireResponse", "canonical unknown version", []string{}, canonical(qnrURL, "3.0")),
		typed("QuestionnaireResponse", "local reference to the same questionnaire", qr("qr-3"), qRef(pQnr, "Questionnaire", "q-1")),
		typed("QuestionnaireResponse", ":identifier system|value", qr("qr-1"), identifier(sysNHS, "9434765919")),
		typed("QuestionnaireResponse", ":identifier value in any system", qr("qr-1", "qr-2"), identifier("", "9434765919")),
		typed("QuestionnaireResponse", ":identifier |value: no system", qr("qr-2"), noSystem),
		typed("QuestionnaireResponse", ":identifier wrong system", []string{}, identifier(sysHospital, "9434765919")),
		typed("QuestionnaireResponse", ":identifier system|: any value in that system", qr("qr-1"), identifier(sysNHS, "")),
		typed("QuestionnaireResponse", "identifier reference is not a local one", qr("qr-3"), qRef(pSubject, "Patient", "pat-2")),
	})
}
