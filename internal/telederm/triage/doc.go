// Package triage is Telederm's deterministic pathway triage: the domain
// document's rules as data (rules.json, checked against rules.schema.json
// and then for meaning), applied to a flat Referral read from FHIR.
//
// Rules. Pathway is suspected-cancer when the weighted 7-point checklist
// reaches its threshold or any rule with that pathway fires ("consider"
// rules included: the GP decides, and may override); otherwise routine.
// Conditions (codesAny, bodySiteAny, textAny, sizeAtLeastMm, sizeOverMm,
// dermoscopyMelanoma, allOf, anyOf, not) hold when every field set holds;
// an unknown size or dermoscopy satisfies no test on it. The SCC "classic
// picture" is matched on the free text (non-healing, keratin/crust,
// indurat) plus a size over 10 mm; negations in text ("no crust") are not
// understood, which errs towards fast track. The photo rules are applied
// on the pathway in force after any override; a photo's size and type are
// judged apart from its view, so a small close-up still counts as the
// close-up and is reported under image-size.
//
// Extraction (FromResources, FromBundle), matching references as
// "Type/id", absolute URLs reduced to that, or a Bundle fullUrl:
//   - diagnosis codes: SNOMED codings of ServiceRequest.reasonCode and of
//     the Conditions in reasonReference (refuted or entered-in-error
//     skipped); body sites from ServiceRequest.bodySite and those
//     Conditions; free text from reasonCode.text, note, Condition.code.text
//     and Condition.note.
//   - lesion size: the largest of "12 mm"/"1.5 cm" in that text and an
//     Observation (basedOn the referral) coded SNOMED 246120007 with a
//     valueQuantity in mm or cm.
//   - checklist: the Observation coded seven-point-checklist#checklist
//     basedOn the referral (the last one wins); a feature whose component
//     is absent or has no valueBoolean is unknown; valueInteger is the
//     score given, compared with the computed one.
//   - dermoscopy: an Observation basedOn the referral coded
//     triage-rule#dermoscopy-melanoma with valueBoolean.
//   - photos: Media basedOn the referral (view from photo-view, else
//     dermoscopic when modality is DICOM DMS; width, height,
//     content.contentType); each image/* attachment of a current
//     DocumentReference whose context.related is the referral, with the
//     view from a photo-view coding in type or category, else unknown, and
//     no pixel size (reported as a recommendation, not a block).
//   - consent: an active Consent for the referral's subject with category
//     consent-type#clinical-photography, or an Observation basedOn the
//     referral with that code and valueBoolean true.
//   - override: the triage-override extension (pathway, reason). It counts
//     as an override only when its pathway differs from the rules'.
//
// DermatoscopeAvailable is not in FHIR: the caller sets it from the
// practice's configuration.
package triage
