package fhir

//go:generate go run ./internal/gensummary -in ../../shared/spec/r4/structure-definitions.ndjson.gz -out summary_gen.go
//go:generate go run ./internal/gencompartment -in ../../shared/spec/r4/compartment-definitions.json -out compartment_gen.go
