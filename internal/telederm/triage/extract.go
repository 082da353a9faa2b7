package triage

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// FromResources reads a referral ServiceRequest and the resources around it
// (FHIR R4 JSON as maps) into a Referral. References are matched as
// "Type/id" (absolute URLs and _history suffixes are reduced to that).
// DermatoscopeAvailable is left false: it is the practice's setting, not
// FHIR, and the caller sets it.
func FromResources(serviceRequest map[string]any, related []map[string]any) Referral {
	return extract(serviceRequest, "", related, nil)
}

// FromBundle reads a Bundle holding one referral (a ServiceRequest whose
// performerType is a dermatologist or the dermatology service) and its
// photos, checklist, Conditions and consent, resolving references by
// fullUrl too (urn:uuid: in a transaction before submission).
func FromBundle(bundle map[string]any) (Referral, error) {
	if str(bundle, "resourceType") != "Bundle" {
		return Referral{}, errors.New("not a Bundle")
	}
	var sr map[string]any
	var srURL string
	var related []map[string]any
	urls := map[string]map[string]any{}
	for _, e := range objs(bundle, "entry") {
		res, _ := e["resource"].(map[string]any)
		if res == nil {
			continue
		}
		if u := str(e, "fullUrl"); u != "" {
			urls[u] = res
		}
		if str(res, "resourceType") == "ServiceRequest" && IsReferral(res) {
			if sr != nil {
				return Referral{}, errors.New("Bundle holds more than one referral ServiceRequest")
			}
			sr, srURL = res, str(e, "fullUrl")
			continue
		}
		related = append(related, res)
	}
	if sr == nil {
		return Referral{}, errors.New("Bundle holds no referral ServiceRequest (performerType 18803008 or 700241009)")
	}
	return extract(sr, srURL, related, urls), nil
}

// IsReferral reports whether a ServiceRequest is a referral for the
// workflow: performerType has SNOMED 18803008 or 700241009.
func IsReferral(sr map[string]any) bool {
	for _, c := range codings(obj(sr, "performerType")) {
		if str(c, "system") == SNOMED && (str(c, "code") == "18803008" || str(c, "code") == "700241009") {
			return true
		}
	}
	return false
}

func extract(sr map[string]any, srURL string, related []map[string]any, urls map[string]map[string]any) Referral {
	ref := Referral{Features: map[string]FeatureState{}}
	index := map[string]map[string]any{}
	for u, r := range urls {
		index[u] = r
	}
	for _, r := range related {
		if id := str(r, "id"); id != "" {
			index[str(r, "resourceType")+"/"+id] = r
		}
	}
	names := map[string]bool{}
	if id := str(sr, "id"); id != "" {
		names["ServiceRequest/"+id] = true
	}
	if srURL != "" {
		names[srURL] = true
	}
	isReferral := func(reference string) bool { return names[reference] || names[normalize(reference)] }
	basedOnReferral := func(r map[string]any, field string) bool {
		for _, b := range objs(r, field) {
			if isReferral(str(b, "reference")) {
				return true
			}
		}
		return false
	}
	subject := normalize(str(obj(sr, "subject"), "reference"))

	for _, rc := range objs(sr, "reasonCode") {
		ref.DiagnosisCodes = append(ref.DiagnosisCodes, snomedCodes(rc)...)
		ref.addText(str(rc, "text"))
	}
	for _, bs := range objs(sr, "bodySite") {
		ref.BodySites = append(ref.BodySites, snomedCodes(bs)...)
	}
	for _, n := range objs(sr, "note") {
		ref.addText(str(n, "text"))
	}
	for _, rr := range objs(sr, "reasonReference") {
		c := index[str(rr, "reference")]
		if c == nil {
			c = index[normalize(str(rr, "reference"))]
		}
		if c == nil || str(c, "resourceType") != "Condition" || hasCode(obj(c, "verificationStatus"), "", "refuted", "entered-in-error") {
			continue
		}
		ref.DiagnosisCodes = append(ref.DiagnosisCodes, snomedCodes(obj(c, "code"))...)
		ref.addText(str(obj(c, "code"), "text"))
		for _, bs := range objs(c, "bodySite") {
			ref.BodySites = append(ref.BodySites, snomedCodes(bs)...)
		}
		for _, n := range objs(c, "note") {
			ref.addText(str(n, "text"))
		}
	}
	ref.Override = overrideOf(sr)

	for _, r := range related {
		switch str(r, "resourceType") {
		case "Observation":
			if s := str(r, "status"); s == "entered-in-error" || s == "cancelled" || !basedOnReferral(r, "basedOn") {
				continue
			}
			code := obj(r, "code")
			switch {
			case hasCode(code, SystemChecklist, "checklist"):
				ref.readChecklist(r)
			case hasCode(code, SNOMED, "246120007"):
				q := obj(r, "valueQuantity")
				if v, ok := q["value"].(float64); ok {
					if mm, ok := toMm(v, firstNonEmpty(str(q, "code"), str(q, "unit"))); ok {
						ref.setSize(mm)
					}
				}
			case hasCode(code, SystemRule, "dermoscopy-melanoma"):
				if b, ok := r["valueBoolean"].(bool); ok {
					ref.DermoscopyMelanoma = &b
				}
			case hasCode(code, SystemConsentType, "clinical-photography"):
				if b, ok := r["valueBoolean"].(bool); ok {
					ref.Consent = b
				}
			}
		case "Consent":
			if str(r, "status") == "active" && subject != "" && normalize(str(obj(r, "patient"), "reference")) == subject &&
				anyCode(objs(r, "category"), SystemConsentType, "clinical-photography") {
				ref.Consent = true
			}
		case "Media":
			if str(r, "status") == "entered-in-error" || !basedOnReferral(r, "basedOn") {
				continue
			}
			p := Photo{Source: "Media/" + str(r, "id"), ContentType: str(obj(r, "content"), "contentType"),
				Width: num(r, "width"), Height: num(r, "height")}
			p.View = viewOf([]map[string]any{obj(r, "view")})
			if p.View == "" && hasCode(obj(r, "modality"), "http://dicom.nema.org/resources/ontology/DCM", "DMS") {
				p.View = "dermoscopic"
			}
			ref.Photos = append(ref.Photos, p)
		case "DocumentReference":
			if s := str(r, "status"); s == "entered-in-error" || s == "superseded" || !basedOnReferral(obj(r, "context"), "related") {
				continue
			}
			view := viewOf(append([]map[string]any{obj(r, "type")}, objs(r, "category")...))
			for i, c := range objs(r, "content") {
				att := obj(c, "attachment")
				if !strings.HasPrefix(strings.ToLower(str(att, "contentType")), "image/") {
					continue // a letter or report, not a photo
				}
				ref.Photos = append(ref.Photos, Photo{Source: "DocumentReference/" + str(r, "id") + "#" + strconv.Itoa(i),
					View: view, ContentType: str(att, "contentType")})
			}
		}
	}
	return ref
}

func (ref *Referral) readChecklist(o map[string]any) {
	// The last checklist read wins; each feature starts unknown.
	ref.Checklist = true
	ref.Features = map[string]FeatureState{}
	ref.ScoreGiven = nil
	if v, ok := o["valueInteger"].(float64); ok {
		n := int(v)
		ref.ScoreGiven = &n
	}
	for _, c := range objs(o, "component") {
		for _, cd := range codings(obj(c, "code")) {
			if str(cd, "system") != SystemChecklist {
				continue
			}
			if b, ok := c["valueBoolean"].(bool); ok {
				ref.Features[str(cd, "code")] = map[bool]FeatureState{true: Present, false: Absent}[b]
			}
		}
	}
}

var sizeText = regexp.MustCompile(`(?i)(\d+(?:\.\d+)?)\s*(mm|cm)\b`)

// addText keeps free text and takes a lesion size written in it ("12 mm",
// "1.5cm"); the largest size seen wins.
func (ref *Referral) addText(t string) {
	if strings.TrimSpace(t) == "" {
		return
	}
	ref.Texts = append(ref.Texts, t)
	for _, m := range sizeText.FindAllStringSubmatch(t, -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			continue
		}
		if mm, ok := toMm(v, m[2]); ok {
			ref.setSize(mm)
		}
	}
}

func (ref *Referral) setSize(mm float64) {
	if ref.SizeMm == nil || mm > *ref.SizeMm {
		ref.SizeMm = &mm
	}
}

func toMm(v float64, unit string) (float64, bool) {
	switch strings.ToLower(unit) {
	case "mm", "millimeter", "millimetre":
		return v, true
	case "cm", "centimeter", "centimetre":
		return v * 10, true
	}
	return 0, false
}

func overrideOf(sr map[string]any) *Override {
	for _, e := range objs(sr, "extension") {
		if str(e, "url") != ExtensionOverride {
			continue
		}
		o := &Override{}
		for _, sub := range objs(e, "extension") {
			switch str(sub, "url") {
			case "pathway":
				o.Pathway = str(obj(sub, "valueCoding"), "code")
			case "reason":
				cc := obj(sub, "valueCodeableConcept")
				o.ReasonText = str(cc, "text")
				for _, c := range codings(cc) {
					if str(c, "system") == SystemOverrideReason {
						o.Reason = str(c, "code")
					}
				}
			}
		}
		if o.Pathway != "" {
			return o
		}
	}
	return nil
}

func viewOf(concepts []map[string]any) string {
	for _, cc := range concepts {
		for _, c := range codings(cc) {
			if str(c, "system") == SystemPhotoView {
				return str(c, "code")
			}
		}
	}
	return ""
}

// normalize reduces "http://host/fhir/Patient/1/_history/2" to "Patient/1";
// urn: references are returned unchanged.
func normalize(reference string) string {
	if reference == "" || strings.HasPrefix(reference, "urn:") {
		return reference
	}
	if i := strings.Index(reference, "/_history/"); i >= 0 {
		reference = reference[:i]
	}
	parts := strings.Split(reference, "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return reference
}

// Small readers over decoded JSON.

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func obj(m map[string]any, k string) map[string]any { o, _ := m[k].(map[string]any); return o }

func num(m map[string]any, k string) int { f, _ := m[k].(float64); return int(f) }

func objs(m map[string]any, k string) []map[string]any {
	arr, _ := m[k].([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, v := range arr {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func codings(cc map[string]any) []map[string]any { return objs(cc, "coding") }

// hasCode: system "" matches any system.
func hasCode(cc map[string]any, system string, codes ...string) bool {
	for _, c := range codings(cc) {
		if (system == "" || str(c, "system") == system) && contains(codes, str(c, "code")) {
			return true
		}
	}
	return false
}

func anyCode(ccs []map[string]any, system, code string) bool {
	for _, cc := range ccs {
		if hasCode(cc, system, code) {
			return true
		}
	}
	return false
}

func snomedCodes(cc map[string]any) []string {
	var out []string
	for _, c := range codings(cc) {
		if str(c, "system") == SNOMED && str(c, "code") != "" {
			out = append(out, str(c, "code"))
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
