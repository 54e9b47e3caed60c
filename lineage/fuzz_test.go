package lineage

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSpoolRecovery: a segment of any bytes (torn, overwritten, garbage)
// followed by a sound one is read without a panic; every record returned
// passes its checksum, and the sound segment's records all come back, in
// order.
func FuzzSpoolRecovery(f *testing.F) {
	frame := func(p string) []byte {
		b := append([]byte(recordMagic), make([]byte, 8)...)
		binary.LittleEndian.PutUint32(b[4:8], uint32(len(p)))
		binary.LittleEndian.PutUint32(b[8:12], checksum([]byte(p)))
		return append(b, p...)
	}
	f.Add(frame(`{"runId":"a"}`))
	f.Add(append(frame(`{"runId":"a"}`), frame(`{"runId":"b"}`)[:9]...))
	f.Add([]byte("PWL1PWL1PWL1\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, damaged []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "segment-0000000000000001.log"), damaged, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "position"), damaged[:min(len(damaged), 20)], 0o640); err != nil {
			t.Fatal(err)
		}
		s, err := OpenSpool(dir, SpoolOptions{})
		if err != nil {
			t.Fatal(err) // a damaged spool never keeps the worker from starting
		}
		defer s.Close()
		sound := []string{`{"runId":"after-1"}`, `{"runId":"after-2"}`}
		if err := s.Append([]byte(sound[0]), []byte(sound[1])); err != nil {
			t.Fatal(err)
		}
		recs, _, err := s.Read(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) < 2 || string(recs[len(recs)-2]) != sound[0] || string(recs[len(recs)-1]) != sound[1] {
			t.Fatalf("the records after the damage did not all come back last: %q", recs)
		}
	})
}

// FuzzDatasetRefs: any dataset reference either fails Validate or has an
// id that splits back into its key and version at the last @, and it
// survives a JSON round trip.
func FuzzDatasetRefs(f *testing.F) {
	f.Add("RawData", "s3://lake/orders", "sha256:ab12")
	f.Add("Model", "user@host:/models/churn", "v1")
	f.Add("Predictions", "a", "b@c")
	f.Add("", " ", "")
	f.Fuzz(func(t *testing.T, kind, key, version string) {
		d := Dataset{Kind: Kind(kind), Key: key, Version: version}
		if d.Validate() != nil {
			return
		}
		id := d.VersionID()
		i := strings.LastIndex(id, "@")
		if id[:i] != key || id[i+1:] != version {
			t.Errorf("id %q of key %q version %q splits into %q and %q", id, key, version, id[:i], id[i+1:])
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Dataset
		if err := json.Unmarshal(b, &back); err != nil || back.VersionID() != id {
			t.Errorf("round trip of %q: %v, %q", id, err, back.VersionID())
		}
	})
}
