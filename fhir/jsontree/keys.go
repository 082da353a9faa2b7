package jsontree

// commonKeys are the FHIR element names resources use most (from the
// official R4 examples): decoding one as an object key takes the string
// from here instead of allocating a copy, which is a third of a decode's
// allocations.
var commonKeys = func() map[string]string {
	m := make(map[string]string, len(commonKeyList))
	for _, k := range commonKeyList {
		m[k] = k
	}
	return m
}()

var commonKeyList = []string{
	"code", "system", "value", "type", "id", "status", "display",
	"resourceType", "telecom", "url", "reference", "coding", "resource",
	"fullUrl", "name", "description", "date", "publisher", "text", "contact",
	"expression", "preferred", "extension", "base", "unit", "valueCode",
	"path", "version", "max", "min", "experimental", "kind", "definition",
	"div", "identity", "short", "subject", "target", "severity", "use", "key",
	"human", "performer", "identifier", "source", "comment", "valueQuantity",
	"item", "low", "high", "referenceRange", "linkId", "valueCodeableConcept",
	"start", "valueString", "category", "meta", "sequence", "period",
	"lastUpdated", "versionId", "profile", "security", "tag", "end",
	"language", "answer", "comparator", "title", "interpretation", "given",
	"family", "prefix", "suffix", "address", "city", "postalCode", "country",
	"district", "state", "patient", "valueSet", "gender", "valueCoding",
	"contained", "property", "condition", "valueUrl", "repeat", "line",
	"intent", "count", "actor", "action", "method", "frequency", "periodUnit",
	"timing", "doseAndRate", "product", "issued", "doseQuantity", "quantity",
	"route", "request", "encounter", "amount", "requester", "uri",
	"numerator", "denominator", "dosageInstruction", "active", "relationship",
	"component", "contentType", "authoredOn", "purpose", "entry",
	"medicationReference", "net", "valueBoolean", "valueInteger",
	"valueDateTime", "valueDate", "valueDecimal", "valueReference",
	"valueAttachment", "valueIdentifier", "valuePeriod", "valueRange",
	"valueRatio", "valueSampledData", "valueTime", "valueUri",
	"valueCanonical", "reasonCode", "reasonReference", "detail", "role",
	"managingOrganization", "generalPractitioner", "note", "priority",
	"specimen", "birthDate", "deceasedBoolean", "deceasedDateTime",
	"multipleBirthBoolean", "maritalStatus", "communication", "form",
	"bodySite", "basedOn", "partOf", "effectivePeriod", "onsetDateTime",
	"abatementDateTime", "recordedDate", "recorder", "asserter",
	"clinicalStatus", "verificationStatus", "occurrenceDateTime",
	"occurrencePeriod", "performerType", "locationCode", "supportingInfo",
	"conclusion", "conclusionCode", "result", "media", "link", "height",
	"width", "frames", "duration", "content", "data", "size", "hash",
	"creation", "attachment", "created", "modality", "view", "operator",
	"device", "businessStatus", "input", "output", "owner", "for", "focus",
	"restriction", "executionPeriod", "lastModified", "instantiatesCanonical",
	"search", "mode", "response", "location", "etag", "outcome", "total",
}
