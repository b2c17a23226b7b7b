package provision

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"os"

	"github.com/go-jose/go-jose/v4"

	"github.com/konform/konform/mocks/pki"
)

type storedKey struct {
	JWK        json.RawMessage `json:"jwk"`
	PublicOps  []string        `json:"publicOps"`
	PrivateOps []string        `json:"privateOps"`
}

func (k *Keys) slots() map[string]**pki.Key {
	return map[string]**pki.Key{
		"destinationEncryption": &k.DestinationEncryption, "destinationSigning": &k.DestinationSigning,
		"foreignEncryption": &k.ForeignEncryption, "foreignSigning": &k.ForeignSigning, "other": &k.Other,
		"deliveryService": &k.DeliveryService,
	}
}

// Save writes the key set, private halves included, to a file only the owner can read.
func (k *Keys) Save(path string) error {
	out := map[string]storedKey{}
	for name, slot := range k.slots() {
		key := *slot
		b, err := key.JWK.MarshalJSON()
		if err != nil {
			return fmt.Errorf("saving key %s: %w", name, err)
		}
		out[name] = storedKey{JWK: b, PublicOps: key.PublicOps, PrivateOps: key.PrivateOps}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// LoadKeys reads a key set written by Save.
func LoadKeys(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	var in map[string]storedKey
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	k := &Keys{}
	for name, slot := range k.slots() {
		sk, ok := in[name]
		if !ok {
			return nil, fmt.Errorf("key file %s: no key %q (a set of an older kit: delete the file, the next run generates and keeps a new one)", path, name)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(sk.JWK); err != nil {
			return nil, fmt.Errorf("key file %s: key %s: %w", path, name, err)
		}
		priv, ok := jwk.Key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("key file %s: key %s is not a private RSA key", path, name)
		}
		// A key read from a JWK carries no precomputed values; without them every private
		// operation recomputes them.
		priv.Precompute()
		pub := jwk.Public()
		*slot = &pki.Key{Private: priv, JWK: jwk, Public: pub, PublicOps: sk.PublicOps, PrivateOps: sk.PrivateOps, Chain: jwk.Certificates}
	}
	return k, nil
}
