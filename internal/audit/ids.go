package audit

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// ids turns store keys into AuditEvent ids and back. An id is the key
// encrypted with the store's own AES key (one block): stable across
// restarts, decodable without an index, and it neither reveals how many
// events exist nor can be guessed from another id; the rest of the block
// is a fixed check that a forged id fails.
//
// Two key sizes exist. The SQLite store's key is its sequence number (8
// bytes, big-endian) after an 8-byte check, as ids have always been. The
// MongoDB store, shared by several processes, has no single sequence: its
// key is a 12-byte ObjectID (seconds, a per-process random value and a
// counter: unique across processes without coordination), after a 4-byte
// check. The two checks differ in their first four bytes, so a decrypted
// block is one kind or neither.
type ids struct{ block cipher.Block }

// idKeySize is the AES-256 key stored with the events.
const idKeySize = 32

// Key sizes, and the checks that fill the rest of the plaintext block.
const (
	seqKeySize = 8
	oidKeySize = 12
)

var (
	idCheck    = [aes.BlockSize - seqKeySize]byte{'t', 'e', 'l', 'e', 'a', 'u', 'd', 't'}
	oidIDCheck = [aes.BlockSize - oidKeySize]byte{'T', 'a', 'u', 'd'}
)

func newIDs(key []byte) (ids, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return ids{}, fmt.Errorf("audit: id key: %w", err)
	}
	return ids{block: b}, nil
}

// id returns the AuditEvent id of a store key: 32 hex digits.
func (x ids) id(key string) string {
	var b [aes.BlockSize]byte
	switch len(key) {
	case seqKeySize:
		copy(b[:], idCheck[:])
	case oidKeySize:
		copy(b[:], oidIDCheck[:])
	default:
		panic(fmt.Sprintf("audit: a store key of %d bytes", len(key)))
	}
	copy(b[aes.BlockSize-len(key):], key)
	x.block.Encrypt(b[:], b[:])
	return hex.EncodeToString(b[:])
}

// key returns the store key of an id, false when the id is not one this
// store's key issued.
func (x ids) key(id string) (string, bool) {
	if len(id) != 2*aes.BlockSize {
		return "", false
	}
	for i := 0; i < len(id); i++ { // one spelling per id: lower-case hex
		if c := id[i]; c >= 'A' && c <= 'F' {
			return "", false
		}
	}
	var b [aes.BlockSize]byte
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return "", false
	}
	x.block.Decrypt(b[:], b[:])
	switch {
	case [len(idCheck)]byte(b[:len(idCheck)]) == idCheck:
		key := b[len(idCheck):]
		return string(key), binary.BigEndian.Uint64(key) > 0 && binary.BigEndian.Uint64(key) <= 1<<63-1
	case [len(oidIDCheck)]byte(b[:len(oidIDCheck)]) == oidIDCheck:
		return string(b[len(oidIDCheck):]), true
	}
	return "", false
}

// seqKey is the SQLite store's key of a sequence number.
func seqKey(seq int64) string {
	var b [seqKeySize]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq))
	return string(b[:])
}

// keySeq is the sequence number of a SQLite store's key, false for any
// other key.
func keySeq(key string) (int64, bool) {
	if len(key) != seqKeySize {
		return 0, false
	}
	seq := int64(binary.BigEndian.Uint64([]byte(key)))
	return seq, seq > 0
}
