package suite

import (
	"net/http"
	"testing"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
)

// startTelederm starts a fresh in-process Telederm on a temporary data
// directory and returns its base URL. wrap, when set, wraps its handler:
// that is how the tests build a server that breaks one rule on purpose.
func startTelederm(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	if wrap == nil {
		return servertest.Start(t, server.Config{Auth: "off"})
	}
	return servertest.Start(t, server.Config{Auth: "off"}, wrap)
}
