// Package suite is Telederm's conformance suite as a product: a runner for
// FHIR R4 TestScript resources that speaks only HTTP to a base URL, so it
// can test any FHIR R4 server, not only Telederm.
//
// The tests are data. The suite's own TestScripts live in testscripts/ and
// are embedded in the binary (Builtin); integrators add their own with
// LoadDir. Run executes scripts against a server and returns a Report,
// which renders as a terminal table (WriteTable), an R4 TestReport Bundle
// (TestReportJSON) and JUnit XML (JUnitXML).
//
// What the runner understands of TestScript:
//
//   - fixtures: contained resources ("#id"), files beside the script, or
//     whatever the script's FixtureLoader resolves; autocreate/autodelete;
//     responses kept under responseId and requests under requestId.
//   - variables: defaultValue, expression, path (XPath-like paths such as
//     fhir:Patient/fhir:name/@value are read as FHIRPath), headerField,
//     sourceId, hint (a variable with only a hint needs a value from the
//     caller, Options.Vars). The runner adds runId (unique per run),
//     baseUrl and receiverUrl (its rest-hook receiver) when a script does
//     not declare them. ${name} is substituted in URLs, params, request
//     headers, assert values, expressions and fixture contents.
//   - operations: read, vread, create, update, updateCreate, delete,
//     deleteCondSingle, deleteCondMultiple, search, history, patch, batch,
//     transaction, capabilities and validate, or any method and url; params,
//     targetId, sourceId, requestHeader, accept, contentType and
//     encodeRequestUrl. A fixture is a template: an update whose id comes
//     from params or targetId gets that id in its body. A Binary fixture
//     sends its decoded content (malformed JSON, a JSON Patch, a form), so
//     a TestScript can carry bodies that are not valid resources.
//   - assertions: responseCode, response, contentType, headerField,
//     resource, expression, path, compareToSourceId with
//     compareToSourceExpression or compareToSourcePath, minimumId,
//     navigationLinks, requestMethod, requestURL, every operator and
//     warningOnly. validateProfileId is skipped: there is no profile
//     validation in the runner.
//
// The runner speaks JSON only: an operation asking for XML is sent as JSON
// and the assertions about XML are skipped with that reason. An operation
// aimed at an origin or destination other than 1 is skipped: the runner
// drives one server. A test (or script) can require something of the
// server's CapabilityStatement with the extension RequiresExtension
// (sub-extensions "expression", a FHIRPath on the CapabilityStatement, and
// "reason"); when the expression is not true the test is skipped with the
// reason. That is how the SMART and subscription tests skip on servers
// that do not advertise them.
package suite
