package mongo

import (
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/telederm/telederm/internal/store"
)

// resourceDoc is a document of its type's resources collection: the current
// version of one resource and its search index.
type resourceDoc struct {
	Key  string  `bson:"_id"` // "Type/id"
	Type string  `bson:"type"`
	ID   string  `bson:"id"`
	V    int64   `bson:"v"`
	Seq  int64   `bson:"seq"` // the current version's sequence number
	CS   int64   `bson:"cs"`  // the sequence number of the first version ever: the default order
	LU   int64   `bson:"lu"`  // lastUpdated, µs since the epoch
	M    string  `bson:"m"`
	Del  bool    `bson:"del"`
	B    *[]byte `bson:"b,omitempty"` // the resource JSON, exactly as given (BSON binary)
	BR   string  `bson:"br,omitempty"`

	SearchIndex `bson:",inline"`
}

// versionDoc is a document of the versions collection. Its _id is
// "Type/id/v": claiming a version is inserting it.
type versionDoc struct {
	Key  string  `bson:"_id"`
	Seq  int64   `bson:"seq"` // global commit order: history's order and cursors
	Type string  `bson:"type"`
	ID   string  `bson:"id"`
	V    int64   `bson:"v"`
	LU   int64   `bson:"lu"`
	M    string  `bson:"m"`
	Del  bool    `bson:"del"`
	B    *[]byte `bson:"b,omitempty"`
	BR   string  `bson:"br,omitempty"`
	// Sup is the next version's lastUpdated (µs): when this one stopped
	// being current, for _at. Unset while current.
	Sup *int64 `bson:"sup,omitempty"`
	// Pend is set from the version's claim until its resource document is
	// written: what a writer that finds the claim abandoned needs to finish
	// it (commit.go). A version with Pend is visible only once its
	// resource has reached it.
	Pend *pending `bson:"pend,omitempty"`
}

// pending is the part of the new resource document a claim carries.
type pending struct {
	CS int64 `bson:"cs"`
	// At is when the claim was made (µs): a claim still pending long after
	// is abandoned (abandonAfter).
	At int64 `bson:"at"`
	// Txn marks a claim of a multi-document transaction: abandoned, it is
	// withdrawn, never finished alone (that would apply part of the
	// transaction).
	Txn         bool `bson:"txn,omitempty"`
	SearchIndex `bson:",inline"`
}

// versionFields projects the fields of a store.Version.
var versionFields = bson.D{
	{Key: "_id", Value: 1}, {Key: "seq", Value: 1}, {Key: "type", Value: 1}, {Key: "id", Value: 1}, {Key: "v", Value: 1},
	{Key: "lu", Value: 1}, {Key: "m", Value: 1}, {Key: "del", Value: 1}, {Key: "b", Value: 1}, {Key: "br", Value: 1},
}

func resourceKey(typ, id string) string { return typ + "/" + id }

func versionKey(typ, id string, v int64) string {
	return typ + "/" + id + "/" + strconv.FormatInt(v, 10)
}

func (d *resourceDoc) version() store.Version {
	return makeVersion(d.Type, d.ID, d.V, d.LU, d.M, d.Del, d.B, d.BR)
}

func (d *versionDoc) version() store.Version {
	return makeVersion(d.Type, d.ID, d.V, d.LU, d.M, d.Del, d.B, d.BR)
}

func makeVersion(typ, id string, v, lu int64, method string, deleted bool, body *[]byte, blob string) store.Version {
	out := store.Version{Type: typ, ID: id, VersionID: v, LastUpdated: fromMicros(lu),
		Method: store.Method(method), Deleted: deleted, BlobRef: blob}
	if body != nil {
		// Non-nil even when empty: an empty body is not a tombstone's.
		out.Body = append([]byte{}, (*body)...)
	}
	return out
}

func toMicros(t time.Time) int64    { return t.UnixMicro() }
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// bodyOf is the body as a document field: nil for a tombstone, a copy
// otherwise (the caller may reuse its slice).
func bodyOf(b []byte) *[]byte {
	if b == nil {
		return nil
	}
	c := append([]byte{}, b...)
	return &c
}
