package xta

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// classifyTimeout bounds the first byte and the TLS handshake of a new connection.
const classifyTimeout = 10 * time.Second

// WrapListener returns a listener whose connections are TLS (the first byte is a TLS handshake
// record, 0x16) or plain HTTP. The first byte is peeked and the handshake done in a goroutine
// per connection, so a slow client never blocks Accept; a failed handshake is recorded (see
// Handshakes) and the connection closed.
func (s *Server) WrapListener(l net.Listener) net.Listener {
	w := &listener{Listener: l, s: s, conns: make(chan net.Conn), done: make(chan struct{}), failed: make(chan struct{})}
	go w.loop()
	return w
}

type listener struct {
	net.Listener
	s      *Server
	conns  chan net.Conn
	done   chan struct{}
	once   sync.Once
	failed chan struct{}
	err    error
}

func (w *listener) loop() {
	backoff := 5 * time.Millisecond
	for {
		c, err := w.Listener.Accept()
		if err != nil {
			select {
			case <-w.done:
				return
			default:
			}
			if !errors.Is(err, net.ErrClosed) && backoff < time.Second {
				// Possibly transient (e.g. too many open files): wait and try again a few times.
				time.Sleep(backoff)
				backoff *= 2
				continue
			}
			w.err = err
			close(w.failed)
			return
		}
		backoff = 5 * time.Millisecond
		go w.classify(c)
	}
}

func (w *listener) Accept() (net.Conn, error) {
	select {
	case c := <-w.conns:
		return c, nil
	case <-w.done:
		return nil, net.ErrClosed
	case <-w.failed:
		return nil, w.err
	}
}

func (w *listener) Close() error {
	w.once.Do(func() { close(w.done) })
	return w.Listener.Close()
}

func (w *listener) deliver(c net.Conn) {
	select {
	case w.conns <- c:
	case <-w.done:
		c.Close()
	}
}

func (w *listener) classify(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(classifyTimeout))
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	if err != nil {
		c.Close() // closed or silent before sending anything: not a handshake, nothing to record
		return
	}
	pc := &peekedConn{Conn: c, r: br}
	if first[0] != 0x16 {
		_ = c.SetReadDeadline(time.Time{})
		w.deliver(pc)
		return
	}
	cfg := w.s.tlsConfig()
	if cfg == nil {
		w.s.addHandshake(c.RemoteAddr(), errors.New("TLS is not configured: no server certificate (control Configure)"))
		c.Close()
		return
	}
	tc := tls.Server(w.s.track(pc), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), classifyTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		w.s.addHandshake(c.RemoteAddr(), err)
		tc.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	w.deliver(tc)
}

// peekedConn replays the peeked bytes before reading on.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// NetConn returns the connection underneath, as tls.Conn does.
func (p *peekedConn) NetConn() net.Conn { return p.Conn }

func (s *Server) addHandshake(remote net.Addr, err error) {
	h := Handshake{Time: s.now().UTC(), Error: err.Error()}
	if remote != nil {
		h.Remote = remote.String()
	}
	s.mu.Lock()
	s.handshakes = append(s.handshakes, h)
	s.mu.Unlock()
}

// trackedConn is a connection under TLS that the server can end when its certificate changes.
type trackedConn struct {
	net.Conn
	s *Server
}

func (s *Server) track(c net.Conn) *trackedConn {
	t := &trackedConn{Conn: c, s: s}
	s.connMu.Lock()
	if s.tlsConns == nil {
		s.tlsConns = map[*trackedConn]bool{}
	}
	s.tlsConns[t] = true
	s.connMu.Unlock()
	return t
}

func (t *trackedConn) Close() error {
	t.s.connMu.Lock()
	delete(t.s.tlsConns, t)
	t.s.connMu.Unlock()
	return t.Conn.Close()
}

// endTLSConns closes every open TLS connection.
func (s *Server) endTLSConns() {
	s.connMu.Lock()
	open := make([]*trackedConn, 0, len(s.tlsConns))
	for t := range s.tlsConns {
		open = append(open, t)
	}
	s.connMu.Unlock()
	for _, t := range open {
		t.Close()
	}
}
