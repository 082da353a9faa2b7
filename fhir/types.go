package fhir

import (
	"sort"
	"sync"

	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// resourceTypes is read once from the parser's own ContainedResource
// definition, so the list of types the server accepts and advertises cannot
// drift from what it can actually parse.
var resourceTypes = sync.OnceValues(func() ([]string, map[string]bool) {
	oneof := (&bcrpb.ContainedResource{}).ProtoReflect().Descriptor().Oneofs().ByName("oneof_resource")
	fields := oneof.Fields()
	names := make([]string, 0, fields.Len())
	set := make(map[string]bool, fields.Len())
	for i := 0; i < fields.Len(); i++ {
		n := string(fields.Get(i).Message().Name())
		names = append(names, n)
		set[n] = true
	}
	sort.Strings(names)
	return names, set
})

// ResourceTypes lists every R4 resource type, sorted.
func ResourceTypes() []string {
	names, _ := resourceTypes()
	return append([]string(nil), names...)
}

// IsResourceType reports whether s is an R4 resource type name.
func IsResourceType(s string) bool {
	_, set := resourceTypes()
	return set[s]
}
