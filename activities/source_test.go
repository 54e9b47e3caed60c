package activities

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/pipewatch/pipewatch/lineage"
)

// A workflow input names the file a step reads: it used to be read
// wherever it was, whatever its size, and an artifact version
// "sha256:../../x" reached the file system. Reads are confined to the
// configured roots (links followed), bounded, and versions must be digests.
func TestSourcesStayInTheirRoots(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	write := func(dir, name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	inside := write(root, "cohort.csv", "a,b\n")
	secret := write(outside, "secret.csv", "patient,diagnosis\n")
	link := filepath.Join(root, "link.csv")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	big := write(root, "big.csv", strings.Repeat("x", 101))
	m := &ML{Store: t.TempDir(), SourceRoots: []string{root}, MaxSourceBytes: 100}
	tests := []struct {
		name, path, want string
	}{
		{"inside a root", inside, ""},
		{"outside every root", secret, "outside the folders sources may be read from (ml.source_roots: " + root + ")"},
		{"a link out of the root", link, "outside the folders sources may be read from"},
		{"climbing out with ..", filepath.Join(root, "..", filepath.Base(outside), "secret.csv"), "outside the folders sources may be read from"},
		{"too large", big, "larger than ml.max_source_bytes (100 bytes)"},
		{"missing", filepath.Join(root, "none.csv"), "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, _, err := m.readSource("ingest", tt.path)
			if tt.want == "" {
				if err != nil || string(data) != "a,b\n" {
					t.Fatalf("read %q, %v", data, err)
				}
				return
			}
			var app *temporal.ApplicationError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &app) || !app.NonRetryable() || app.Type() != "SourceError" {
				t.Fatalf("error %v, want a final SourceError saying %q", err, tt.want)
			}
		})
	}
}

func TestArtifactVersionsMustBeDigests(t *testing.T) {
	m := &ML{Store: t.TempDir()}
	for _, v := range []string{"sha256:../../etc/passwd", "sha256:", "md5:abc", "sha256:" + strings.Repeat("A", 64)} {
		if _, err := m.get("raw", ".csv", lineage.Dataset{Key: "cohort/raw", Version: v}); err == nil || !strings.Contains(err.Error(), "is not a sha256 digest") {
			t.Errorf("version %q: %v, want it refused as no digest", v, err)
		}
	}
	data := []byte("x\n")
	_, digest, err := m.put("raw", ".csv", data)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.get("raw", ".csv", lineage.Dataset{Key: "cohort/raw", Version: digest}); err != nil || string(got) != "x\n" {
		t.Errorf("a real digest: %q, %v", got, err)
	}
}
