// Package tlsconf makes the server's TLS configuration (ENC-1): TLS 1.2 as
// the minimum with AEAD, forward-secret suites only, TLS 1.3 preferred, and
// a self-signed ECDSA certificate for localhost written on first start when
// the operator brings none.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Suites are the TLS 1.2 cipher suites allowed: ECDHE key exchange and
// AEAD ciphers only, no CBC (ASVS v5.0.0-12.1.2). TLS 1.3 suites are fixed
// by Go and all AEAD.
var Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Server returns the server TLS configuration for a certificate.
func Server(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: Suites,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// Files names the generated certificate and key inside a data directory.
func Files(dataDir string) (cert, key string) {
	return filepath.Join(dataDir, "tls", "cert.pem"), filepath.Join(dataDir, "tls", "key.pem")
}

// EnsureSelfSigned writes a self-signed certificate for localhost,
// 127.0.0.1 and ::1 into dataDir unless one exists. created tells whether
// it was made now.
func EnsureSelfSigned(dataDir string) (certFile, keyFile string, created bool, err error) {
	certFile, keyFile = Files(dataDir)
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return "", "", false, fmt.Errorf("tls: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", false, fmt.Errorf("tls: %w", err)
	}
	serial, err := Serial()
	if err != nil {
		return "", "", false, fmt.Errorf("tls: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"Custos self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(397 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", false, fmt.Errorf("tls: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", false, fmt.Errorf("tls: %w", err)
	}
	if err := writePEM(keyFile, "PRIVATE KEY", keyDER, 0o600); err != nil {
		return "", "", false, err
	}
	if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
		return "", "", false, err
	}
	return certFile, keyFile, true, nil
}

// Serial returns a random certificate serial of exactly 128 bits: the top
// bit set, 127 random bits below it (CA/Browser Forum: at least 64 bits of
// randomness, positive, at most 20 octets).
func Serial() (*big.Int, error) {
	top := new(big.Int).Lsh(big.NewInt(1), 127)
	n, err := rand.Int(rand.Reader, top)
	if err != nil {
		return nil, err
	}
	return n.Or(n, top), nil
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("tls: %w", err)
	}
	return f.Close()
}

// Load reads a certificate and key and returns them with the certificate's
// SHA-256 fingerprint (colon-separated hex, as browsers show it).
func Load(certFile, keyFile string) (tls.Certificate, string, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return cert, "", fmt.Errorf("tls: loading %s: %w", certFile, err)
	}
	if len(cert.Certificate) == 0 {
		return cert, "", errors.New("tls: no certificate")
	}
	return cert, Fingerprint(cert.Certificate[0]), nil
}

// Fingerprint is the SHA-256 of a DER certificate as AA:BB:… hex.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
