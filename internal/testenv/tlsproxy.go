package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"testing"
)

// TemporalTLSFrontend puts TLS in front of the stack's Temporal frontend,
// whose dev server (CLI v1.5.1) serves plaintext only: an HTTP/2 reverse
// proxy, as a gateway or a load balancer terminates TLS in production,
// that presents cert, requires a client certificate signed by clientCAs
// when that is set (mTLS), and, when apiKey is set, rejects calls whose
// authorization is not "Bearer <apiKey>" with gRPC's UNAUTHENTICATED. The
// gRPC calls themselves go to the real server. It returns the address
// (127.0.0.1:port) and stops when the test ends.
func TemporalTLSFrontend(t testing.TB, backend string, cert tls.Certificate, clientCAs *x509.CertPool, apiKey string) string {
	t.Helper()
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", backend
		},
		Transport:     &http.Transport{Protocols: &h2c},
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0), // calls the client gives up on
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiKey != "" && r.Header.Get("Authorization") != "Bearer "+apiKey {
			// A trailers-only gRPC response.
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "16")
			w.Header().Set("Grpc-Message", "missing or wrong API key")
			w.WriteHeader(http.StatusOK)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAs != nil {
		tlsCfg.ClientCAs, tlsCfg.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, TLSConfig: tlsCfg, ErrorLog: log.New(io.Discard, "", 0)} // refused handshakes are what tests expect
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("TLS frontend: %v", err)
		}
	})
	return ln.Addr().String()
}
