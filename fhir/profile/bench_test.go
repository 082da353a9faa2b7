package profile

import (
	"context"
	"testing"
)

// BenchmarkValidate validates a conforming Patient against the test
// profile: identifier slicing by pattern with the NHS number invariant,
// closed telecom slicing, a complex extension, bindings and references.
func BenchmarkValidate(b *testing.B) {
	s := loadTestSet(b)
	doc := decodeDoc(b, goodPatient)
	ctx := context.Background()
	if issues := s.Validate(ctx, patientURL, doc); len(issues) != 0 {
		b.Fatalf("the benchmark Patient does not conform: %+v", issues)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Validate(ctx, patientURL, doc)
	}
}
