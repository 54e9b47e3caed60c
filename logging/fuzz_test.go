package logging

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseAuditLine: any line, however damaged, is judged without a
// panic, and a line that verifies carries a sequence and both hashes.
func FuzzParseAuditLine(f *testing.F) {
	f.Add([]byte(`{"ts":"2026-11-26T10:00:00Z","seq":1,"event":"config_change","actor":"pipewatch","prev_hash":"","hash":"4f9c1dd2bf3bbdc87a9bb2c3ac0fc5e3a7a1fc21b4c8e7d3a1e1c7a1a7b9c3d2"}`))
	f.Add([]byte(`{"seq":0}`))
	f.Add([]byte(`not json at all`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, reason := parseAuditLine(line)
		if reason == "" && (rec.seq == 0 || rec.hash == "") {
			t.Errorf("line %q verified with seq %d, hash %q", line, rec.seq, rec.hash)
		}
	})
}

// FuzzVerifyAudit: a file of any bytes is verified or refused with an
// error naming a line, never a panic.
func FuzzVerifyAudit(f *testing.F) {
	f.Add([]byte("{\"seq\":1}\n{\"seq\":2}\n"))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "audit.log")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = VerifyAudit(p)
	})
}
