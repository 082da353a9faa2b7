package fhirpath

//go:generate go run ./internal/genchoice -out choice_gen.go
