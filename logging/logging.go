package logging

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Base names of the two logs' files in Options.Dir.
const (
	mainBase  = "pipewatch"
	auditBase = "audit"
)

// timeLayout is every timestamp's format: ISO 8601, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Options configures New.
type Options struct {
	// Dir holds pipewatch.log, audit.log and their rotated files. Required;
	// created (0750) when missing.
	Dir string
	// Level is debug, info, warn or error. Empty means info.
	Level string
	// MaxSizeBytes rotates a file before it grows past this size. Zero
	// means 100 MiB.
	MaxSizeBytes int64
	// MainRetention keeps rotated main log files this long. Zero means 90
	// days.
	MainRetention time.Duration
	// AuditRetention keeps rotated audit files this long. Zero means 7
	// years (2557 days).
	AuditRetention time.Duration
	// Console receives the human-readable copy of the main log. Nil means
	// os.Stderr; io.Discard silences it.
	Console io.Writer
	// Clock tells the time of log lines, rotations and retention. Nil
	// means the system clock.
	Clock Clock
}

// Loggers are pipewatch's main and audit logs.
type Loggers struct {
	// Main is the lifecycle log: JSON lines in pipewatch.log, mirrored
	// human-readable to the console.
	Main *zap.Logger
	// Audit is the hash-chained audit log in audit.log.
	Audit *Audit

	main, audit *rotatingFile
}

// New opens both logs in opts.Dir, applying retention to files left by
// earlier runs.
func New(opts Options) (*Loggers, error) {
	if strings.TrimSpace(opts.Dir) == "" {
		return nil, errors.New("logging: dir must not be empty")
	}
	if opts.Level == "" {
		opts.Level = "info"
	}
	levels := []string{"debug", "info", "warn", "error"}
	if !slices.Contains(levels, opts.Level) {
		return nil, fmt.Errorf("logging: level %q is not one of %s", opts.Level, strings.Join(levels, ", "))
	}
	level, _ := zapcore.ParseLevel(opts.Level)
	if opts.MaxSizeBytes == 0 {
		opts.MaxSizeBytes = 100 << 20
	}
	if opts.MainRetention == 0 {
		opts.MainRetention = 90 * 24 * time.Hour
	}
	if opts.AuditRetention == 0 {
		opts.AuditRetention = 2557 * 24 * time.Hour
	}
	if opts.Console == nil {
		opts.Console = os.Stderr
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("logging: create dir %q: %w", opts.Dir, err)
	}
	mainFile, err := openRotating(opts.Dir, mainBase, opts.MaxSizeBytes, opts.MainRetention, opts.Clock)
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	auditFile, err := openRotating(opts.Dir, auditBase, opts.MaxSizeBytes, opts.AuditRetention, opts.Clock)
	if err != nil {
		_ = mainFile.Close()
		return nil, fmt.Errorf("logging: %w", err)
	}
	audit, err := openAudit(auditFile, opts.Clock)
	if err != nil {
		_ = mainFile.Close()
		_ = auditFile.Close()
		return nil, fmt.Errorf("logging: %w", err)
	}

	core := zapcore.NewTee(
		zapcore.NewCore(zapcore.NewJSONEncoder(encoderConfig()), mainFile, level),
		zapcore.NewCore(zapcore.NewConsoleEncoder(consoleConfig()), zapcore.AddSync(opts.Console), level),
	)
	logger := zap.New(core, zap.WithClock(zapClock{opts.Clock}), zap.AddCaller(),
		zap.ErrorOutput(zapcore.AddSync(opts.Console)))
	return &Loggers{Main: logger, Audit: audit, main: mainFile, audit: auditFile}, nil
}

// Close flushes and closes both logs.
func (l *Loggers) Close() error {
	_ = l.Main.Sync() // the console may be a terminal, which cannot sync
	return errors.Join(l.main.Close(), l.audit.Close())
}

func encoderConfig() zapcore.EncoderConfig {
	c := zap.NewProductionEncoderConfig()
	c.TimeKey = "ts"
	c.EncodeTime = func(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
		enc.AppendString(t.UTC().Format(timeLayout))
	}
	c.EncodeDuration = zapcore.StringDurationEncoder
	return c
}

func consoleConfig() zapcore.EncoderConfig {
	c := encoderConfig()
	c.EncodeLevel = zapcore.CapitalLevelEncoder
	return c
}

// zapClock lets zap stamp lines with the injected Clock.
type zapClock struct{ c Clock }

func (z zapClock) Now() time.Time { return z.c.Now() }

func (z zapClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
