package fitconnect

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/konform/konform/mocks/pki"
)

// APIVersion is the Submission API version the mock implements.
var APIVersion = struct{ Major, Minor, Patch int }{1, 1, 3}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": map[string]int{
		"major": APIVersion.Major, "minor": APIVersion.Minor, "patch": APIVersion.Patch}})
}

func publicJWKJSON(k jose.JSONWebKey) (json.RawMessage, error) {
	ops, err := pki.KeyOpsFor(k.Algorithm)
	if err != nil {
		return nil, err
	}
	return pki.MarshalJWK(k.Public(), ops)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	key, err := s.signingKey()
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", err.Error())
		return
	}
	raw, err := pki.MarshalJWK(key.Public, key.PublicOps)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": []json.RawMessage{raw}})
}

func (s *Server) handleGetDestination(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	id := strings.ToLower(r.PathValue("destinationId"))
	s.mu.Lock()
	d, found := s.destinations[id]
	var body map[string]any
	if found {
		body = map[string]any{
			"destinationId":    d.ID,
			"status":           d.Status,
			"services":         d.Services,
			"encryptionKid":    d.EncryptionKey.KeyID,
			"metadataVersions": d.MetadataVersions,
		}
		if subscribes(cl, d.ID) && d.CallbackURL != "" {
			body["callback"] = map[string]string{"url": d.CallbackURL}
		}
	}
	s.mu.Unlock()
	if !found {
		s.problem(w, r, http.StatusNotFound, probDestinationNotFound, "Destination not found", "no destination "+id)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleGetKey(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(r.PathValue("destinationId"))
	kid := r.PathValue("keyId")
	s.mu.Lock()
	d, found := s.destinations[id]
	var key *jose.JSONWebKey
	if found {
		switch kid {
		case d.EncryptionKey.KeyID:
			k := d.EncryptionKey
			key = &k
		case d.SigningKey.KeyID:
			k := d.SigningKey
			key = &k
		}
	}
	s.mu.Unlock()
	if !found {
		s.problem(w, r, http.StatusNotFound, probDestinationNotFound, "Destination not found", "no destination "+id)
		return
	}
	if key == nil {
		s.problem(w, r, http.StatusNotFound, probNotFound, "Key not found", "destination "+id+" has no key "+kid)
		return
	}
	raw, err := publicJWKJSON(*key)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, probInternal, "Internal Server Error", err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
}
