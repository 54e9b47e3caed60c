package activities

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// DefaultMaxSourceBytes bounds a source file when ML.MaxSourceBytes is 0.
const DefaultMaxSourceBytes = 1 << 30

// readSource reads a file a workflow input names, what saying which: it
// must lie in one of the source roots (or the store), after links are
// followed, and hold at most MaxSourceBytes. It returns the content and
// the file's absolute path. Every refusal is final (non-retryable).
func (m *ML) readSource(what, path string) ([]byte, string, error) {
	fail := func(format string, args ...any) ([]byte, string, error) {
		return nil, "", temporal.NewNonRetryableApplicationError(what+" "+fmt.Sprintf(format, args...), "SourceError", nil)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fail("%s: %v", path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fail("%s: %v", path, errors.Unwrap(err))
	}
	roots := append(append([]string(nil), m.SourceRoots...), m.Store)
	inside := false
	for _, r := range roots {
		if r == "" {
			continue
		}
		if rr, err := filepath.Abs(r); err == nil {
			if er, err := filepath.EvalSymlinks(rr); err == nil {
				rr = er
			}
			if rel, err := filepath.Rel(rr, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				inside = true
				break
			}
		}
	}
	if !inside {
		return fail("%s: outside the folders sources may be read from (ml.source_roots: %s)", path, strings.Join(m.SourceRoots, ", "))
	}
	f, err := os.Open(real)
	if err != nil {
		return fail("%s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	limit := m.MaxSourceBytes
	if limit <= 0 {
		limit = DefaultMaxSourceBytes
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return fail("%s: %v", path, err)
	}
	if int64(len(data)) > limit {
		return fail("%s: larger than ml.max_source_bytes (%d bytes)", path, limit)
	}
	return data, abs, nil
}

// isDigest tells a sha256 content digest as lineage.Digest writes it:
// "sha256:" and 64 lowercase hex digits.
func isDigest(v string) bool {
	hex, ok := strings.CutPrefix(v, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range []byte(hex) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
