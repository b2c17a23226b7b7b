package fitconnect

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"
)

type token struct {
	clientID string
	expires  time.Time
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// handleToken serves the OAuth2 client-credentials grant (RFC 6749 §4.4) with the client
// credentials in the form body, as FIT-Connect's clients send them.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "form body unreadable: " + err.Error()})
		return
	}
	grant, id, secret := r.PostForm.Get("grant_type"), r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	switch {
	case grant == "":
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "grant_type missing"})
		return
	case grant != "client_credentials":
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "only client_credentials is supported, got " + grant})
		return
	case id == "" || secret == "":
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_client", "client_id and client_secret are required in the form body"})
		return
	}
	s.mu.Lock()
	cl, ok := s.clients[id]
	s.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(cl.Secret), []byte(secret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_client", "unknown client or wrong secret"})
		return
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", err.Error()})
		return
	}
	tok := base64.RawURLEncoding.EncodeToString(buf)
	s.mu.Lock()
	ttl := s.tokenTTL
	s.tokens[tok] = token{clientID: id, expires: s.clock().Add(ttl)}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(ttl.Seconds()),
		"scope":        scopeOf(cl),
	})
}

func scopeOf(cl Client) string {
	if cl.Role == RoleSender {
		return "send:region:DE"
	}
	var sc []string
	for _, d := range cl.Destinations {
		sc = append(sc, "subscribe:destination:"+d)
	}
	return strings.Join(sc, " ")
}

// authenticate answers 401 and returns false unless the request bears a live token.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (Client, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, found := strings.Cut(h, " ")
	if h == "" || !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fit-connect"`)
		s.problem(w, r, http.StatusUnauthorized, probUnauthorized, "Unauthorized", "no bearer token in the Authorization header")
		return Client{}, false
	}
	s.mu.Lock()
	t, ok := s.tokens[tok]
	cl, clientOK := s.clients[t.clientID]
	now := s.clock()
	s.mu.Unlock()
	switch {
	case !ok || !clientOK:
		w.Header().Set("WWW-Authenticate", `Bearer realm="fit-connect", error="invalid_token"`)
		s.problem(w, r, http.StatusUnauthorized, probUnauthorized, "Unauthorized", "unknown access token")
		return Client{}, false
	case !now.Before(t.expires):
		w.Header().Set("WWW-Authenticate", `Bearer realm="fit-connect", error="invalid_token", error_description="token expired"`)
		s.problem(w, r, http.StatusUnauthorized, probUnauthorized, "Unauthorized", "access token expired at "+t.expires.Format(time.RFC3339))
		return Client{}, false
	}
	return cl, true
}

func (s *Server) requireRole(w http.ResponseWriter, r *http.Request, cl Client, role string) bool {
	if cl.Role != role {
		s.problem(w, r, http.StatusForbidden, probForbidden, "Forbidden",
			"client "+cl.ID+" is a "+cl.Role+"; this endpoint needs a "+role)
		return false
	}
	return true
}

func subscribes(cl Client, destinationID string) bool {
	return cl.Role == RoleSubscriber && slices.Contains(cl.Destinations, destinationID)
}
