package lineage

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r as the JSON object json.Marshal would write, without
// reflection: it is on every step's path. Bytes that are not valid UTF-8
// become \ufffd, as with json.Marshal.
func (r *Run) AppendJSON(b []byte) []byte {
	b = append(b, `{"runId":`...)
	b = appendString(b, r.RunID)
	b = append(b, `,"jobKey":`...)
	b = appendString(b, r.JobKey)
	b = append(b, `,"state":`...)
	b = appendString(b, r.State)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(r.Attempt), 10)
	b = append(b, `,"startedAt":"`...)
	b = r.StartedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if !r.EndedAt.IsZero() {
		b = append(b, `,"endedAt":"`...)
		b = r.EndedAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"workflowId":`...)
	b = appendString(b, r.WorkflowID)
	if r.ParentRunID != "" {
		b = append(b, `,"parentRunId":`...)
		b = appendString(b, r.ParentRunID)
	}
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	if r.Final {
		b = append(b, `,"final":true`...)
	}
	// Datasets are rare (an activity's end) and hold user maps: the
	// standard encoder. Valid datasets (finite metrics) always encode.
	for _, io := range []struct {
		key string
		ds  []Dataset
	}{{`,"inputs":`, r.Inputs}, {`,"outputs":`, r.Outputs}} {
		if len(io.ds) > 0 {
			enc, err := json.Marshal(io.ds)
			if err != nil {
				enc = []byte("[]") // unreachable for datasets that Validate
			}
			b = append(b, io.key...)
			b = append(b, enc...)
		}
	}
	return append(b, '}')
}

// appendString appends s as a JSON string, escaping as encoding/json does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				start = i + size
			} else if r == '\u2028' || r == '\u2029' {
				b = append(b, s[start:i]...)
				b = append(b, `\u202`...)
				b = append(b, hex[r&0xf])
				start = i + size
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
