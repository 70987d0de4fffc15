package httpapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// The files of the self-signed certificate, under the data directory.
const (
	TLSDir       = "tls"
	CertFileName = "cert.pem"
	KeyFileName  = "key.pem"
)

// selfSignedValidity is how long a generated certificate is valid.
const selfSignedValidity = 5 * 365 * 24 * time.Hour

// CertPaths returns the paths of the self-signed certificate and key in
// the data directory dataDir.
func CertPaths(dataDir string) (cert, key string) {
	dir := filepath.Join(dataDir, TLSDir)
	return filepath.Join(dir, CertFileName), filepath.Join(dir, KeyFileName)
}

// EnsureSelfSigned makes sure the data directory dataDir holds a TLS
// certificate and key: it returns the paths of the existing ones, or
// generates a self-signed ECDSA P-256 certificate for localhost,
// 127.0.0.1, ::1 and the machine's host name, writes it to
// <dataDir>/tls/cert.pem and its key to <dataDir>/tls/key.pem (mode
// 0600), and reports created. The key is written before the certificate,
// each under a temporary name renamed into place, so that a crash leaves
// either both files or a state the next call repairs.
func EnsureSelfSigned(dataDir string, now time.Time) (cert, key string, created bool, err error) {
	cert, key = CertPaths(dataDir)
	_, cerr := os.Stat(cert)
	_, kerr := os.Stat(key)
	if cerr == nil && kerr == nil {
		return cert, key, false, nil
	}
	if (cerr != nil && !errors.Is(cerr, fs.ErrNotExist)) || (kerr != nil && !errors.Is(kerr, fs.ErrNotExist)) {
		return "", "", false, cairn.E(cairn.IO, fmt.Errorf("TLS certificate in %s: %w", dataDir, errors.Join(cerr, kerr)))
	}
	certPEM, keyPEM, err := SelfSigned(now, selfSignedHosts()...)
	if err != nil {
		return "", "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(cert), 0o700); err != nil {
		return "", "", false, cairn.E(cairn.IO, fmt.Errorf("TLS directory: %w", err))
	}
	if err := writeFileAtomic(key, keyPEM, 0o600); err != nil {
		return "", "", false, err
	}
	if err := writeFileAtomic(cert, certPEM, 0o644); err != nil {
		return "", "", false, err
	}
	return cert, key, true, nil
}

// selfSignedHosts are the names a generated certificate is valid for.
func selfSignedHosts() []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		hosts = append(hosts, h)
	}
	return hosts
}

// SelfSigned returns a new self-signed ECDSA P-256 certificate valid from
// an hour before now for five years, for the host names and IP addresses
// in hosts, and its private key, both PEM-encoded.
func SelfSigned(now time.Time, hosts ...string) (certPEM, keyPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate TLS serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"cairn"}, CommonName: "cairn self-signed"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		// A CA certificate, so that clients can trust it as a root.
		IsCA: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, nil, fmt.Errorf("create TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode TLS key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// LoadTLSConfig returns a server TLS configuration (TLS 1.2 or newer)
// with the certificate and key in the PEM files certFile and keyFile.
func LoadTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		kind := cairn.Invalid
		if errors.Is(err, fs.ErrNotExist) {
			kind = cairn.NotExist
		}
		return nil, cairn.E(kind, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err))
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
	}, nil
}

// ClientTLSConfig returns a client TLS configuration that trusts the
// certificates in the PEM file caFile in addition to the system's roots;
// with caFile "" it trusts the system's roots only.
func ClientTLSConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return cfg, nil
	}
	pemData, err := os.ReadFile(caFile)
	if err != nil {
		kind := cairn.IO
		if errors.Is(err, fs.ErrNotExist) {
			kind = cairn.NotExist
		}
		return nil, cairn.E(kind, fmt.Errorf("CA certificate: %w", err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("CA certificate %s: no PEM certificate in it", caFile))
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// writeFileAtomic writes data to path through a temporary file in the
// same directory, synced and renamed into place.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("write %s: %w", path, err))
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return cairn.E(cairn.IO, fmt.Errorf("write %s: %w", path, err))
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return cairn.E(cairn.IO, fmt.Errorf("write %s: %w", path, err))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return cairn.E(cairn.IO, fmt.Errorf("write %s: %w", path, err))
	}
	return nil
}
