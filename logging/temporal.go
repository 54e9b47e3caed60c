package logging

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
)

// temporalLogger makes a zap logger the Temporal SDK's logger.
type temporalLogger struct{ z *zap.Logger }

var (
	_ log.Logger          = temporalLogger{}
	_ log.WithLogger      = temporalLogger{}
	_ log.WithSkipCallers = temporalLogger{}
)

// NewTemporalLogger adapts z to the Temporal SDK's log.Logger, for
// client.Options.Logger. The SDK's alternating key-value pairs become zap
// fields (a key that is not a string is printed with fmt.Sprint; an error
// value is logged by its message); a last key with no value is kept under
// "_extra". The logger also implements log.WithLogger and
// log.WithSkipCallers. A nil z logs nothing.
func NewTemporalLogger(z *zap.Logger) log.Logger {
	if z == nil {
		z = zap.NewNop()
	}
	return temporalLogger{z.WithOptions(zap.AddCallerSkip(1))}
}

// Debug logs at debug level.
func (l temporalLogger) Debug(msg string, keyvals ...any) { l.z.Debug(msg, fields(keyvals)...) }

// Info logs at info level.
func (l temporalLogger) Info(msg string, keyvals ...any) { l.z.Info(msg, fields(keyvals)...) }

// Warn logs at warn level.
func (l temporalLogger) Warn(msg string, keyvals ...any) { l.z.Warn(msg, fields(keyvals)...) }

// Error logs at error level.
func (l temporalLogger) Error(msg string, keyvals ...any) { l.z.Error(msg, fields(keyvals)...) }

// With returns a logger that adds keyvals to every line.
func (l temporalLogger) With(keyvals ...any) log.Logger {
	return temporalLogger{l.z.With(fields(keyvals)...)}
}

// WithCallerSkip returns a logger that reports the caller depth frames up.
func (l temporalLogger) WithCallerSkip(depth int) log.Logger {
	return temporalLogger{l.z.WithOptions(zap.AddCallerSkip(depth))}
}

func fields(keyvals []any) []zap.Field {
	out := make([]zap.Field, 0, (len(keyvals)+1)/2)
	for i := 0; i < len(keyvals); i += 2 {
		if i+1 == len(keyvals) {
			out = append(out, zap.Any("_extra", keyvals[i]))
			break
		}
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		if err, isErr := keyvals[i+1].(error); isErr {
			out = append(out, zap.NamedError(key, err))
			continue
		}
		out = append(out, zap.Any(key, keyvals[i+1]))
	}
	return out
}
