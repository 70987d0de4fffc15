package service

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// Lengths of the credentials CreateAccessKey makes, those of Huawei
// Cloud's: a 20-character access key id of upper-case letters and digits,
// and a 40-character secret of letters and digits.
const (
	accessKeyLen = 20
	secretKeyLen = 40
)

// accessKeyData is the Data of an access-key record: the secret key is
// sealed with the data directory's credential key (AES-256-GCM, the AK as
// additional data), so that the catalog alone does not give it away, and
// can be opened again to verify signatures.
type accessKeyData struct {
	Name   string `json:"name"`
	Sealed string `json:"sealedSecret"` // base64(nonce || ciphertext)
}

func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out)
}

const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// credentialAEAD returns the cipher that seals secret keys, made from the
// credential-key file of the data directory (created on first use).
func (s *Service) credentialAEAD() (cipher.AEAD, error) {
	s.credMu.Lock()
	defer s.credMu.Unlock()
	if s.credAEAD != nil {
		return s.credAEAD, nil
	}
	secret, err := loadSecretFile(filepath.Join(s.paths.DataDir, "credential-key"))
	if err != nil {
		return nil, fmt.Errorf("credential key: %w", err)
	}
	key := sha256.Sum256(secret)
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	s.credAEAD = aead
	return aead, nil
}

func (s *Service) sealSecret(ak, sk string) (string, error) {
	aead, err := s.credentialAEAD()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(sk), []byte(ak))), nil
}

func (s *Service) openSecret(ak, sealed string) (string, error) {
	aead, err := s.credentialAEAD()
	if err != nil {
		return "", err
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize() {
		return "", cairn.E(cairn.Corrupt, fmt.Errorf("access key %s: the sealed secret is malformed", ak))
	}
	sk, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(ak))
	if err != nil {
		return "", cairn.E(cairn.Corrupt, fmt.Errorf("access key %s: the secret does not open with this data directory's credential key: %w", ak, err))
	}
	return string(sk), nil
}

func accessKeyOf(r *catalog.Record) (*AccessKey, error) {
	var d accessKeyData
	if err := getData(r, &d); err != nil {
		return nil, err
	}
	return &AccessKey{ID: r.ID, ProjectID: r.ProjectID, Name: d.Name, Created: r.Created}, nil
}

func (s *Service) createAccessKey(ctx context.Context, c Caller, spec AccessKeySpec) (*AccessKey, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	project := spec.ProjectID
	if project == "" {
		project = c.ProjectID
	}
	if project != c.ProjectID && !c.Admin {
		return nil, "", catalog.NotFound("project", project)
	}
	if !c.Admin {
		return nil, "", cairn.E(cairn.Permission, errors.New("only an admin may create access keys"))
	}
	if err := validateName("access key name", spec.Name); err != nil {
		return nil, "", err
	}
	if _, err := s.cat.GetProject(ctx, project); err != nil {
		return nil, "", hide(err, "project", project)
	}
	ak := randomString(accessKeyLen, upperDigits)
	sk := randomString(secretKeyLen, alnum)
	sealed, err := s.sealSecret(ak, sk)
	if err != nil {
		return nil, "", err
	}
	r := &catalog.Record{Kind: recAccessKey, ID: ak, ProjectID: project, Key: project + "/" + spec.Name}
	if err := putData(r, accessKeyData{Name: spec.Name, Sealed: sealed}); err != nil {
		return nil, "", err
	}
	if err := s.cat.PutRecord(ctx, r); err != nil {
		if cairn.IsKind(err, cairn.Exist) {
			return nil, "", cairn.E(cairn.Exist, fmt.Errorf("project %s has an access key named %q already", project, spec.Name))
		}
		return nil, "", err
	}
	s.log.Info("access key created", "ak", ak, "project", project, "by", c.TokenID)
	k, err := accessKeyOf(r)
	return k, sk, err
}

func (s *Service) listAccessKeys(ctx context.Context, c Caller, projectID string) ([]*AccessKey, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if projectID == "" {
		projectID = c.ProjectID
	}
	if projectID != c.ProjectID && !c.Admin {
		return nil, catalog.NotFound("project", projectID)
	}
	recs, err := listRecords(ctx, s.cat, catalog.RecordFilter{Kind: recAccessKey, ProjectID: projectID})
	if err != nil {
		return nil, err
	}
	out := make([]*AccessKey, 0, len(recs))
	for _, r := range recs {
		k, err := accessKeyOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func (s *Service) deleteAccessKey(ctx context.Context, c Caller, ak string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	r, err := s.cat.GetRecord(ctx, recAccessKey, ak)
	if err != nil {
		return hide(err, "access key", ak)
	}
	if r.ProjectID != c.ProjectID && !c.Admin {
		return catalog.NotFound("access key", ak)
	}
	if err := s.cat.DeleteRecord(ctx, recAccessKey, ak); err != nil {
		return hide(err, "access key", ak)
	}
	s.log.Info("access key deleted", "ak", ak, "project", r.ProjectID, "by", c.TokenID)
	return nil
}

func (s *Service) lookupAccessKey(ctx context.Context, ak string) (string, Caller, error) {
	if ak == "" {
		return "", Caller{}, catalog.NotFound("access key", ak)
	}
	r, err := s.cat.GetRecord(ctx, recAccessKey, ak)
	if err != nil {
		return "", Caller{}, hide(err, "access key", ak)
	}
	var d accessKeyData
	if err := getData(r, &d); err != nil {
		return "", Caller{}, err
	}
	sk, err := s.openSecret(ak, d.Sealed)
	if err != nil {
		return "", Caller{}, err
	}
	return sk, Caller{ProjectID: r.ProjectID, TokenID: "ak:" + ak}, nil
}
