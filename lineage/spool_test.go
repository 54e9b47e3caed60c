package lineage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	got, pos, err := s.Read(10)
	if err != nil || join(got) != join(records(3)) {
		t.Fatalf("Read = %q, %v", join(got), err)
	}
	// Killed before committing: a new spool on the same folder reads them again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSpool(t, dir, SpoolOptions{})
	if got, pos2, _ := s.Read(10); join(got) != join(records(3)) || pos2 != pos {
		t.Fatalf("after reopen Read = %q at %+v, want all three again at %+v", join(got), pos2, pos)
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

func TestSpoolDamagedPositionFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "position"), []byte("garbage"), 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := OpenSpool(dir, SpoolOptions{})
	if err == nil || !strings.Contains(err.Error(), `spool position file "`+filepath.Join(dir, "position")+`" is damaged ("garbage")`) {
		t.Errorf("OpenSpool = %v, want the damaged position file named", err)
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
