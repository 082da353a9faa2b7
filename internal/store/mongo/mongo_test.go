package mongo

import (
	"testing"

	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/store/storetest"
)

func TestRepository(t *testing.T) {
	storetest.RunRepositoryTests(t, func(t *testing.T) store.Repository {
		return openTest(t, Options{AllowNonAtomic: true})
	})
}

func TestDeliveries(t *testing.T) {
	storetest.RunDeliveriesTests(t, func(t *testing.T) storetest.Backend {
		return openTest(t, Options{AllowNonAtomic: true})
	})
}
