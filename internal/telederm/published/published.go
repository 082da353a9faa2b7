// Package published is how the server publishes the teledermatology data
// model (package profiles): it installs the StructureDefinitions,
// ValueSets, CodeSystems and SearchParameters into the store as ordinary
// resources, keeps clients from writing over them, and lists the profiles
// in the CapabilityStatement.
package published

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/telederm/telederm/profiles"
)

// resource is one published resource: its type, id and authored JSON.
type resource struct {
	Type, ID, URL string
	// Profiled is the resource type a profile constrains (empty for
	// extensions, terminology and SearchParameters).
	Profiled string
	Body     []byte
}

// all reads the published resources once; they are embedded, so a
// failure is a build defect that the tests catch.
var all = sync.OnceValue(func() []resource {
	var out []resource
	for _, b := range profiles.Resources() {
		var head struct {
			ResourceType, ID, URL, Kind, Type, Derivation string
		}
		if err := json.Unmarshal(b, &head); err != nil || head.ResourceType == "" || head.ID == "" {
			panic(fmt.Sprintf("published: an embedded resource without resourceType or id: %v", err))
		}
		r := resource{Type: head.ResourceType, ID: head.ID, URL: head.URL, Body: b}
		if head.ResourceType == "StructureDefinition" && head.Kind == "resource" && head.Derivation == "constraint" {
			r.Profiled = head.Type
		}
		out = append(out, r)
	}
	return out
})
