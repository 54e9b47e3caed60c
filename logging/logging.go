package logging

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipewatch/pipewatch/internal/dirlock"
)

// Base names of the two logs' files in Options.Dir.
const (
	mainBase  = "pipewatch"
	auditBase = "audit"
)

// timeLayout is every timestamp's format: ISO 8601, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Defaults of the Options fields left zero.
const (
	DefaultMaxSizeBytes   = 100 << 20             // 100 MiB
	DefaultMainRetention  = 90 * 24 * time.Hour   // 90 days
	DefaultAuditRetention = 2557 * 24 * time.Hour // 7 years
)

// Options configures New. Every field but Dir may be left zero.
type Options struct {
	// Dir holds pipewatch.log, audit.log and their rotated files. Required;
	// created (0750) when missing.
	Dir string
	// Level is debug, info, warn or error (lower case); lines below it are
	// dropped from the file and the console. Empty means info.
	Level string
	// MaxSizeBytes rotates a file before a line would take it past this
	// size; a longer line gets a file of its own. Zero means
	// DefaultMaxSizeBytes (100 MiB); negative is an error.
	MaxSizeBytes int64
	// MainRetention is how long rotated main log files are kept, counted
	// from the stamp in their names. Zero means DefaultMainRetention (90
	// days); negative is an error.
	MainRetention time.Duration
	// AuditRetention is the same for rotated audit files. Zero means
	// DefaultAuditRetention (7 years, 2557 days); negative is an error.
	AuditRetention time.Duration
	// Console receives the human-readable copy of the main log; writes to
	// it are serialized. Nil means os.Stderr; io.Discard turns it off, so
	// no line is encoded for it.
	Console io.Writer
	// ConsoleLevel is the lowest level copied to Console: debug, info, warn,
	// error, or off. Empty means Level. A worker running many short steps
	// may keep its file at info and its console at warn: each console line
	// costs about as much as its file line.
	ConsoleLevel string
	// Clock tells the time of log lines, audit records, rotations and
	// retention. Nil means the system clock.
	Clock Clock
	// FlushInterval lets the main log gather lines (up to 64 KiB) and write
	// them at least this often, and at Close: one write per burst instead
	// of one per line. Lines stay whole and in the file of their day. A
	// hard kill loses at most that much of the main log; the audit log is
	// always written through and synced. Zero means 1s; negative writes
	// every line at once.
	FlushInterval time.Duration
	// AuditKey signs the audit log's checkpoints (HMAC-SHA256), so that
	// whoever holds it can tell a rewritten or cut log (VerifyAuditFiles).
	// Secret: never logged. Nil writes no checkpoints.
	AuditKey []byte
}

// Loggers are pipewatch's main and audit logs.
type Loggers struct {
	// Main is the lifecycle log: JSON lines in pipewatch.log, mirrored
	// human-readable to the console.
	Main *zap.Logger
	// Audit is the hash-chained audit log in audit.log.
	Audit *Audit

	main, audit *rotatingFile
	lock        *dirlock.Lock // the log directory, this process's while open
}

// New opens both logs in opts.Dir, creating it when missing, and applies
// retention to rotated files left by earlier runs. The audit chain goes on
// from the newest record already there.
func New(opts Options) (*Loggers, error) {
	opts, level, consoleLevel, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("logging: create log dir %q: %w", opts.Dir, err)
	}
	// One process a log directory: two would interleave their audit
	// records into one chain, which then reads as tampered.
	lock, err := dirlock.Acquire(opts.Dir, "pipewatch logs")
	if err != nil {
		if errors.Is(err, dirlock.ErrLocked) {
			return nil, fmt.Errorf("logging: log directory: %w: each worker needs a log directory of its own", err)
		}
		return nil, fmt.Errorf("logging: %w", err)
	}
	l, err := openLogs(opts, level, consoleLevel)
	if err != nil {
		return nil, errors.Join(err, lock.Release())
	}
	l.lock = lock
	return l, nil
}

// openLogs opens both logs in opts.Dir, which this process holds.
func openLogs(opts Options, level zapcore.Level, consoleLevel *zapcore.Level) (*Loggers, error) {
	mainFile, err := openRotating(opts.Dir, mainBase, opts.MaxSizeBytes, opts.MainRetention, opts.Clock)
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	if opts.FlushInterval > 0 {
		mainFile.buffer(opts.FlushInterval)
	}
	auditFile, err := openRotating(opts.Dir, auditBase, opts.MaxSizeBytes, opts.AuditRetention, opts.Clock)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("logging: %w", err), mainFile.Close())
	}
	console := zapcore.Lock(zapcore.AddSync(opts.Console))
	core := zapcore.NewCore(zapcore.NewJSONEncoder(jsonEncoderConfig()), mainFile, level)
	if opts.Console != io.Discard && consoleLevel != nil {
		core = zapcore.NewTee(core, zapcore.NewCore(zapcore.NewConsoleEncoder(consoleEncoderConfig()), console, *consoleLevel))
	}
	logger := zap.New(core, zap.WithClock(zapClock{opts.Clock}), zap.AddCaller(), zap.ErrorOutput(console))
	audit, bad, err := openAudit(auditFile, opts.Clock, opts.AuditKey)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("logging: %w", err), mainFile.Close(), auditFile.Close())
	}
	if bad != nil {
		logger.Warn("audit chain restarted after a line that does not verify",
			zap.String("file", bad.Path), zap.Int("line", bad.Line), zap.String("reason", bad.Reason))
	}
	return &Loggers{Main: logger, Audit: audit, main: mainFile, audit: auditFile}, nil
}

// withDefaults checks opts and fills in the defaults of zero fields. The
// console level is nil when the console is off.
func (opts Options) withDefaults() (Options, zapcore.Level, *zapcore.Level, error) {
	if strings.TrimSpace(opts.Dir) == "" {
		return opts, 0, nil, fmt.Errorf("logging: dir %q is empty (Options.Dir is required)", opts.Dir)
	}
	if opts.Level == "" {
		opts.Level = "info"
	}
	level, ok := parseLevel(opts.Level)
	if !ok {
		return opts, 0, nil, fmt.Errorf("logging: level %q is not one of debug, info, warn, error", opts.Level)
	}
	var consoleLevel *zapcore.Level
	switch opts.ConsoleLevel {
	case "":
		consoleLevel = &level
	case "off":
	default:
		l, ok := parseLevel(opts.ConsoleLevel)
		if !ok {
			return opts, 0, nil, fmt.Errorf("logging: console level %q is not one of debug, info, warn, error, off", opts.ConsoleLevel)
		}
		consoleLevel = &l
	}
	switch {
	case opts.MaxSizeBytes < 0:
		return opts, 0, nil, fmt.Errorf("logging: max size %d bytes is negative (Options.MaxSizeBytes)", opts.MaxSizeBytes)
	case opts.MainRetention < 0:
		return opts, 0, nil, fmt.Errorf("logging: main retention %s is negative (Options.MainRetention)", opts.MainRetention)
	case opts.AuditRetention < 0:
		return opts, 0, nil, fmt.Errorf("logging: audit retention %s is negative (Options.AuditRetention)", opts.AuditRetention)
	}
	if opts.MaxSizeBytes == 0 {
		opts.MaxSizeBytes = DefaultMaxSizeBytes
	}
	if opts.MainRetention == 0 {
		opts.MainRetention = DefaultMainRetention
	}
	if opts.AuditRetention == 0 {
		opts.AuditRetention = DefaultAuditRetention
	}
	if opts.Console == nil {
		opts.Console = os.Stderr
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = time.Second
	}
	return opts, level, consoleLevel, nil
}

func parseLevel(s string) (zapcore.Level, bool) {
	switch s {
	case "debug":
		return zapcore.DebugLevel, true
	case "info":
		return zapcore.InfoLevel, true
	case "warn":
		return zapcore.WarnLevel, true
	case "error":
		return zapcore.ErrorLevel, true
	}
	return 0, false
}

// Close flushes and closes both logs' files. The loggers must not be used
// afterwards (their writes fail); a second Close does nothing.
func (l *Loggers) Close() error {
	_ = l.Main.Sync()      // the console may be a terminal, which cannot sync; the files report below
	serr := l.Audit.seal() // a keyed log ends with a checkpoint
	ferr := errors.Join(serr, l.main.Close(), l.audit.Close())
	return errors.Join(ferr, l.lock.Release()) // after the last write
}

// jsonEncoderConfig encodes the file's lines: ts, level, caller, msg, then
// the fields; times ISO 8601 UTC, durations as strings such as "1.5s".
func jsonEncoderConfig() zapcore.EncoderConfig {
	c := zap.NewProductionEncoderConfig()
	c.TimeKey = "ts"
	c.EncodeTime = func(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
		// The JSON encoder formats the time into its buffer: the same
		// bytes as the string below, without allocating or escaping it.
		if e, ok := enc.(interface{ AppendTimeLayout(time.Time, string) }); ok {
			e.AppendTimeLayout(t.UTC(), timeLayout)
			return
		}
		enc.AppendString(t.UTC().Format(timeLayout))
	}
	c.EncodeDuration = zapcore.StringDurationEncoder
	return c
}

// consoleEncoderConfig encodes the console's lines: tab-separated time,
// LEVEL, caller and message, then the fields.
func consoleEncoderConfig() zapcore.EncoderConfig {
	c := jsonEncoderConfig()
	c.EncodeLevel = zapcore.CapitalLevelEncoder
	return c
}

// zapClock lets zap stamp lines with the injected Clock.
type zapClock struct{ c Clock }

func (z zapClock) Now() time.Time { return z.c.Now() }

func (z zapClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }
