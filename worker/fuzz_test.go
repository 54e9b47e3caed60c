package worker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfigFile: any YAML file is loaded or refused with errors that
// name the file, never a panic; a secret set in the file never shows in
// an error.
func FuzzLoadConfigFile(f *testing.F) {
	f.Add("temporal:\n  address: 127.0.0.1:7233\nneo4j:\n  password: s3cret-value\n")
	f.Add("log:\n  retention: 30d\n  retention: 90d\n")
	f.Add("sentinel:\n  interval: 500ms\n  query: \"(x\"\n")
	f.Add("- a\n- b\n")
	f.Add(": : :\n\t\x00")
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(t.TempDir(), "pipewatch.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(Sources{File: p, LookupEnv: func(string) (string, bool) { return "", false }})
		if err == nil {
			return
		}
		for _, secret := range []string{"s3cret-value"} {
			if strings.Contains(body, secret) && strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows a secret: %v", err)
			}
		}
	})
}
