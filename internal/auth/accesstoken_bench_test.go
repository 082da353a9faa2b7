package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkAuthenticate is the token check alone, the part of a FHIR
// request's cost that authorization adds: Cached is a client reusing its
// token (every request after the first), Verify a token seen for the
// first time (signature and claims).
func BenchmarkAuthenticate(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(Config{DataDir: dir, BaseURL: "https://fhir.example.nhs.uk/r4"})
	if err != nil {
		b.Fatal(err)
	}
	t, err := s.issueAccessToken(tokenContext{ClientID: "bench", Subject: "bench", Scope: "system/*.rs"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/Patient/1", nil)
	r.Header.Set("Authorization", "Bearer "+t.token)
	b.Run("Cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verify", func(b *testing.B) {
		for b.Loop() {
			s.verified = newGrantCache(1)
			if _, err := s.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
