//go:build linux

package lineage

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pipewatch/pipewatch/internal/diskfull"
)

// TestSpoolDiskFullHelper is not a test: TestSpoolSurvivesAFullDisk runs
// it in a child process, which fills its disk and gives the room back.
func TestSpoolDiskFullHelper(t *testing.T) {
	dir := os.Getenv("PIPEWATCH_SPOOL_FULL_DIR")
	if dir == "" {
		t.Skip("run by TestSpoolSurvivesAFullDisk")
	}
	s, err := OpenSpool(dir, SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	room := diskfull.Fill(t, 8<<10)
	var kept, lost []string
	appendOne := func(i int) {
		rec := fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", 150))
		if err := s.Append([]byte(rec)); err != nil {
			lost = append(lost, fmt.Sprint(i))
			return
		}
		kept = append(kept, fmt.Sprint(i))
	}
	for i := range 80 {
		appendOne(i)
	}
	room()
	for i := 80; i < 90; i++ {
		appendOne(i)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("kept %s\nrefused %s\n", strings.Join(kept, ","), strings.Join(lost, ","))
}

// The disk fills up mid-append: the record cut short is taken back, the
// appends meanwhile fail (and say so), and once there is room again the
// spool goes on in the same segment. Reading gives every record whose
// append succeeded, in order, and nothing is reported damaged.
func TestSpoolSurvivesAFullDisk(t *testing.T) {
	dir := t.TempDir()
	out, err := diskfull.Child(t, "TestSpoolDiskFullHelper", "PIPEWATCH_SPOOL_FULL_DIR="+dir)
	m := regexp.MustCompile(`kept ([\d,]*)\nrefused ([\d,]*)\n`).FindStringSubmatch(out)
	if err != nil || m == nil || m[2] == "" || !strings.HasSuffix(m[1], ",89") {
		t.Fatalf("helper: %v; want some appends refused and the last ones kept:\n%s", err, out)
	}
	var damaged []Corruption
	s := openSpool(t, dir, SpoolOptions{OnCorruption: func(c Corruption) { damaged = append(damaged, c) }})
	recs, _, err := s.Read(1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, regexp.MustCompile(`"n":(\d+)`).FindStringSubmatch(string(r))[1])
	}
	if strings.Join(got, ",") != m[1] || len(damaged) != 0 {
		t.Errorf("read %s, damaged %+v\nwant %s (refused: %s), none damaged", strings.Join(got, ","), damaged, m[1], m[2])
	}
}
