package search

// registry_gen.go is generated from the R4 spec in ../shared and committed,
// so the server builds without ../shared.
//go:generate go run ./internal/gen
