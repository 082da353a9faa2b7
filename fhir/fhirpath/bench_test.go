package fhirpath

import "testing"

// BenchmarkEvalPatient evaluates the Patient parameters' kind of paths
// (plain, union with other types, choice, where, resolve) on one Patient.
func BenchmarkEvalPatient(b *testing.B) {
	res := decode(b, patientJSON)
	exprs := []*Expr{
		MustCompile("Patient.birthDate | Person.birthDate | RelatedPerson.birthDate"),
		MustCompile("Patient.name"),
		MustCompile("Patient.identifier"),
		MustCompile("Patient.telecom.where(system='email') | Person.telecom.where(system='email') | Practitioner.telecom.where(system='email')"),
		MustCompile("Patient.generalPractitioner.where(resolve() is Practitioner)"),
		MustCompile("Patient.deceased.exists() and Patient.deceased != false"),
		MustCompile("Resource.meta.lastUpdated"),
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range exprs {
			if _, err := e.Eval(res); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEvalSimple is one plain path, the commonest expression.
func BenchmarkEvalSimple(b *testing.B) {
	res := decode(b, patientJSON)
	e := MustCompile("Patient.birthDate")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(res); err != nil {
			b.Fatal(err)
		}
	}
}
