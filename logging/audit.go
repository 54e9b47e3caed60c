package logging

import (
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
	AuditAlertNotify  AuditEvent = "alert_notification"
	AuditAlertAction  AuditEvent = "alert_action" // silence, resolve
	AuditConfigChange AuditEvent = "configuration_change"
	// AuditChainRestart is written, as actor "pipewatch", when the audit
	// log ends in a line that does not verify (New), or after a write was
	// cut short (a full disk); its details name the line's SHA-256, so
	// verification reports that line as torn, not as tampering.
	AuditChainRestart AuditEvent = "audit_chain_restart"
	// AuditCheckpoint seals the chain up to it with a keyed MAC
	// (log.audit_key): written every CheckpointEvery records, at start and
	// at close. Without the key, a rewritten log cannot carry valid ones.
	AuditCheckpoint AuditEvent = "audit_checkpoint"
)

// CheckpointEvery is how many records a keyed audit log writes between
// checkpoints.
const CheckpointEvery = 100

// auditActor is the actor of the records pipewatch writes itself.
const auditActor = "pipewatch"

// Audit is the append-only, hash-chained audit log in audit.log. Each
// record is one JSON line:
//
//	{"ts":…,"seq":N,"event":…,"actor":…,"details":{…},"prev_hash":…,"hash":…}
//
// where hash is the hex SHA-256 of prev_hash followed by the line as
// written without its final `,"hash":"…"` (that is, ending in
// `"prev_hash":"…"}`), and prev_hash is the hash of the record before (""
// for the first). Editing, inserting, removing or reordering a line breaks
// the chain; VerifyAudit finds where. An Audit is safe for concurrent use.
type Audit struct {
	mu    sync.Mutex
	w     *rotatingFile
	clock Clock
	seq   uint64
	prev  string
	// key signs checkpoints; nil writes none. unsealed counts records
	// since the last one.
	key      []byte
	unsealed int
	// torn is the SHA-256 of a line a failed write cut short, "" if none,
	// comma-separated if the restart record meant to name one was cut
	// short too: a restart record before the next record names them.
	torn string
}

// auditBody is an audit record without its hash. Field order is the JSON
// order; details' keys are sorted by encoding/json.
type auditBody struct {
	TS       string         `json:"ts"`
	Seq      uint64         `json:"seq"`
	Event    AuditEvent     `json:"event"`
	Actor    string         `json:"actor"`
	Details  map[string]any `json:"details,omitempty"`
	PrevHash string         `json:"prev_hash"`
}

// hashKey starts the hash member closing every audit line.
const hashKey = `,"hash":"`

// auditTail is the length of `,"hash":"<64 hex>"}`.
const auditTail = len(hashKey) + 2*sha256.Size + len(`"}`)

// openAudit continues the chain from the newest record in w's files. When
// the newest line does not verify on its own (torn by a crash, or edited),
// the chain goes on from the newest line that does, and the first record
// written is an AuditChainRestart naming the bad line, which stays in place
// for VerifyAudit to report.
func openAudit(w *rotatingFile, clock Clock, key []byte) (*Audit, *AuditError, error) {
	a := &Audit{w: w, clock: clock, key: key}
	last, bad, err := lastAuditRecord(w.dir, w.base)
	if err != nil {
		return nil, nil, err
	}
	if last != nil {
		a.seq, a.prev = last.seq, last.hash
	}
	if bad != nil {
		details := map[string]any{"file": filepath.Base(bad.Path), "line": bad.Line, "reason": bad.Reason, "line_sha256": bad.sum}
		if err := a.Record(AuditChainRestart, auditActor, details); err != nil {
			return nil, nil, err
		}
	}
	if a.key != nil && a.seq > 0 {
		a.mu.Lock()
		err := a.checkpoint()
		a.mu.Unlock()
		if err != nil {
			return nil, nil, err
		}
	}
	if bad != nil {
		return a, &bad.AuditError, nil
	}
	return a, nil, nil
}

// Record appends one record and syncs it to disk before returning. The
// actor is who did it (a user or service name); details must encode as
// JSON. An error means the record may not be on disk.
func (a *Audit) Record(event AuditEvent, actor string, details map[string]any) error {
	if event == "" || actor == "" {
		return fmt.Errorf("audit: event %q and actor %q must both be set", event, actor)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.mend(); err != nil {
		return err
	}
	if err := a.write(event, actor, details); err != nil {
		return err
	}
	if a.key != nil && a.unsealed >= CheckpointEvery {
		return a.checkpoint()
	}
	return nil
}

// mend records, before event is written, that the last write was cut
// short: a restart record names the torn line, so verification reports it
// as torn, not as tampering. (The file ends the open line itself before
// the next write.) Called with a.mu held.
func (a *Audit) mend() error {
	if a.torn == "" {
		return nil
	}
	if err := a.write(AuditChainRestart, auditActor, map[string]any{"reason": "a write was cut short (a full disk?)", "line_sha256": a.torn}); err != nil {
		return err
	}
	a.torn = ""
	return nil
}

// checkpoint writes a keyed checkpoint sealing the chain so far. Called
// with a.mu held.
func (a *Audit) checkpoint() error {
	return a.write(AuditCheckpoint, auditActor, map[string]any{"hmac": checkpointMAC(a.key, a.seq+1, a.prev)})
}

// Close writes a last checkpoint when the log is keyed and records came
// since the one before; the file itself is closed with the logs.
func (a *Audit) seal() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.key == nil || a.unsealed == 0 {
		return nil
	}
	if err := a.mend(); err != nil {
		return err
	}
	return a.checkpoint()
}

// write appends one record and syncs it. Called with a.mu held.
func (a *Audit) write(event AuditEvent, actor string, details map[string]any) error {
	body, err := json.Marshal(auditBody{
		TS:       a.clock.Now().UTC().Format(timeLayout),
		Seq:      a.seq + 1,
		Event:    event,
		Actor:    actor,
		Details:  details,
		PrevHash: a.prev,
	})
	if err != nil {
		return fmt.Errorf("audit %s: encode details: %w", event, err)
	}
	hash := chainHash(a.prev, body)
	line := make([]byte, 0, len(body)+auditTail)
	line = append(line, body[:len(body)-1]...)
	line = append(line, hashKey...)
	line = append(line, hash...)
	line = append(line, "\"}\n"...)
	n, err := a.w.Write(line)
	switch {
	case n >= len(line)-1:
		// On disk even if rotation failed (or all but the newline, which
		// the file adds before the next write): the chain moves on.
		a.seq, a.prev = a.seq+1, hash
		if event == AuditCheckpoint {
			a.unsealed = 0
		} else {
			a.unsealed++
		}
	case n > 0:
		h := sha256.Sum256(line[:n])
		sum := hex.EncodeToString(h[:])
		if a.torn != "" {
			sum = a.torn + "," + sum
		}
		a.torn = sum
	}
	if err != nil {
		return fmt.Errorf("audit %s: %w", event, err)
	}
	if err := a.w.Sync(); err != nil {
		return fmt.Errorf("audit %s: %w", event, err)
	}
	return nil
}

// chainHash is the hex SHA-256 of prev followed by body.
func chainHash(prev string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// auditLine is what a verified line says about the chain.
type auditLine struct {
	seq        uint64
	prev, hash string
}

// parseAuditLine checks one line's own hash and returns its chain links.
// The reason is for an AuditError.
func parseAuditLine(line []byte) (auditLine, string) {
	if len(line) < auditTail+len(`{}`) {
		return auditLine{}, "not an audit record: too short"
	}
	cut := len(line) - auditTail
	tail := line[cut:]
	hash := string(tail[len(hashKey) : len(tail)-2])
	if !bytes.HasPrefix(tail, []byte(hashKey)) || !bytes.HasSuffix(tail, []byte(`"}`)) || !isLowerHex(hash) {
		return auditLine{}, `not an audit record: no "hash" at the end`
	}
	body := append(line[:cut:cut], '}')
	var rec auditBody
	if err := json.Unmarshal(body, &rec); err != nil {
		return auditLine{}, fmt.Sprintf("not an audit record: %v", err)
	}
	if rec.Seq == 0 {
		return auditLine{}, "not an audit record: no seq"
	}
	if chainHash(rec.PrevHash, body) != hash {
		return auditLine{}, "hash does not match the record"
	}
	return auditLine{seq: rec.Seq, prev: rec.PrevHash, hash: hash}, ""
}

func isLowerHex(s string) bool {
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ErrAuditTampered is what every *AuditError wraps: an audit log's hash
// chain is broken.
var ErrAuditTampered = errors.New("audit chain broken")

// AuditError names the first line where an audit log's hash chain breaks.
// It wraps ErrAuditTampered.
type AuditError struct {
	// Path is the file holding the line.
	Path string
	// Line is the line's 1-based number in Path.
	Line int
	// Reason says what is wrong with the line.
	Reason string
}

// Error says where the chain breaks and why.
func (e *AuditError) Error() string {
	return fmt.Sprintf("%v at %s line %d: %s", ErrAuditTampered, e.Path, e.Line, e.Reason)
}

// Unwrap returns ErrAuditTampered.
func (e *AuditError) Unwrap() error { return ErrAuditTampered }

// VerifyAudit checks the hash chain across the given files, oldest first
// (as AuditFiles lists them), and returns an *AuditError for the first bad
// line that is not a torn line a restart record names (VerifyAuditFiles
// reports them all). The first record's prev_hash and seq are taken on
// trust, since retention removes the chain's start.
func VerifyAudit(paths ...string) error {
	rep, err := VerifyAuditFiles(nil, paths...)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		if !p.Torn {
			return &AuditError{Path: p.Path, Line: p.Line, Reason: p.Reason}
		}
	}
	return nil
}

// AuditFiles lists the audit log's files in dir oldest first, as
// VerifyAudit takes them: rotated files by the stamp in their names, then
// audit.log.
func AuditFiles(dir string) ([]string, error) { return logFiles(dir, auditBase) }

// lastAuditRecord finds the newest record that verifies on its own, in
// audit.log or else in the rotated files, newest first. When the newest
// non-empty line is not that record, it is returned as bad. Both are nil
// for a new log. Files are read from their end.
func lastAuditRecord(dir, base string) (last *auditLine, bad *badAuditLine, err error) {
	files, err := logFiles(dir, base)
	if err != nil {
		return nil, nil, err
	}
	for i := len(files) - 1; i >= 0 && last == nil; i-- {
		err := eachLineBackward(files[i], func(line []byte, off int64) (bool, error) {
			if len(line) == 0 {
				return true, nil
			}
			rec, reason := parseAuditLine(line)
			if reason == "" {
				last = &rec
				return false, nil
			}
			if bad == nil {
				n, err := lineNumber(files[i], off)
				if err != nil {
					return false, err
				}
				sum := sha256.Sum256(line)
				bad = &badAuditLine{AuditError{Path: files[i], Line: n, Reason: reason}, hex.EncodeToString(sum[:])}
			}
			return true, nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return last, bad, nil
}

// badAuditLine is a line that does not verify, and its SHA-256.
type badAuditLine struct {
	AuditError
	sum string
}

// eachLineBackward calls fn with each line of a file (newline stripped)
// and the line's byte offset, last line first, until fn returns false.
func eachLineBackward(path string, fn func(line []byte, off int64) (bool, error)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open audit file %q: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat audit file %q: %w", path, err)
	}
	const chunk = 64 << 10
	var carry []byte // the start of a line whose end was read already
	for end := st.Size(); end > 0; {
		start := max(end-chunk, 0)
		buf := make([]byte, end-start, end-start+int64(len(carry)))
		if _, err := f.ReadAt(buf, start); err != nil {
			return fmt.Errorf("read audit file %q: %w", path, err)
		}
		buf = append(buf, carry...)
		for {
			i := bytes.LastIndexByte(buf, '\n')
			if i < 0 {
				break
			}
			if more, err := fn(buf[i+1:], start+int64(i)+1); !more || err != nil {
				return err
			}
			buf = buf[:i]
		}
		carry, end = buf, start
	}
	_, err = fn(carry, 0)
	return err
}

// lineNumber returns the 1-based number of the line starting at off.
func lineNumber(path string, off int64) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open audit file %q: %w", path, err)
	}
	defer f.Close()
	n := 1
	buf := make([]byte, 64<<10)
	r := io.LimitReader(f, off)
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte("\n"))
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read audit file %q: %w", path, err)
		}
	}
}
