package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/fhirpatch"
)

// PatchFHIRPath applies a FHIRPath Patch (a Parameters resource) to the current version.
func (s *Service) PatchFHIRPath(ctx context.Context, typ, id string, params []byte, ifMatch string) Response {
	return s.patch(ctx, typ, id, ifMatch, func(cur []byte) ([]byte, Response, bool) { return applyFHIRPathPatch(typ, cur, params) })
}

// applyFHIRPathPatch applies a FHIRPath Patch to a stored body.
func applyFHIRPathPatch(typ string, cur, params []byte) ([]byte, Response, bool) {
	patched, err := fhirpatch.ApplyWith(cur, params, fhirpatch.Options{Element: r4Element})
	if err == nil {
		return patched, Response{}, true
	}
	var pe *fhirpatch.Error
	switch {
	case !errors.As(err, &pe):
		// Only the stored body can fail this way, and it was written by us.
		return nil, fail(http.StatusInternalServerError, fhir.CodeException, "the stored resource could not be patched"), false
	case pe.Malformed:
		return nil, fail(http.StatusBadRequest, fhir.CodeStructure,
			"the FHIRPath Patch is malformed: "+pe.Reason, pe.Expression()), false
	}
	return nil, fail(http.StatusUnprocessableEntity, fhir.CodeProcessing,
		fmt.Sprintf("FHIRPath Patch operation %d cannot be applied to this %s: %s", pe.Op, typ, pe.Reason), pe.Expression()), false
}

// r4Element answers fhirpatch's model questions from the R4 protos the
// parser validates with, so add makes lists exactly where R4 has them.
func r4Element(path string) fhirpatch.ElementInfo {
	names := strings.Split(path, ".")
	md := r4Resources()[names[0]]
	var fd protoreflect.FieldDescriptor
	for _, name := range names[1:] {
		if md == nil {
			return fhirpatch.ElementInfo{}
		}
		if fd = fieldByJSONName(md, name); fd == nil {
			return fhirpatch.ElementInfo{}
		}
		md = fd.Message()
	}
	if fd == nil {
		return fhirpatch.ElementInfo{}
	}
	return fhirpatch.ElementInfo{Repeats: fd.IsList(), Choice: isChoice(fd)}
}

// fieldByJSONName finds an element; a choice element's JSON name carries
// its type (valueQuantity), which is a field of the choice's message.
func fieldByJSONName(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fields := md.Fields()
	if fd := fields.ByJSONName(name); fd != nil {
		return fd
	}
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		base := fd.JSONName()
		if len(name) > len(base) && strings.HasPrefix(name, base) && isChoice(fd) {
			suffix := name[len(base):]
			return fd.Message().Fields().ByJSONName(strings.ToLower(suffix[:1]) + suffix[1:])
		}
	}
	return nil
}

func isChoice(fd protoreflect.FieldDescriptor) bool {
	return fd.Message() != nil && fd.Message().Oneofs().ByName("choice") != nil
}

// r4Resources maps each resource type to its message, read from the
// ContainedResource the parser returns.
var r4Resources = sync.OnceValue(func() map[string]protoreflect.MessageDescriptor {
	fields := (&bcrpb.ContainedResource{}).ProtoReflect().Descriptor().Oneofs().ByName("oneof_resource").Fields()
	m := make(map[string]protoreflect.MessageDescriptor, fields.Len())
	for i := 0; i < fields.Len(); i++ {
		md := fields.Get(i).Message()
		m[string(md.Name())] = md
	}
	return m
})
