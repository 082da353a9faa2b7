package mongo

import (
	"testing"

	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/store/storetest"
)

// mongoCapabilities are the searches this stage of the backend refuses.
var mongoCapabilities = storetest.Capabilities{Unsupported: map[storetest.Feature]string{
	storetest.FeatureAnyOwner: "issue 9, a later stage of the MongoDB backend",
}}

func TestRepository(t *testing.T) {
	storetest.RunRepositoryTestsWith(t, func(t *testing.T) store.Repository {
		return openTest(t, Options{AllowNonAtomic: true})
	}, mongoCapabilities)
}
