// Package conformance holds Telederm's black-box tests: they speak only HTTP
// to a FHIR base URL. By default each test starts a fresh in-process
// Telederm on a temporary directory; set TELEDERM_BASE_URL to run the same
// tests against any running server.
package conformance
