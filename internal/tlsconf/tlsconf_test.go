package tlsconf

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/tlsconf/tlstest"
)

// TestSuitesAEADWithForwardSecrecy: every TLS 1.2 suite offered is ECDHE
// (no RSA key exchange) and AEAD (no CBC), and none is insecure by Go's
// own list (ENC-1, ASVS v5.0.0-12.1.2).
func TestSuitesAEADWithForwardSecrecy(t *testing.T) {
	insecure := map[uint16]bool{}
	for _, s := range tls.InsecureCipherSuites() {
		insecure[s.ID] = true
	}
	if len(Suites) == 0 {
		t.Fatal("no suites")
	}
	for _, id := range Suites {
		name := tls.CipherSuiteName(id)
		if insecure[id] || !strings.HasPrefix(name, "TLS_ECDHE_") || strings.Contains(name, "CBC") ||
			!(strings.Contains(name, "_GCM_") || strings.Contains(name, "CHACHA20_POLY1305")) {
			t.Errorf("suite %s is not ECDHE with AEAD", name)
		}
	}
	c := Server(tls.Certificate{})
	if c.MinVersion != tls.VersionTLS12 || len(c.CipherSuites) != len(Suites) {
		t.Errorf("server config: min %x, %d suites", c.MinVersion, len(c.CipherSuites))
	}
}

// TestSelfSigned: the generated certificate is ECDSA for localhost and the
// loopback addresses, with a 128-bit serial, its key file is 0600, it is
// made once, and Load reads it back with its fingerprint.
func TestSelfSigned(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, created, err := EnsureSelfSigned(dir)
	if err != nil || !created {
		t.Fatalf("EnsureSelfSigned: %v created %v", err, created)
	}
	if _, _, again, err := EnsureSelfSigned(dir); err != nil || again {
		t.Errorf("a second call made a new certificate: %v %v", again, err)
	}
	if info, err := os.Stat(keyFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", info, err)
	}
	cert, fp, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := x.PublicKey.(*ecdsa.PublicKey); !ok || x.VerifyHostname("localhost") != nil || x.VerifyHostname("127.0.0.1") != nil ||
		x.VerifyHostname("::1") != nil {
		t.Errorf("certificate: %T, names %v %v", x.PublicKey, x.DNSNames, x.IPAddresses)
	}
	if x.SerialNumber.BitLen() != 128 {
		t.Errorf("serial of %d bits, want 128", x.SerialNumber.BitLen())
	}
	if fp != Fingerprint(x.Raw) || len(fp) != 32*3-1 {
		t.Errorf("fingerprint %q", fp)
	}
	// Serials are exactly 128 bits and differ.
	seen := map[string]bool{}
	for range 64 {
		n, err := Serial()
		if err != nil || n.BitLen() != 128 || n.Sign() <= 0 || seen[n.String()] {
			t.Fatalf("serial %v (%d bits), %v", n, n.BitLen(), err)
		}
		seen[n.String()] = true
	}
}

// TestLoadOperatorCertificate: an operator's own RSA certificate and key
// load; a key of another certificate, and missing files, are refused.
func TestLoadOperatorCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := tlstest.WriteRSA(t, dir, "a")
	cert, fp, err := Load(certFile, keyFile)
	if err != nil || fp == "" {
		t.Fatalf("Load: %v", err)
	}
	if _, ok := cert.PrivateKey.(*rsa.PrivateKey); !ok {
		t.Errorf("key %T", cert.PrivateKey)
	}
	_, otherKey := tlstest.WriteRSA(t, dir, "b")
	if _, _, err := Load(certFile, otherKey); err == nil {
		t.Error("a certificate with another certificate's key loaded")
	}
	if _, _, err := Load(filepath.Join(dir, "missing.pem"), keyFile); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("a missing file: %v", err)
	}
}
