package lineage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipewatch/pipewatch/internal/dirlock"
)

func openSpool(t *testing.T, dir string, opts SpoolOptions) *Spool {
	t.Helper()
	s, err := OpenSpool(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func records(n int) [][]byte {
	var out [][]byte
	for i := 1; i <= n; i++ {
		out = append(out, []byte(fmt.Sprintf(`{"event":%d,"id":"run-'%d'} MATCH (n) DETACH DELETE n"}`, i, i)))
	}
	return out
}

func join(recs [][]byte) string {
	var parts []string
	for _, r := range recs {
		parts = append(parts, string(r))
	}
	return strings.Join(parts, "|")
}

func TestSpoolReplaysUncommittedInOrder(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir, SpoolOptions{})
	if err := s.Append(records(3)...); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Read(10)
	if err != nil || join(got) != join(records(3)) {
		t.Fatalf("Read = %q, %v", join(got), err)
	}
	// Killed before committing: a new spool on the same folder reads them again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSpool(t, dir, SpoolOptions{})
	got, pos, _ := s.Read(10)
	if join(got) != join(records(3)) {
		t.Fatalf("after reopen Read = %q, want all three again", join(got))
	}
	if s.Pending() != s.Bytes() || s.Pending() == 0 {
		t.Errorf("before commit: pending %d of %d bytes, want all", s.Pending(), s.Bytes())
	}
	if err := s.Commit(pos); err != nil {
		t.Fatal(err)
	}
	if s.Pending() != 0 {
		t.Errorf("after commit: pending %d bytes, want 0", s.Pending())
	}
	if err := s.Append(records(5)[3:]...); err != nil {
		t.Fatal(err)
	}
	if want := int64(2*headerSize + len(records(5)[3]) + len(records(5)[4])); s.Pending() != want {
		t.Errorf("two more records: pending %d bytes, want %d", s.Pending(), want)
	}
	_ = s.Close()
	s = openSpool(t, dir, SpoolOptions{})
	if got, _, _ := s.Read(10); join(got) != join(records(5)[3:]) {
		t.Errorf("after commit and reopen Read = %q, want records 4 and 5", join(got))
	}
}

func TestSpoolSegmentsAndBound(t *testing.T) {
	dir := t.TempDir()
	recs := records(10) // about 60 bytes each with its header
	s := openSpool(t, dir, SpoolOptions{SegmentBytes: 150, MaxBytes: 800})
	for _, r := range recs {
		if err := s.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "segment-*.log"))
	if len(segs) != 5 {
		t.Errorf("%d segments, want 5 (two records each)", len(segs))
	}
	before := s.Bytes()
	if err := s.Append(recs[0], make([]byte, 200)); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("Append past the bound = %v, want ErrSpoolFull", err)
	}
	if s.Bytes() != before {
		t.Errorf("a refused append changed the size: %d -> %d", before, s.Bytes())
	}
	got, pos, err := s.Read(7)
	if err != nil || join(got) != join(recs[:7]) {
		t.Fatalf("Read(7) = %q, %v", join(got), err)
	}
	if err := s.Commit(pos); err != nil {
		t.Fatal(err)
	}
	segs, _ = filepath.Glob(filepath.Join(dir, "segment-*.log"))
	if len(segs) != 2 {
		t.Errorf("%d segments after committing 7 records, want 2", len(segs))
	}
	rest, _, _ := s.Read(10)
	if join(rest) != join(recs[7:]) {
		t.Errorf("rest = %q, want records 8-10", join(rest))
	}
	if err := s.Append(make([]byte, 200)); err != nil {
		t.Errorf("after draining, Append = %v, want room", err)
	}
}

func TestSpoolSkipsCorruptRecords(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte, at int) // at: where record 2 starts
		reason string
	}{
		{"payload byte flipped", func(b []byte, at int) { b[at+headerSize+3] ^= 0xff }, "checksum mismatch"},
		{"marker overwritten", func(b []byte, at int) { copy(b[at:], "XXXX") }, "no record marker"},
		{"length absurd", func(b []byte, at int) { b[at+7] = 0x7f }, "length 2130706485 exceeds 16777216"}, // 0x7f000000 + 53
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			recs := records(5)
			s := openSpool(t, dir, SpoolOptions{})
			if err := s.Append(recs...); err != nil {
				t.Fatal(err)
			}
			_ = s.Close()
			path := filepath.Join(dir, "segment-0000000000000001.log")
			b, _ := os.ReadFile(path)
			at := headerSize + len(recs[0])
			tt.damage(b, at)
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}
			var seen []Corruption
			s = openSpool(t, dir, SpoolOptions{OnCorruption: func(c Corruption) { seen = append(seen, c) }})
			got, _, err := s.Read(10)
			if err != nil {
				t.Fatal(err)
			}
			want := [][]byte{recs[0], recs[2], recs[3], recs[4]}
			if join(got) != join(want) {
				t.Errorf("Read = %q, want records 1, 3, 4, 5", join(got))
			}
			if len(seen) != 1 || seen[0].Offset != int64(at) || seen[0].Reason != tt.reason ||
				seen[0].Skipped != int64(headerSize+len(recs[1])) || seen[0].Segment != "segment-0000000000000001.log" {
				t.Errorf("corruption reports = %+v, want one at offset %d (%s)", seen, at, tt.reason)
			}
		})
	}
}

// A position file that is empty, damaged, or points past the segments
// there are (a restored backup, a half-written file) used to keep the
// worker from starting, or to make the spool read nothing and report 0
// pending. Reading starts again from the oldest segment (the writes are
// idempotent), and the damage is reported.
func TestSpoolDamagedPositionFile(t *testing.T) {
	tests := []struct {
		name, position, reason string
	}{
		{"empty", "", `position file "DIR/position" is damaged ("")`},
		{"garbage", "garbage", `position file "DIR/position" is damaged ("garbage")`},
		{"past the last segment", "9 0\n", "position 9:0 is past the last segment 1"},
		{"past the end of its segment", "1 99999\n", "position 1:99999 is past the end of its segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openSpool(t, dir, SpoolOptions{})
			if err := s.Append(records(3)...); err != nil {
				t.Fatal(err)
			}
			_ = s.Close()
			if err := os.WriteFile(filepath.Join(dir, "position"), []byte(tt.position), 0o640); err != nil {
				t.Fatal(err)
			}
			var seen []Corruption
			s = openSpool(t, dir, SpoolOptions{OnCorruption: func(c Corruption) { seen = append(seen, c) }})
			got, _, err := s.Read(10)
			if err != nil || join(got) != join(records(3)) || s.Pending() != s.Bytes() || s.Pending() == 0 {
				t.Errorf("Read = %q, %v; pending %d of %d bytes; want all three again, all pending", join(got), err, s.Pending(), s.Bytes())
			}
			want := strings.ReplaceAll(tt.reason, "DIR", dir) + ": reading again from the oldest segment"
			if len(seen) != 1 || seen[0].Segment != "position" || seen[0].Reason != want {
				t.Errorf("reported %+v, want %q", seen, want)
			}
		})
	}
}

// A bound below the segment size used to leave the spool full for good,
// with nothing pending, across restarts: the segment appended to was never
// deleted. Drained segments now roll away.
func TestSpoolSmallBoundNeverFillsWhenDrained(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir, SpoolOptions{MaxBytes: 1 << 10, SegmentBytes: 16 << 20})
	rec := records(1)[0]
	for i := range 200 { // ~13 KiB through a 1 KiB spool
		if err := s.Append(rec); err != nil {
			t.Fatalf("append %d: %v (pending %d of %d bytes)", i, err, s.Pending(), s.Bytes())
		}
		_, pos, err := s.Read(10)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(pos); err != nil {
			t.Fatal(err)
		}
	}
	if s.Pending() != 0 || s.Bytes() != 0 {
		t.Errorf("drained: pending %d, %d bytes on disk; want 0, 0", s.Pending(), s.Bytes())
	}
	_ = s.Close()
	s = openSpool(t, dir, SpoolOptions{MaxBytes: 1 << 10})
	if err := s.Append(rec); err != nil {
		t.Errorf("after a restart: %v", err)
	}
}

// A crash mid-append leaves a torn record at the end of a segment; the
// records appended after the restart used to sit behind it, never read.
func TestSpoolSkipsATornTail(t *testing.T) {
	dir := t.TempDir()
	recs := records(5)
	s := openSpool(t, dir, SpoolOptions{})
	if err := s.Append(recs[:3]...); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	path := filepath.Join(dir, "segment-0000000000000001.log")
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()-5); err != nil { // record 3 cut short
		t.Fatal(err)
	}
	var seen []Corruption
	s = openSpool(t, dir, SpoolOptions{OnCorruption: func(c Corruption) { seen = append(seen, c) }})
	if err := s.Append(recs[3:]...); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Read(10)
	if want := [][]byte{recs[0], recs[1], recs[3], recs[4]}; err != nil || join(got) != join(want) {
		t.Errorf("Read = %q, %v; want records 1, 2, 4, 5", join(got), err)
	}
	third := int64(2*headerSize + len(recs[0]) + len(recs[1]))
	if len(seen) != 1 || seen[0].Offset != third || seen[0].Skipped != int64(headerSize+len(recs[2]))-5 ||
		seen[0].Reason != "torn record at the end of the segment (a crash mid-append)" {
		t.Errorf("reported %+v, want the torn record 3 at offset %d", seen, third)
	}
}

func BenchmarkSpoolAppend(b *testing.B) {
	s, err := OpenSpool(b.TempDir(), SpoolOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rec := []byte(`{"runId":"01a219c0-d3ba-7df8-8d52-c6731d9bae90/activity/15","jobKey":"pipewatch.demo.Record","state":"START","attempt":1,"startedAt":"2026-11-26T21:26:37.239Z","workflowId":"pipewatch-demo-20261126-212637.239","parentRunId":"01a219c0-d3ba-7df8-8d52-c6731d9bae90"}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// Two workers on one spool directory would move each other's position
// and lose events: the second is refused, saying which directory and
// that each worker needs its own, and the first's events are all there
// after it closes and the directory is opened again.
func TestOpenSpoolRefusesADirectoryInUse(t *testing.T) {
	dir := t.TempDir()
	first := openSpool(t, dir, SpoolOptions{})
	if err := first.Append(records(3)...); err != nil {
		t.Fatal(err)
	}
	_, err := OpenSpool(dir, SpoolOptions{})
	if !errors.Is(err, dirlock.ErrLocked) || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), "pipewatch lineage spool, pid ") || !strings.Contains(err.Error(), "each worker needs a spool directory of its own") {
		t.Fatalf("second OpenSpool on %s: %v, want it refused naming the directory and its holder", dir, err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again := openSpool(t, dir, SpoolOptions{})
	got, _, err := again.Read(1 << 20)
	if err != nil || join(got) != join(records(3)) {
		t.Errorf("after the refused second spool, Read = %q, %v; want the first's 3 records", join(got), err)
	}
}

// A spool directory that cannot be made says so, without the hint meant
// for a directory another worker holds.
func TestOpenSpoolUnderAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenSpool(filepath.Join(file, "spool"), SpoolOptions{})
	if err == nil || errors.Is(err, dirlock.ErrLocked) || strings.Contains(err.Error(), "each worker needs") ||
		!strings.Contains(err.Error(), "not a directory") {
		t.Errorf("OpenSpool under a file: %v, want the create error alone", err)
	}
}
