package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// KEK is a key-encryption key with its versions (ENC-3): it wraps each
// client's data key, and the store keeps only the wrapped form. A new
// version wraps from then on; older versions still unwrap, until a
// rotation has re-wrapped every data key.
type KEK interface {
	// Describe says where the key lives, for status output: never the key.
	Describe() string
	// Wrap encrypts a data key under the current version; aad binds it to
	// its subject ("contact:7"), so a wrapped key moved to another subject
	// does not unwrap.
	Wrap(ctx context.Context, dek, aad []byte) (wrapped []byte, version int, err error)
	// Unwrap decrypts a data key wrapped under version. ErrIntegrity when
	// it does not open.
	Unwrap(ctx context.Context, wrapped []byte, version int, aad []byte) ([]byte, error)
	// Rotate adds a version, which wraps from then on, and returns it.
	Rotate(ctx context.Context) (int, error)
	// Versions lists the versions, oldest first.
	Versions(ctx context.Context) ([]Version, error)
}

// Version is one version of a KEK.
type Version struct {
	N       int       `json:"version"`
	Created time.Time `json:"created"`
	Current bool      `json:"current"`
}

// Local is a KEK whose versions this process holds: from a key file
// (KeyFile) or from the environment (ParseKEK). It wraps with AES-256-GCM.
type Local struct {
	mu       sync.RWMutex
	desc     string
	keys     map[int]cipher.AEAD
	versions []Version
	// save writes the versions and their keys after a rotation; nil when
	// the source cannot change (the environment).
	save func(raw map[int][]byte, versions []Version) error
	raw  map[int][]byte

	// A key file is read again when it changes (another process rotated
	// it: custos keys rotate beside a running server), checked at most
	// every refreshEvery, and at once for a version this process lacks.
	path    string
	mod     time.Time
	checked time.Time
}

// refreshEvery is how often a key file's change is looked for.
const refreshEvery = 5 * time.Second

// refresh reloads the key file if it changed since it was read; with
// force, whenever it was last checked.
func (l *Local) refresh(force bool) {
	if l.path == "" {
		return
	}
	now := time.Now()
	if !force {
		// Most calls fall between checks: they only read the time.
		l.mu.RLock()
		due := now.Sub(l.checked) >= refreshEvery
		l.mu.RUnlock()
		if !due {
			return
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !force && now.Sub(l.checked) < refreshEvery {
		return
	}
	l.checked = now
	fi, err := os.Stat(l.path)
	if err != nil || fi.ModTime().Equal(l.mod) {
		return
	}
	fresh, err := KeyFile(l.path, false)
	if err != nil || !extends(fresh.raw, l.raw) {
		// A broken file, or one that drops a version or changes a key
		// (another deployment's, a stale copy), is not taken: the
		// versions in memory stay, and keys wrapped under them open.
		return
	}
	l.keys, l.raw, l.versions, l.mod = fresh.keys, fresh.raw, fresh.versions, fresh.mod
}

// extends reports whether the versions of next hold every version of prev
// with the same key: a rotation adds versions, nothing else changes.
func extends(next, prev map[int][]byte) bool {
	for n, k := range prev {
		if nk, ok := next[n]; !ok || subtle.ConstantTimeCompare(nk, k) != 1 {
			return false
		}
	}
	return true
}

var _ KEK = (*Local)(nil)

func newLocal(desc string, raw map[int][]byte, versions []Version) (*Local, error) {
	l := &Local{desc: desc, keys: map[int]cipher.AEAD{}, raw: raw, versions: versions}
	for n, k := range raw {
		aead, err := gcm(k)
		if err != nil {
			return nil, fmt.Errorf("vault: %s: version %d: %w", desc, n, err)
		}
		l.keys[n] = aead
	}
	if l.current() == 0 {
		return nil, fmt.Errorf("vault: %s holds no key", desc)
	}
	return l, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a key has %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// current is the current version, 0 for none. l.mu is held.
func (l *Local) current() int {
	for _, v := range l.versions {
		if v.Current {
			return v.N
		}
	}
	return 0
}

// Describe implements KEK.
func (l *Local) Describe() string { return l.desc }

func wrapAAD(aad []byte, version int) []byte {
	return append(append([]byte("custos/dek/v1|"), aad...), "|"+strconv.Itoa(version)...)
}

// Wrap implements KEK.
func (l *Local) Wrap(_ context.Context, dek, aad []byte) ([]byte, int, error) {
	l.refresh(false)
	l.mu.RLock()
	defer l.mu.RUnlock()
	v := l.current()
	aead := l.keys[v]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(dek)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, 0, err
	}
	return aead.Seal(nonce, nonce, dek, wrapAAD(aad, v)), v, nil
}

// Unwrap implements KEK.
func (l *Local) Unwrap(_ context.Context, wrapped []byte, version int, aad []byte) ([]byte, error) {
	l.mu.RLock()
	aead, ok := l.keys[version]
	l.mu.RUnlock()
	if !ok {
		l.refresh(true)
		l.mu.RLock()
		aead, ok = l.keys[version]
		l.mu.RUnlock()
	}
	if !ok {
		return nil, fmt.Errorf("vault: %s has no version %d of the key-encryption key", l.desc, version)
	}
	ns := aead.NonceSize()
	if len(wrapped) < ns+aead.Overhead() {
		return nil, ErrIntegrity
	}
	dek, err := aead.Open(nil, wrapped[:ns], wrapped[ns:], wrapAAD(aad, version))
	if err != nil {
		return nil, ErrIntegrity
	}
	return dek, nil
}

// Rotate implements KEK: a new random version, saved before it is used.
func (l *Local) Rotate(_ context.Context) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.save == nil {
		return 0, fmt.Errorf("vault: %s cannot rotate itself: add a version to it and restart", l.desc)
	}
	if l.path != "" {
		// One rotation at a time over the file, from what it holds now:
		// two at once would both add the same version number.
		unlock, err := lockFile(l.path + ".lock")
		if err != nil {
			return 0, err
		}
		defer unlock()
		fresh, err := KeyFile(l.path, false)
		if err != nil {
			return 0, err
		}
		if !extends(fresh.raw, l.raw) {
			return 0, fmt.Errorf("vault: %s changed beyond a rotation since it was read: refusing to rotate", l.path)
		}
		l.keys, l.raw, l.versions = fresh.keys, fresh.raw, fresh.versions
		_ = os.Remove(l.path + ".new") // left by a rotation that crashed
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return 0, err
	}
	aead, err := gcm(key)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range l.versions {
		n = max(n, v.N)
	}
	n++
	raw := map[int][]byte{n: key}
	for k, v := range l.raw {
		raw[k] = v
	}
	versions := make([]Version, 0, len(l.versions)+1)
	for _, v := range l.versions {
		v.Current = false
		versions = append(versions, v)
	}
	versions = append(versions, Version{N: n, Created: time.Now().UTC().Truncate(time.Second), Current: true})
	if err := l.save(raw, versions); err != nil {
		return 0, err
	}
	l.raw, l.versions, l.keys[n] = raw, versions, aead
	if l.path != "" {
		if fi, err := os.Stat(l.path); err == nil {
			l.mod = fi.ModTime()
		}
	}
	return n, nil
}

// Versions implements KEK.
func (l *Local) Versions(context.Context) ([]Version, error) {
	l.refresh(false)
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.versions), nil
}

// ---- The key file ----

// keyFile is the JSON of a key file.
type keyFile struct {
	Format   string         `json:"format"`
	Versions []keyFileEntry `json:"versions"`
}

type keyFileEntry struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Current bool      `json:"current"`
	Key     string    `json:"key"` // base64
}

const keyFileFormat = "custos-kek/1"

// ErrKeyFilePerm is the refusal of a key file that others may read.
var ErrKeyFilePerm = errors.New("vault: the key file is readable or writable by group or others: chmod 600 it")

// KeyFile returns the KEK of the key file at path. With create, a missing
// file is made, with a first random version, mode 0600 in a directory of
// mode 0700; without, a missing file is an error. A file that group or
// others may read or write is refused (ErrKeyFilePerm), as is one that is
// not a key file: nothing is written then.
func KeyFile(path string, create bool) (*Local, error) {
	path = filepath.Clean(path)
	data, err := readKeyFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		return createKeyFile(path)
	} else if err != nil {
		return nil, err
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil || kf.Format != keyFileFormat {
		return nil, fmt.Errorf("vault: %s is not a Custos key file", path)
	}
	raw := map[int][]byte{}
	var versions []Version
	currents := 0
	for _, e := range kf.Versions {
		key, err := base64.StdEncoding.DecodeString(e.Key)
		if err != nil || len(key) != KeySize || e.Version <= 0 || raw[e.Version] != nil {
			return nil, fmt.Errorf("vault: %s: version %d is malformed", path, e.Version)
		}
		raw[e.Version] = key
		versions = append(versions, Version{N: e.Version, Created: e.Created, Current: e.Current})
		if e.Current {
			currents++
		}
	}
	if currents != 1 {
		return nil, fmt.Errorf("vault: %s: exactly one version must be current", path)
	}
	slices.SortFunc(versions, func(a, b Version) int { return a.N - b.N })
	l, err := newLocal("key file "+path, raw, versions)
	if err != nil {
		return nil, err
	}
	l.save = func(raw map[int][]byte, versions []Version) error { return writeKeyFile(path, raw, versions, false) }
	l.path, l.checked = path, time.Now()
	if fi, err := os.Stat(path); err == nil {
		l.mod = fi.ModTime()
	}
	return l, nil
}

// readKeyFile reads the file after checking its mode.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("vault: %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w (%s is %v)", ErrKeyFilePerm, path, fi.Mode().Perm())
	}
	return os.ReadFile(path)
}

func createKeyFile(path string) (*Local, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	versions := []Version{{N: 1, Created: time.Now().UTC().Truncate(time.Second), Current: true}}
	raw := map[int][]byte{1: key}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("vault: key file directory: %w", err)
	}
	if err := writeKeyFile(path, raw, versions, true); err != nil {
		return nil, err
	}
	return KeyFile(path, false)
}

// writeKeyFile writes the versions to path, mode 0600: a new file only
// (exclusive), or in place of the old one through a rename.
func writeKeyFile(path string, raw map[int][]byte, versions []Version, exclusive bool) error {
	kf := keyFile{Format: keyFileFormat}
	for _, v := range versions {
		kf.Versions = append(kf.Versions, keyFileEntry{Version: v.N, Created: v.Created, Current: v.Current,
			Key: base64.StdEncoding.EncodeToString(raw[v.N])})
	}
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return err
	}
	target := path
	if !exclusive {
		target = path + ".new"
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("vault: write the key file: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		os.Remove(target)
		return fmt.Errorf("vault: write the key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(target)
		return fmt.Errorf("vault: write the key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !exclusive {
		if err := os.Rename(target, path); err != nil {
			os.Remove(target)
			return fmt.Errorf("vault: write the key file: %w", err)
		}
	}
	// The directory entry is made durable too, before any key is wrapped
	// under the new version: a power cut must not bring back the old file.
	return syncDir(filepath.Dir(path))
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("vault: sync the key file's directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("vault: sync the key file's directory: %w", err)
	}
	return nil
}

// lockFile takes an exclusive advisory lock on path (made 0600 if
// missing) and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vault: lock the key file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: lock the key file: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// ParseKEK returns the KEK of an environment variable's value: one
// base64 key (version 1), or versions "1:KEY,2:KEY", the highest current.
// It cannot rotate itself: add a version to the variable.
func ParseKEK(name, value string) (*Local, error) {
	raw := map[int][]byte{}
	var versions []Version
	parts := strings.Split(strings.TrimSpace(value), ",")
	for _, part := range parts {
		n, key := 1, strings.TrimSpace(part)
		if v, k, ok := strings.Cut(key, ":"); ok {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n <= 0 {
				return nil, fmt.Errorf("vault: %s: %q is not a version number", name, v)
			}
			key = k
		} else if len(parts) > 1 {
			return nil, fmt.Errorf("vault: %s: give every key its version, as 1:KEY,2:KEY", name)
		}
		b, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(b) != KeySize {
			return nil, fmt.Errorf("vault: %s: version %d is not a base64 key of %d bytes", name, n, KeySize)
		}
		if raw[n] != nil {
			return nil, fmt.Errorf("vault: %s: version %d is given twice", name, n)
		}
		raw[n] = b
		versions = append(versions, Version{N: n})
	}
	slices.SortFunc(versions, func(a, b Version) int { return a.N - b.N })
	versions[len(versions)-1].Current = true
	return newLocal("environment variable "+name, raw, versions)
}
