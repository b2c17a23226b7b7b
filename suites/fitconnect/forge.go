package fitconnect

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

var (
	forgeOnce sync.Once
	forgeKey  *rsa.PrivateKey
	forgeErr  error
)

// forgeSET returns a copy of a delivery-service SET with a fresh jti, signed PS512 with a key
// that is not in the delivery service's JWKS but under the kid of the genuine key: a receiver
// that looks the key up by kid and verifies finds the signature wrong.
func forgeSET(genuine string) (string, error) {
	parts := strings.Split(genuine, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("SET is not a compact JWS (%d segments)", len(parts))
	}
	hdrRaw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", fmt.Errorf("SET header: %v", err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(hdrRaw, &hdr); err != nil {
		return "", fmt.Errorf("SET header: %v", err)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("SET claims: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		return "", fmt.Errorf("SET claims: %v", err)
	}
	claims["jti"] = uuid.NewString()
	forgeOnce.Do(func() { forgeKey, forgeErr = rsa.GenerateKey(rand.Reader, 2048) })
	if forgeErr != nil {
		return "", forgeErr
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS512, Key: jose.JSONWebKey{Key: forgeKey, KeyID: hdr.Kid}},
		(&jose.SignerOptions{}).WithType("secevent+jwt"))
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(out)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}
