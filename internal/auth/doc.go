// Package auth holds the credential primitives of Custos: argon2id password
// hashing with a common-password check (AUTH-1), a bounded pool for the
// hashing work (SHD-4), and random bearer secrets stored only as hashes
// (sessions, API tokens, setup codes; AUTH-5, AUTH-7). It knows nothing of
// users or storage; the service package uses it.
package auth
