// Package transittest is a fake of HashiCorp Vault's transit secrets
// engine for tests: an in-process HTTP server that answers the documented
// endpoints Custos uses (encrypt, decrypt and rotate of a key, and its
// description) as Vault does, with AES-256-GCM keys, associated data, the
// "vault:vN:" ciphertext form and the X-Vault-Token header. No Vault server
// can be installed on the machines Custos is tested on.
package transittest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the fake Vault.
type Server struct {
	URL   string
	Token string

	mu       sync.Mutex
	mount    string
	keys     map[string][]version // by key name
	requests map[string]int       // by operation, for the tests
}

type version struct {
	aead    cipher.AEAD
	created time.Time
}

// Start starts a fake Vault with a transit engine at mount and a key
// called name, and stops it when the test ends.
func Start(t testing.TB, mount, name string) *Server {
	t.Helper()
	s := &Server{Token: "hvs.test-" + rand.Text(), mount: mount, keys: map[string][]version{}, requests: map[string]int{}}
	s.keys[name] = []version{newVersion()}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func newVersion() version {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return version{aead: aead, created: time.Now().UTC()}
}

// Requests returns how many requests of an operation ("encrypt",
// "decrypt", "rotate", "read") the server answered.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string][]string{"errors": {msg}})
}

func reply(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"request_id": rand.Text(), "data": data})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Vault-Token") != s.Token {
		fail(w, http.StatusForbidden, "permission denied")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/"+s.mount+"/")
	if !ok {
		fail(w, http.StatusNotFound, "no handler for route")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var in struct {
		Plaintext      string `json:"plaintext"`
		Ciphertext     string `json:"ciphertext"`
		AssociatedData string `json:"associated_data"`
	}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			fail(w, http.StatusBadRequest, "failed to parse JSON input")
			return
		}
	}
	op, name, _ := strings.Cut(path, "/")
	if op == "keys" {
		var sub string
		name, sub, _ = strings.Cut(name, "/")
		op = "read"
		if sub == "rotate" && r.Method == http.MethodPost {
			op = "rotate"
		}
	}
	versions, known := s.keys[name]
	if !known {
		fail(w, http.StatusBadRequest, "encryption key not found")
		return
	}
	s.requests[op]++
	aad, err := base64.StdEncoding.DecodeString(in.AssociatedData)
	if err != nil {
		fail(w, http.StatusBadRequest, "failed to base64-decode associated data")
		return
	}
	switch {
	case op == "encrypt" && r.Method == http.MethodPost:
		plain, err := base64.StdEncoding.DecodeString(in.Plaintext)
		if err != nil {
			fail(w, http.StatusBadRequest, "failed to base64-decode plaintext")
			return
		}
		n := len(versions)
		v := versions[n-1]
		nonce := make([]byte, v.aead.NonceSize())
		_, _ = rand.Read(nonce)
		ct := v.aead.Seal(nonce, nonce, plain, aad)
		reply(w, map[string]any{"ciphertext": "vault:v" + strconv.Itoa(n) + ":" + base64.StdEncoding.EncodeToString(ct), "key_version": n})
	case op == "decrypt" && r.Method == http.MethodPost:
		rest, ok := strings.CutPrefix(in.Ciphertext, "vault:v")
		nstr, body, ok2 := strings.Cut(rest, ":")
		n, err := strconv.Atoi(nstr)
		raw, err2 := base64.StdEncoding.DecodeString(body)
		if !ok || !ok2 || err != nil || err2 != nil || n < 1 || n > len(versions) {
			fail(w, http.StatusBadRequest, "invalid ciphertext")
			return
		}
		v := versions[n-1]
		ns := v.aead.NonceSize()
		if len(raw) < ns {
			fail(w, http.StatusBadRequest, "invalid ciphertext: no nonce")
			return
		}
		plain, err := v.aead.Open(nil, raw[:ns], raw[ns:], aad)
		if err != nil {
			fail(w, http.StatusBadRequest, "cipher: message authentication failed")
			return
		}
		reply(w, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(plain)})
	case op == "rotate":
		s.keys[name] = append(versions, newVersion())
		w.WriteHeader(http.StatusNoContent)
	case op == "read" && r.Method == http.MethodGet:
		keys := map[string]int64{}
		for i, v := range versions {
			keys[strconv.Itoa(i+1)] = v.created.Unix()
		}
		reply(w, map[string]any{"name": name, "type": "aes256-gcm96", "latest_version": len(versions),
			"min_decryption_version": 1, "keys": keys, "supports_encryption": true, "supports_decryption": true})
	default:
		fail(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}
