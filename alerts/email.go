package alerts

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// EmailNotifier sends notifications by SMTP: STARTTLS when the server
// offers it (required unless AllowPlain), PLAIN auth when a user is set,
// one message with a plain-text and an HTML part to every recipient.
type EmailNotifier struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender address; To the recipients.
	From string
	To   []string
	// Username and Password log in with PLAIN auth; Password is secret.
	Username, Password string
	// AllowPlain sends without TLS when the server offers no STARTTLS.
	AllowPlain bool
	// TLS configures STARTTLS; nil verifies the server against the system
	// roots under the host name of Addr.
	TLS *tls.Config
	// Timeout bounds the whole exchange; zero means 30s.
	Timeout time.Duration
}

// Notify sends n. The message id is the notification's idempotency key,
// so a receiving system can drop a retried copy.
func (e EmailNotifier) Notify(ctx context.Context, n Notification) error {
	if len(e.To) == 0 {
		return nonRetryable(errors.New("email: no recipients"))
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return nonRetryable(fmt.Errorf("email: server address %q: %w", e.Addr, err))
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return fmt.Errorf("email: connect to %s: %w", e.Addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("email: greeting from %s: %w", e.Addr, err)
	}
	defer c.Close()
	if err := c.Hello("pipewatch"); err != nil {
		return fmt.Errorf("email: EHLO to %s: %w", e.Addr, err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := e.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("email: STARTTLS with %s: %w", e.Addr, err)
		}
	} else if !e.AllowPlain {
		return nonRetryable(fmt.Errorf("email: %s offers no STARTTLS (set AllowPlain to send in clear)", e.Addr))
	}
	if e.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, host)); err != nil {
			// The server's answer; the password is never part of it.
			return nonRetryable(fmt.Errorf("email: login as %s at %s: %w", e.Username, e.Addr, err))
		}
	}
	if err := c.Mail(e.From); err != nil {
		return fmt.Errorf("email: MAIL FROM %s: %w", e.From, err)
	}
	for _, to := range e.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("email: RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("email: DATA: %w", err)
	}
	if _, err := w.Write(e.message(n)); err != nil {
		return fmt.Errorf("email: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("email: end of message: %w", err)
	}
	return c.Quit()
}

// message is the whole RFC 5322 message for n.
func (e EmailNotifier) message(n Notification) []byte {
	const boundary = "pipewatch-alternative"
	var b bytes.Buffer
	subject := strings.ReplaceAll(n.Text(), "\n", " ")
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\n", e.From, strings.Join(e.To, ", "), mimeHeader(subject))
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <%s@pipewatch>\r\n", n.LastAt.UTC().Format(time.RFC1123Z), strings.NewReplacer("/", ".", ":", ".").Replace(n.IdempotencyKey))
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=%q\r\n\r\n", boundary)

	text := emailText(n)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary)
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(text))
	_ = qp.Close()
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary)
	qp = quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte("<html><body><pre>" + html.EscapeString(text) + "</pre></body></html>"))
	_ = qp.Close()
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes()
}

// emailText is the plain body: the line, then the details.
func emailText(n Notification) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", n.Text())
	fmt.Fprintf(&b, "key: %s\noccurrences: %d (first %s, last %s)\n", n.Key, n.Count,
		n.FirstAt.UTC().Format(time.RFC3339), n.LastAt.UTC().Format(time.RFC3339))
	for k, v := range n.Alert.Labels {
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	if n.Alert.Details != "" {
		fmt.Fprintf(&b, "\n%s\n", n.Alert.Details)
	}
	if s := n.Alert.Source; s.WorkflowID != "" {
		fmt.Fprintf(&b, "\nworkflow %s, run %s\n", s.WorkflowID, s.RunID)
	}
	return b.String()
}

// mimeHeader encodes a header value as RFC 2047 when it is not ASCII.
func mimeHeader(s string) string { return mime.QEncoding.Encode("utf-8", s) }
