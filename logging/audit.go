package logging

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// AuditEvent names what an audit record is about.
type AuditEvent string

// The audited events.
const (
	AuditDataAccess   AuditEvent = "data_access"
	AuditModelDeploy  AuditEvent = "model_deployment"
	AuditAlertAck     AuditEvent = "alert_acknowledgement"
	AuditConfigChange AuditEvent = "configuration_change"
	// AuditChainRestart is written by pipewatch itself when it finds the
	// last audit line unreadable at open.
	AuditChainRestart AuditEvent = "audit_chain_restart"
)

// Audit is the append-only, hash-chained audit log. Each record is one JSON
// line with ts, seq, event, actor, details, prev_hash and hash, where hash is
// the SHA-256 of prev_hash followed by the record's JSON without hash.
type Audit struct {
	mu    sync.Mutex
	w     *rotatingFile
	clock Clock
	seq   uint64
	prev  string
}

// auditRecord is one audit line. Field order is the JSON order, which the
// hash covers; Hash is left out of the hashed form.
type auditRecord struct {
	TS       string         `json:"ts"`
	Seq      uint64         `json:"seq"`
	Event    AuditEvent     `json:"event"`
	Actor    string         `json:"actor"`
	Details  map[string]any `json:"details,omitempty"`
	PrevHash string         `json:"prev_hash"`
	Hash     string         `json:"hash,omitempty"`
}

func openAudit(w *rotatingFile, clock Clock) (*Audit, error) {
	a := &Audit{w: w, clock: clock}
	last, raw, path, err := lastAuditRecord(w.dir, w.base)
	if err != nil {
		return nil, err
	}
	switch {
	case last != nil:
		a.seq, a.prev = last.Seq, last.Hash
	case raw != nil:
		// The last line is not a record (a torn write, or an edit). Keep it,
		// chain on from its hash, and say so in the log itself; VerifyAudit
		// still reports the bad line.
		sum := sha256.Sum256(raw)
		a.prev = hex.EncodeToString(sum[:])
		if path == w.path() && endsWithoutNewline(path) {
			if _, err := w.Write([]byte("\n")); err != nil {
				return nil, fmt.Errorf("audit: end torn line: %w", err)
			}
		}
		if err := a.Record(AuditChainRestart, "pipewatch", map[string]any{
			"reason": "last line unreadable", "file": filepath.Base(path), "line_sha256": a.prev,
		}); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Record appends one audit record and syncs it to disk before returning.
func (a *Audit) Record(event AuditEvent, actor string, details map[string]any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	rec := auditRecord{
		TS:       a.clock.Now().UTC().Format(timeLayout),
		Seq:      a.seq + 1,
		Event:    event,
		Actor:    actor,
		Details:  details,
		PrevHash: a.prev,
	}
	hash, err := rec.hash()
	if err != nil {
		return fmt.Errorf("audit %s: %w", event, err)
	}
	rec.Hash = hash
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit %s: encode: %w", event, err)
	}
	if _, err := a.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("audit %s: %w", event, err)
	}
	if err := a.w.Sync(); err != nil {
		return fmt.Errorf("audit %s: %w", event, err)
	}
	a.seq, a.prev = rec.Seq, rec.Hash
	return nil
}

func (r auditRecord) hash() (string, error) {
	r.Hash = ""
	body, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	sum := sha256.Sum256(append([]byte(r.PrevHash), body...))
	return hex.EncodeToString(sum[:]), nil
}

// ErrAuditTampered is wrapped by VerifyAudit's error when the chain breaks.
var ErrAuditTampered = errors.New("audit log chain broken")

// VerifyAudit checks the hash chain of the given audit files, oldest first
// (rotated files, then audit.log), and names the first bad line. The first
// record's prev_hash is trusted; files removed by retention are expected to
// have cut the chain's start.
func VerifyAudit(paths ...string) error {
	prev, seq, first := "", uint64(0), true
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("verify audit: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for n := 1; sc.Scan(); n++ {
			var rec auditRecord
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.UseNumber()
			if err := dec.Decode(&rec); err != nil {
				_ = f.Close()
				return fmt.Errorf("%w: %s line %d: not an audit record: %v", ErrAuditTampered, p, n, err)
			}
			want, err := rec.hash()
			switch {
			case err != nil:
				err = fmt.Errorf("%s line %d: %v", p, n, err)
			case rec.Hash != want:
				err = fmt.Errorf("%s line %d: hash does not match the record", p, n)
			case !first && rec.PrevHash != prev:
				err = fmt.Errorf("%s line %d: prev_hash does not match the line before", p, n)
			case !first && rec.Seq != seq+1:
				err = fmt.Errorf("%s line %d: seq %d follows %d", p, n, rec.Seq, seq)
			}
			if err != nil {
				_ = f.Close()
				return fmt.Errorf("%w: %v", ErrAuditTampered, err)
			}
			prev, seq, first = rec.Hash, rec.Seq, false
		}
		err = sc.Err()
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("verify audit: read %s: %w", p, err)
		}
	}
	return nil
}

// AuditFiles lists the audit log's files in dir, oldest first, as
// VerifyAudit takes them.
func AuditFiles(dir string) ([]string, error) { return logFiles(dir, auditBase) }

// lastAuditRecord reads the newest record: the last line of audit.log, or
// of the newest rotated file when audit.log is empty. When that line does
// not parse, it returns the raw line and its file instead.
func lastAuditRecord(dir, base string) (rec *auditRecord, raw []byte, path string, err error) {
	files, err := logFiles(dir, base)
	if err != nil {
		return nil, nil, "", err
	}
	for i := len(files) - 1; i >= 0; i-- {
		line, err := lastLine(files[i])
		if err != nil {
			return nil, nil, "", err
		}
		if len(line) == 0 {
			continue
		}
		var r auditRecord
		if err := json.Unmarshal(line, &r); err != nil || r.Hash == "" {
			return nil, line, files[i], nil
		}
		return &r, nil, files[i], nil
	}
	return nil, nil, "", nil
}

// logFiles lists a log's rotated files, oldest first, then its current file.
func logFiles(dir, base string) ([]string, error) {
	rotated, err := rotatedFiles(dir, base)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rotated {
		out = append(out, r.path)
	}
	if cur := filepath.Join(dir, base+".log"); fileExists(cur) {
		out = append(out, cur)
	}
	return out, nil
}

func endsWithoutNewline(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false
	}
	b := make([]byte, 1)
	_, err = f.ReadAt(b, st.Size()-1)
	return err == nil && b[0] != '\n'
}

// lastLine returns the last non-empty line of a file, reading only its tail.
func lastLine(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: open %q: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit: stat %q: %w", path, err)
	}
	const tail = 1 << 20
	off := max(st.Size()-tail, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("audit: read %q: %w", path, err)
	}
	buf = bytes.TrimRight(buf, "\n")
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[i+1:]
	}
	return buf, nil
}
