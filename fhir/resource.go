package fhir

import (
	"fmt"
	"time"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	binpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/binary_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Resource is a parsed, validated R4 resource.
type Resource struct {
	contained proto.Message         // the ContainedResource the parser returned
	inner     protoreflect.Message  // the resource inside it (Patient, Binary, ...)
	typ       protoreflect.FullName // kept for error messages
	nested    []nestedResource      // Parameters only: see parameters.go
	tree      map[string]any        // see tree.go; nil unless ParseTree kept it
}

func newResource(msg proto.Message) (*Resource, error) {
	m := msg.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("oneof_resource")
	if od == nil {
		return nil, fmt.Errorf("parser returned %s, not a ContainedResource", m.Descriptor().FullName())
	}
	fd := m.WhichOneof(od)
	if fd == nil {
		return nil, fmt.Errorf("resource has no content")
	}
	inner := m.Get(fd).Message()
	return &Resource{contained: msg, inner: inner, typ: inner.Descriptor().FullName()}, nil
}

// Type is the resource type name, e.g. "Patient".
func (r *Resource) Type() string { return string(r.inner.Descriptor().Name()) }

// ID is the logical id, or "" when the resource has none.
func (r *Resource) ID() string {
	fd := r.inner.Descriptor().Fields().ByName("id")
	if fd == nil || !r.inner.Has(fd) {
		return ""
	}
	if id, ok := r.inner.Get(fd).Message().Interface().(*d4pb.Id); ok {
		return id.GetValue()
	}
	return ""
}

// SetID replaces the logical id.
func (r *Resource) SetID(id string) {
	fd := r.inner.Descriptor().Fields().ByName("id")
	r.inner.Set(fd, protoreflect.ValueOfMessage((&d4pb.Id{Value: id}).ProtoReflect()))
	if r.tree != nil {
		r.tree["id"] = id
	}
}

// SetMeta sets the server-owned meta.versionId and meta.lastUpdated, keeping
// whatever else the client put in meta (profile, tag, security, source).
func (r *Resource) SetMeta(versionID string, lastUpdated time.Time) {
	fd := r.inner.Descriptor().Fields().ByName("meta")
	meta, ok := r.inner.Mutable(fd).Message().Interface().(*d4pb.Meta)
	if !ok {
		return // every R4 resource has Meta; unreachable
	}
	r.setTreeMeta(versionID, lastUpdated)
	meta.VersionId = &d4pb.Id{Value: versionID}
	meta.LastUpdated = &d4pb.Instant{
		ValueUs:   lastUpdated.Truncate(time.Millisecond).UnixMicro(),
		Timezone:  "Z",
		Precision: d4pb.Instant_MILLISECOND,
	}
}

// TakeBinaryData removes Binary.data from a Binary resource and returns it
// with the content type, so the bytes can live in the blob store rather than
// in the resource row. ok is false for other resource types.
func (r *Resource) TakeBinaryData() (data []byte, contentType string, ok bool) {
	b, isBinary := r.inner.Interface().(*binpb.Binary)
	if !isBinary {
		return nil, "", false
	}
	data = b.GetData().GetValue()
	b.Data = nil
	r.tree = nil
	return data, b.GetContentType().GetValue(), true
}
