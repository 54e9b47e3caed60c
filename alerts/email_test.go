package alerts

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server (go-smtp, the whole protocol: EHLO,
// STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA) that keeps what it receives.
type mailbox struct {
	mu       sync.Mutex
	messages []received
	user     string
	password string
}

type received struct {
	from string
	to   []string
	data string
	tls  bool
	auth string
}

type mailSession struct {
	box  *mailbox
	conn *smtp.Conn
	msg  received
}

func (b *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &mailSession{box: b, conn: c}, nil
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.box.user || pass != s.box.password {
			return errors.New("invalid credentials")
		}
		s.msg.auth = user
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error { s.msg.from = from; return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = string(b)
	_, s.msg.tls = s.conn.TLSConnectionState()
	s.box.mu.Lock()
	s.box.messages = append(s.box.messages, s.msg)
	s.box.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// startMailbox serves SMTP with STARTTLS on a loopback port, with a
// certificate made for the test; it returns the address and a client TLS
// configuration that trusts it.
func startMailbox(t *testing.T, box *mailbox) (string, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv := smtp.NewServer(box)
	srv.Domain = "mail.test"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

func TestEmailNotifierOverRealSMTP(t *testing.T) {
	box := &mailbox{user: "alerts", password: "hunter2"}
	addr, clientTLS := startMailbox(t, box)
	n := sample()
	n.Alert.Summary = "PSI 0.31 on mmse — <b>drift</b>"
	e := EmailNotifier{Addr: addr, From: "pipewatch@ml.test", To: []string{"ana@ml.test", "oncall@ml.test"},
		Username: "alerts", Password: "hunter2", TLS: clientTLS}
	if err := e.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if len(box.messages) != 1 {
		t.Fatalf("mailbox has %d messages, want 1", len(box.messages))
	}
	got := box.messages[0]
	if got.from != "pipewatch@ml.test" || strings.Join(got.to, ",") != "ana@ml.test,oncall@ml.test" || !got.tls || got.auth != "alerts" {
		t.Errorf("envelope: from %s to %v tls %v auth %q", got.from, got.to, got.tls, got.auth)
	}
	msg, err := mail.ReadMessage(strings.NewReader(got.data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if want := n.Text(); subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
	if id := msg.Header.Get("Message-ID"); id != "<"+strings.NewReplacer("/", ".").Replace(n.IdempotencyKey)+"@pipewatch>" {
		t.Errorf("Message-ID %q", id)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p) // multipart decodes quoted-printable
		parts = append(parts, p.Header.Get("Content-Type")+"\n"+string(body))
	}
	if len(parts) != 2 || !strings.Contains(parts[0], "text/plain") || !strings.Contains(parts[0], "occurrences: 13") ||
		!strings.Contains(parts[1], "text/html") || !strings.Contains(parts[1], "&lt;b&gt;drift&lt;/b&gt;") {
		t.Errorf("parts:\n%s", strings.Join(parts, "\n----\n"))
	}
}

func TestEmailNotifierFailures(t *testing.T) {
	box := &mailbox{user: "alerts", password: "hunter2"}
	addr, clientTLS := startMailbox(t, box)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	_ = dead.Close()
	tests := []struct {
		name    string
		e       EmailNotifier
		want    string
		retried bool
	}{
		{"unreachable host", EmailNotifier{Addr: deadAddr, From: "a@b", To: []string{"c@d"}},
			"email: connect to " + deadAddr + ": dial tcp " + deadAddr + ": connect: connection refused", true},
		{"wrong password", EmailNotifier{Addr: addr, From: "a@b", To: []string{"c@d"}, Username: "alerts", Password: "s3cret-wrong", TLS: clientTLS},
			"email: login as alerts at " + addr, false},
		{"untrusted certificate", EmailNotifier{Addr: addr, From: "a@b", To: []string{"c@d"}},
			"email: STARTTLS with " + addr + ": tls: failed to verify certificate", true},
		{"no recipients", EmailNotifier{Addr: addr, From: "a@b"}, "email: no recipients", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Notify(context.Background(), sample())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret-wrong") {
				t.Errorf("error shows the password: %v", err)
			}
			var app interface{ NonRetryable() bool }
			if nonRetry := errors.As(err, &app) && app.NonRetryable(); nonRetry == tt.retried {
				t.Errorf("non-retryable = %v, want %v", nonRetry, !tt.retried)
			}
		})
	}
	if len(box.messages) != 0 {
		t.Errorf("%d messages delivered, want none", len(box.messages))
	}
}
