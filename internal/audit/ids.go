package audit

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// ids turns sequence numbers into AuditEvent ids and back. An id is the
// sequence number encrypted with the database's own AES key: stable across
// restarts, decodable without an index, and it neither reveals how many
// events exist nor can be guessed from another id (eight of the sixteen
// bytes are a fixed check that a forged id fails).
type ids struct{ block cipher.Block }

// idKeySize is the AES-256 key stored with the database.
const idKeySize = 32

// idCheck fills the first half of the plaintext block.
var idCheck = [8]byte{'t', 'e', 'l', 'e', 'a', 'u', 'd', 't'}

func newIDs(key []byte) (ids, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return ids{}, fmt.Errorf("audit: id key: %w", err)
	}
	return ids{block: b}, nil
}

// id returns the AuditEvent id of sequence number seq: 32 hex digits.
func (x ids) id(seq int64) string {
	var b [aes.BlockSize]byte
	copy(b[:8], idCheck[:])
	binary.BigEndian.PutUint64(b[8:], uint64(seq))
	x.block.Encrypt(b[:], b[:])
	return hex.EncodeToString(b[:])
}

// seq returns the sequence number of an id, false when the id is not one
// this database issued.
func (x ids) seq(id string) (int64, bool) {
	if len(id) != 2*aes.BlockSize {
		return 0, false
	}
	for i := 0; i < len(id); i++ { // one spelling per id: lower-case hex
		if c := id[i]; c >= 'A' && c <= 'F' {
			return 0, false
		}
	}
	var b [aes.BlockSize]byte
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return 0, false
	}
	x.block.Decrypt(b[:], b[:])
	if [8]byte(b[:8]) != idCheck {
		return 0, false
	}
	seq := int64(binary.BigEndian.Uint64(b[8:]))
	return seq, seq > 0
}
