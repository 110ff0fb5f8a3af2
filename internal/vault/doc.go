// Package vault holds the cryptography of field encryption (ENC-2 to
// ENC-5): the key-encryption keys (KEK) from a key file, the environment
// or a key-management service; the data keys (DEK) they wrap, one per
// client; the format of an encrypted field; and the keyed hashes (blind
// indexes) that let the store find a value by equality without holding
// it. It does no I/O of the store: the record service asks it to seal and
// open fields and to wrap and unwrap data keys, and keeps the wrapped keys
// in the store.
//
// Every primitive is the standard library's: AES-256-GCM with random
// 96-bit nonces for fields and locally wrapped keys, HMAC-SHA-256 for
// blind indexes, HKDF-SHA-256 to derive purpose keys, crypto/rand for
// every key and nonce. A data key encrypts the fields of one client only,
// so the number of nonces drawn under one key stays far below the 2^32
// that random GCM nonces allow (NIST SP 800-38D).
//
// The format of a sealed field is versioned and names its data key:
//
//	"e1:" base64url( 0x01 | data key id (8 bytes, big endian) | nonce (12) | ciphertext and tag )
//
// and its associated data binds the table, the record's id, the field and
// the data key's id, so that a ciphertext moved to another row, column or
// key fails to open.
package vault
