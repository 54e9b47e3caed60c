package testenv

import (
	"net"
	"sync"
	"testing"
)

// PauseProxy forwards TCP connections to a real server and can hold every
// byte in both directions for a while: a server that stops answering
// without going away (a long GC pause, a stalled disk), which a test makes
// happen exactly when it needs it.
type PauseProxy struct {
	// Addr is the host:port to dial instead of the server's.
	Addr string

	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
}

// StartPauseProxy listens on a free loopback port and forwards each
// connection to target until the test ends.
func StartPauseProxy(t testing.TB, target string) *PauseProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pause proxy: %v", err)
	}
	p := &PauseProxy{Addr: ln.Addr().String()}
	p.cond = sync.NewCond(&p.mu)
	var conns sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		p.Resume()
		mu.Lock()
		for _, c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			mu.Lock()
			open = append(open, c, s)
			mu.Unlock()
			conns.Add(2)
			go func() { defer conns.Done(); p.copy(s, c) }()
			go func() { defer conns.Done(); p.copy(c, s) }()
		}
	}()
	return p
}

// Pause holds every byte from now on until Resume.
func (p *PauseProxy) Pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

// Resume lets the held bytes and every later one through.
func (p *PauseProxy) Resume() {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *PauseProxy) copy(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.paused {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // io.EOF included: the other side closes too
			return
		}
	}
}
