package logging

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// AuditProblem is one thing wrong in an audit log.
type AuditProblem struct {
	// Path and Line say where (1-based).
	Path string `json:"path"`
	Line int    `json:"line"`
	// Reason says what is wrong.
	Reason string `json:"reason"`
	// Torn marks a line cut short by a crash or a full disk that a later
	// restart record names (by its SHA-256): a recorded interruption, not
	// tampering.
	Torn bool `json:"torn,omitempty"`
}

// AuditReport is what VerifyAuditFiles found.
type AuditReport struct {
	// Records is the number of lines that verify on their own.
	Records int `json:"records"`
	// Problems lists every problem, in file order; torn lines recorded as
	// such included.
	Problems []AuditProblem `json:"problems"`
	// Checkpoints counts the keyed checkpoints found; with a key, each
	// verified (a bad one is a problem). LastSealed is the sequence number
	// the last checkpoint seals; Unsealed the records after it: written
	// since, or the end was cut.
	Checkpoints int    `json:"checkpoints"`
	LastSealed  uint64 `json:"lastSealed"`
	Unsealed    int    `json:"unsealed"`
	// Keyed says checkpoints were checked with a key.
	Keyed bool `json:"keyed"`
}

// Tampered tells whether a problem is not a recorded interruption.
func (r AuditReport) Tampered() bool {
	for _, p := range r.Problems {
		if !p.Torn {
			return true
		}
	}
	return false
}

// VerifyAuditFiles checks the audit log's files, oldest first (as
// AuditFiles lists them), and reports every problem, not only the first:
// lines that do not verify, breaks in the chain, and, with key, keyed
// checkpoints that do not verify. A line that does not verify and that the
// next record (an audit_chain_restart) names by its SHA-256 is reported as
// torn, not as tampering. The first record's prev_hash and seq are taken
// on trust, since retention removes the chain's start.
func VerifyAuditFiles(key []byte, paths ...string) (AuditReport, error) {
	rep := AuditReport{Keyed: len(key) > 0, Problems: []AuditProblem{}}
	var prev auditLine
	first := true
	var pending []AuditProblem // bad lines waiting for a restart that names them
	pendingSums := map[string]int{}
	for _, p := range paths {
		_, err := eachLine(p, func(line []byte, n int) (bool, error) {
			rec, body, reason := parseAuditRecord(line)
			if reason != "" {
				sum := sha256.Sum256(line)
				pendingSums[hex.EncodeToString(sum[:])] = len(pending)
				pending = append(pending, AuditProblem{Path: p, Line: n, Reason: reason})
				return true, nil
			}
			rep.Records++
			restart := body.Event == AuditChainRestart
			if restart {
				// It names the torn line it follows: that one is recorded.
				sums, _ := body.Details["line_sha256"].(string)
				for _, sum := range strings.Split(sums, ",") {
					if i, ok := pendingSums[sum]; ok && !pending[i].Torn {
						pending[i].Torn = true
						pending[i].Reason += " (torn: a restart record names it)"
					}
				}
			}
			// After a line that does not verify (and is not torn), this
			// record chains to that line: its link is not checked again,
			// the bad line is the problem reported.
			afterBad := false
			for _, b := range pending {
				afterBad = afterBad || !b.Torn
			}
			rep.Problems = append(rep.Problems, pending...)
			pending, pendingSums = nil, map[string]int{}
			switch {
			case first, afterBad:
			case rec.prev != prev.hash:
				rep.Problems = append(rep.Problems, AuditProblem{Path: p, Line: n, Reason: "prev_hash does not match the record before"})
			case rec.seq != prev.seq+1:
				rep.Problems = append(rep.Problems, AuditProblem{Path: p, Line: n, Reason: fmt.Sprintf("seq %d does not follow %d", rec.seq, prev.seq)})
			}
			if body.Event == AuditCheckpoint {
				rep.Checkpoints++
				if rep.Keyed {
					if got, _ := body.Details["hmac"].(string); !hmac.Equal([]byte(got), []byte(checkpointMAC(key, rec.seq, rec.prev))) {
						rep.Problems = append(rep.Problems, AuditProblem{Path: p, Line: n,
							Reason: "checkpoint does not verify with this key: the log was rewritten, or the key is another"})
					}
				}
				rep.LastSealed, rep.Unsealed = rec.seq, 0
			} else {
				rep.Unsealed++
			}
			prev, first = rec, false
			return true, nil
		})
		if err != nil {
			return rep, fmt.Errorf("verify audit: %w", err)
		}
	}
	rep.Problems = append(rep.Problems, pending...) // bad lines no restart followed
	return rep, nil
}

// parseAuditRecord checks a line like parseAuditLine and also returns its
// body (event and details).
func parseAuditRecord(line []byte) (auditLine, auditBody, string) {
	rec, reason := parseAuditLine(line)
	if reason != "" {
		return rec, auditBody{}, reason
	}
	var body auditBody
	cut := len(line) - auditTail
	_ = json.Unmarshal(append(line[:cut:cut], '}'), &body)
	return rec, body, ""
}

// checkpointMAC is the keyed MAC a checkpoint carries: HMAC-SHA256 of its
// seq and the hash of the record before it, the chain's head it seals.
func checkpointMAC(key []byte, seq uint64, prev string) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "pipewatch audit checkpoint %d %s", seq, prev)
	return hex.EncodeToString(m.Sum(nil))
}

// String summarizes the report in a line a person reads.
func (r AuditReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d records", r.Records)
	tampered, torn := 0, 0
	for _, p := range r.Problems {
		if p.Torn {
			torn++
		} else {
			tampered++
		}
	}
	fmt.Fprintf(&b, ", %d problems, %d torn lines recorded at restart", tampered, torn)
	if r.Keyed {
		fmt.Fprintf(&b, "; %d checkpoints verified with the key, the last sealing seq %d, %d records after it", r.Checkpoints, r.LastSealed, r.Unsealed)
	} else {
		fmt.Fprintf(&b, "; %d checkpoints not checked (no key)", r.Checkpoints)
	}
	return b.String()
}

// AuditRecord is one line of the audit log as ReadAudit reads it.
type AuditRecord struct {
	// Path and Line say where it is (1-based).
	Path string `json:"path"`
	Line int    `json:"line"`
	// TS, Seq, Event, Actor and Details are the record's fields; zero when
	// the line is no record.
	TS      time.Time      `json:"ts"`
	Seq     uint64         `json:"seq"`
	Event   AuditEvent     `json:"event"`
	Actor   string         `json:"actor"`
	Details map[string]any `json:"details,omitempty"`
	// Problem says why the line does not verify on its own (torn,
	// edited, not JSON); "" when it does. Chain breaks between lines are
	// VerifyAuditFiles' business.
	Problem string `json:"problem,omitempty"`
	// Raw is the line as written, without its newline.
	Raw string `json:"-"`
}

// ReadAudit calls fn with each line of the audit log's files, oldest first
// (as AuditFiles lists them), until fn returns false or an error.
func ReadAudit(paths []string, fn func(AuditRecord) (bool, error)) error {
	for _, p := range paths {
		more, err := readAuditFile(p, fn)
		if err != nil {
			return fmt.Errorf("read audit: %w", err)
		}
		if !more {
			return nil
		}
	}
	return nil
}

// readAuditFile is ReadAudit for one file; false when fn said stop.
func readAuditFile(path string, fn func(AuditRecord) (bool, error)) (bool, error) {
	return eachLine(path, func(line []byte, n int) (bool, error) {
		rec := AuditRecord{Path: path, Line: n, Raw: string(line)}
		if _, body, reason := parseAuditRecord(line); reason != "" {
			rec.Problem = reason
		} else {
			rec.Seq, rec.Event, rec.Actor, rec.Details = body.Seq, body.Event, body.Actor, body.Details
			var err error
			if rec.TS, err = time.Parse(time.RFC3339Nano, body.TS); err != nil {
				rec.Problem = fmt.Sprintf("ts %q is not a time", body.TS)
			}
		}
		return fn(rec)
	})
}

// eachLine calls fn with each line of the file at path (without its
// newline) and its 1-based number, until fn returns false or an error.
// It returns false when fn stopped it.
func eachLine(path string, fn func(line []byte, n int) (bool, error)) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err // names the path
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("read %q: %w", path, err)
		}
		more, err := fn(bytes.TrimSuffix(line, []byte("\n")), n)
		if err != nil || !more {
			return false, err
		}
	}
}
