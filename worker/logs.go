package worker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"

	"github.com/pipewatch/pipewatch/internal/dirlock"
	"github.com/pipewatch/pipewatch/logging"
)

// OpenLogs opens the main and audit logs as cfg says, mirroring the main
// log human-readable to console.
func OpenLogs(cfg LogConfig, console io.Writer) (*logging.Loggers, error) {
	l, err := logging.New(logging.Options{
		Dir:            cfg.Dir,
		Level:          cfg.Level,
		ConsoleLevel:   cfg.ConsoleLevel,
		MaxSizeBytes:   cfg.MaxSizeBytes,
		MainRetention:  cfg.Retention,
		AuditRetention: cfg.AuditRetention,
		AuditKey:       auditKey(cfg.AuditKey),
		Console:        console,
	})
	if errors.Is(err, dirlock.ErrLocked) {
		return nil, fmt.Errorf("%w (set log.dir, --log-dir)", err)
	}
	return l, err
}

// auditKey is the audit key's bytes; nil when none is set.
func auditKey(k string) []byte {
	if k == "" {
		return nil
	}
	return []byte(k)
}

// lastConfigFile keeps the previous start's configuration (secrets masked)
// beside the logs, to tell what changed.
const lastConfigFile = "config.last.yaml"

// AuditConfigChange writes a configuration_change audit record when the
// effective configuration differs from the one the last start recorded,
// naming the changed keys. Secrets are masked before anything is stored or
// compared, so a changed secret is not detected and never written.
func AuditConfigChange(audit *logging.Audit, cfg Config) error {
	var now bytes.Buffer
	if err := Print(&now, cfg); err != nil {
		return err
	}
	path := filepath.Join(cfg.Log.Dir, lastConfigFile)
	before, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read previous configuration %q: %w", path, err)
	}
	if bytes.Equal(before, now.Bytes()) {
		return nil
	}
	changed := changedKeys(path, len(before) > 0, cfg)
	actor := "unknown"
	if u, err := user.Current(); err == nil {
		actor = u.Username
	}
	details := map[string]any{"changed": changed, "first_start": len(before) == 0}
	if err := audit.Record(logging.AuditConfigChange, actor, details); err != nil {
		return err
	}
	if err := os.WriteFile(path, now.Bytes(), 0o640); err != nil {
		return fmt.Errorf("save configuration %q: %w", path, err)
	}
	return nil
}

// changedKeys names the settings whose values differ between the
// configuration saved at path (read with the same loader as any config
// file) and cfg; all of them when nothing was saved or it does not load.
// Secrets compare in their masked form, as they were saved.
func changedKeys(path string, saved bool, cfg Config) []string {
	prev := DefaultConfig()
	loaded := saved && applyFile(&prev, path) == nil
	var keys []string
	for _, s := range settings() {
		now := s.get(&cfg)
		if s.kind == secret && now != "" {
			now = masked
		}
		if !loaded || s.get(&prev) != now {
			keys = append(keys, s.key)
		}
	}
	return keys
}
