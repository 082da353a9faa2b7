// Package profile validates resources against StructureDefinition
// snapshots: the profiles Telederm publishes (profiles/) and, in tests,
// the R4 base definitions.
//
//	set, err := profile.Load(sd1, sd2, valueSet, codeSystem)
//	issues := set.Validate(ctx, "https://telederm.example/fhir/StructureDefinition/telederm-patient", doc)
//
// Load compiles each StructureDefinition's snapshot into a tree of
// elements (ids say where each element and slice belongs), compiles the
// invariants, and expands the ValueSets. Validate walks that tree against
// the instance (JSON decoded with json.Number numbers) and reports one
// fhir.Issue per violation, with the FHIRPath of the element at fault
// ("Patient.identifier[0].value"; a missing element is named by its path,
// "Patient.birthDate", or for a choice with one allowed type by that
// type's name, "Observation.component[2].valueBoolean"). It checks, for
// every element in the snapshot and every repeat in the instance:
//
//   - cardinality (min/max), per repeat of the parent;
//   - fixed[x] (exact, numbers by value) and pattern[x] (the instance holds
//     the pattern; an array in the pattern is met when each of its items
//     is held by some item of the instance's array);
//   - required bindings to ValueSets in the Set, on code, string, uri,
//     Coding and CodeableConcept (some coding must be in the ValueSet);
//     bindings to ValueSets not in the Set are not checked;
//   - the allowed types of a choice element ([x]);
//   - the target types of a Reference written Type/id (relative or
//     absolute, or #id of a contained resource) when every targetProfile is
//     known (in the Set, or an R4 base type);
//   - slicing with discriminators of type value, pattern, exists and type:
//     each repeat goes to the first slice whose fixed or pattern values at
//     every discriminator path it holds (for an Extension slice without a
//     fixed url, the url is the slice's type profile), slice cardinality is
//     checked, a repeat is checked against its slice's own elements, and a
//     repeat in no slice is an error when the rules are closed;
//   - elements whose one type profile is in the Set (extensions, complex
//     ones with their own sub-extension slicing) against that profile;
//   - constraints of severity error whose expression compiles in
//     fhir/fhirpath, with the element as focus and the resource as
//     %resource. An empty result is not a violation. A base-spec
//     constraint that does not compile (or fails to evaluate) is skipped;
//     one defined by a profile in the Set must compile (Load fails
//     otherwise), and an evaluation error on it is reported.
//
// A constraint is "defined by a profile in the Set" when its source is a
// StructureDefinition in the Set outside http://hl7.org/fhir/, or it has no
// source and its key appears in the profile's differential.
//
// Not checked: discriminators of type profile, re-slicing (slice names
// with "/"), ordered slicing, bindings other than required, maxLength,
// min/maxValue, and contained resources (they have no profile here).
package profile
