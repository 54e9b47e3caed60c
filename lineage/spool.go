package lineage

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pipewatch/pipewatch/internal/dirlock"
)

// ErrSpoolFull is returned by Append when the spool holds its limit.
var ErrSpoolFull = errors.New("lineage: spool full")

// Spool is a durable, bounded, ordered queue of records on disk, between the
// activities that capture lineage and the writer that drains it to Neo4j.
// Records live in segment files; each record is
//
//	magic "PWL1" | length uint32 | CRC-32C uint32 | payload
//
// so a reader that finds a damaged record can report its offset and find the
// next one by its magic. Appends are written at once and synced in groups
// (SyncEvery); the read position is kept in a file, so after a crash or a
// kill the records not yet acknowledged are read again, in order.
type Spool struct {
	dir          string
	maxBytes     int64
	segmentBytes int64
	lock         *dirlock.Lock // the directory, this process's while open

	mu    sync.Mutex
	w     *os.File // the segment appended to
	wSeq  uint64
	wSize int64
	// rollNext: a record cut short could not be taken back; the next
	// append starts a new segment, leaving it a tail that Read skips.
	rollNext bool
	frame    []byte // Append's framing buffer, reused
	total    int64  // bytes in all segments
	pos      Position
	dirty    bool // appended since the last sync
	stop     chan struct{}
	stopped  chan struct{}
	onSkip   func(Corruption)
}

// Position is where reading resumes: a segment and a byte offset in it.
type Position struct {
	Segment uint64
	Offset  int64
}

// Corruption describes a damaged record that reading skipped.
type Corruption struct {
	Segment string // file name
	Offset  int64  // where the damaged record starts
	Skipped int64  // bytes skipped to the next record
	Reason  string
}

// SpoolOptions configures OpenSpool.
type SpoolOptions struct {
	// MaxBytes bounds the spool's size on disk. Zero means 1 GiB.
	MaxBytes int64
	// SegmentBytes starts a new segment file past this size. Zero means 16
	// MiB; never more than a quarter of MaxBytes, so drained segments are
	// deleted long before the bound.
	SegmentBytes int64
	// SyncEvery syncs appended records to disk at this interval. Appends
	// reach the operating system at once, so a killed process loses
	// nothing; a machine that loses power loses at most this much. Zero
	// means 1s.
	SyncEvery time.Duration
	// OnCorruption is told of every damaged record skipped. Nil ignores them.
	OnCorruption func(Corruption)
}

const (
	recordMagic  = "PWL1"
	headerSize   = 12
	maxRecord    = 16 << 20
	segmentGlob  = "segment-*.log"
	positionFile = "position"
	// DeadLetterFile, in the spool's folder, holds the events the store
	// rejected for good, one JSON line each: {"at", "error", "event"}.
	DeadLetterFile = "dead-letter.jsonl"
)

func checksum(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// OpenSpool opens (or creates) the spool in dir and starts its sync loop.
func OpenSpool(dir string, opts SpoolOptions) (*Spool, error) {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 1 << 30
	}
	if opts.SegmentBytes == 0 {
		opts.SegmentBytes = 16 << 20
	}
	opts.SegmentBytes = min(opts.SegmentBytes, max(opts.MaxBytes/4, 4<<10))
	if opts.SyncEvery == 0 {
		opts.SyncEvery = time.Second
	}
	// One process a spool: two appending and committing in one directory
	// would move each other's position and lose events.
	lock, err := dirlock.Acquire(dir, "pipewatch lineage spool")
	if err != nil {
		if errors.Is(err, dirlock.ErrLocked) {
			return nil, fmt.Errorf("lineage: spool directory: %w: each worker needs a spool directory of its own", err)
		}
		return nil, fmt.Errorf("lineage: %w", err)
	}
	s, err := openLockedSpool(dir, opts, lock)
	if err != nil {
		return nil, errors.Join(err, lock.Release())
	}
	return s, nil
}

// openLockedSpool opens the spool in dir, which this process holds.
func openLockedSpool(dir string, opts SpoolOptions, lock *dirlock.Lock) (*Spool, error) {
	s := &Spool{dir: dir, maxBytes: opts.MaxBytes, segmentBytes: opts.SegmentBytes, onSkip: opts.OnCorruption,
		stop: make(chan struct{}), stopped: make(chan struct{}), lock: lock}
	segs, err := s.segments()
	if err != nil {
		return nil, err
	}
	for _, seq := range segs {
		st, err := os.Stat(s.segmentPath(seq))
		if err != nil {
			return nil, fmt.Errorf("lineage: spool: %w", err)
		}
		s.total += st.Size()
	}
	s.pos = s.readPosition(segs)
	// Segments wholly committed but left by a crash inside Commit.
	for len(segs) > 0 && segs[0] < s.pos.Segment {
		p := s.segmentPath(segs[0])
		if st, err := os.Stat(p); err == nil {
			s.total -= st.Size()
		}
		if err := os.Remove(p); err != nil {
			return nil, fmt.Errorf("lineage: remove drained spool segment: %w", err)
		}
		segs = segs[1:]
	}
	// Appends go to a new segment: one a crash cut off mid-record stays
	// behind the torn record, which Read skips, never ahead of it.
	next := max(s.pos.Segment, 1)
	if len(segs) > 0 {
		next = segs[len(segs)-1] + 1
	} else {
		s.pos = Position{Segment: next}
	}
	if err := s.openSegment(next); err != nil {
		return nil, err
	}
	go s.syncLoop(opts.SyncEvery)
	return s, nil
}

func (s *Spool) segmentPath(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("segment-%016d.log", seq))
}

// segments lists the segment numbers in order.
func (s *Spool) segments() ([]uint64, error) {
	names, err := filepath.Glob(filepath.Join(s.dir, segmentGlob))
	if err != nil {
		return nil, fmt.Errorf("lineage: list spool: %w", err)
	}
	var seqs []uint64
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(n), "segment-"), ".log")
		if seq, err := strconv.ParseUint(base, 10, 64); err == nil {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

func (s *Spool) openSegment(seq uint64) error {
	f, err := os.OpenFile(s.segmentPath(seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("lineage: open spool segment: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("lineage: stat spool segment: %w", err)
	}
	s.w, s.wSeq, s.wSize = f, seq, st.Size()
	return nil
}

// Append adds records in order. They are in the operating system's hands
// when Append returns and on disk within SyncEvery. A full spool takes none
// of them and returns ErrSpoolFull.
func (s *Spool) Append(payloads ...[]byte) error {
	for _, p := range payloads {
		if len(p) > maxRecord {
			return fmt.Errorf("lineage: spool record of %d bytes exceeds %d", len(p), maxRecord)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return fmt.Errorf("lineage: spool: %w", os.ErrClosed)
	}
	buf := s.frame[:0] // reused: framing allocates nothing
	for _, p := range payloads {
		buf = append(buf, recordMagic...)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(p)))
		buf = binary.LittleEndian.AppendUint32(buf, checksum(p))
		buf = append(buf, p...)
	}
	s.frame = buf
	if s.total+int64(len(buf)) > s.maxBytes {
		return fmt.Errorf("%w: %d of %d bytes used", ErrSpoolFull, s.total, s.maxBytes)
	}
	if s.wSize > 0 && (s.wSize+int64(len(buf)) > s.segmentBytes || s.rollNext) {
		if err := s.w.Sync(); err != nil {
			return fmt.Errorf("lineage: sync spool segment: %w", err)
		}
		_ = s.w.Close()
		if err := s.openSegment(s.wSeq + 1); err != nil {
			return err
		}
	}
	s.rollNext = false
	n, err := s.w.Write(buf)
	if err != nil && n > 0 {
		// Cut short (a full disk): take the part back, so the records
		// appended once there is room follow the last whole one. If that
		// fails too, the cut record stays as the tail of this segment,
		// which Read skips once appends go on in the next.
		if terr := s.w.Truncate(s.wSize); terr == nil {
			n = 0
		} else {
			s.rollNext = true
		}
	}
	s.wSize += int64(n)
	s.total += int64(n)
	s.dirty = true
	if err != nil {
		return fmt.Errorf("lineage: append to spool: %w", err)
	}
	return nil
}

func (s *Spool) syncLoop(every time.Duration) {
	defer close(s.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			if s.dirty && s.w != nil {
				if s.w.Sync() == nil {
					s.dirty = false
				}
			}
			s.mu.Unlock()
		}
	}
}

// Read returns up to max records from the read position on, and the
// position after them. Damaged records are skipped (and told to
// OnCorruption). Reading does not move the read position: Commit does.
func (s *Spool) Read(max int) ([][]byte, Position, error) {
	s.mu.Lock()
	pos, last := s.pos, s.wSeq
	s.mu.Unlock()
	if pos.Segment == 0 {
		pos.Segment = 1
	}
	var out [][]byte
	for len(out) < max && pos.Segment <= last {
		recs, end, err := s.readSegment(pos, max-len(out), pos.Segment == last)
		if err != nil {
			return nil, Position{}, err
		}
		out = append(out, recs...)
		pos.Offset = end
		if len(out) < max && pos.Segment < last {
			pos = Position{Segment: pos.Segment + 1}
			continue
		}
		break
	}
	return out, pos, nil
}

// readSegment reads records from pos on. In the segment appended to
// (current), a record cut short is still being written; in any other, it
// is the torn tail of a crash: reported and skipped.
func (s *Spool) readSegment(pos Position, limit int, current bool) ([][]byte, int64, error) {
	f, err := os.Open(s.segmentPath(pos.Segment))
	if errors.Is(err, os.ErrNotExist) {
		return nil, pos.Offset, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("lineage: read spool: %w", err)
	}
	defer f.Close()
	// Read only as far as the records returned: a backlog of a full
	// segment is not read again for every batch.
	off := pos.Offset
	r := bufio.NewReaderSize(io.NewSectionReader(f, off, 1<<62), 64<<10)
	var out [][]byte
	torn := func() (int64, error) {
		if current || len(out) >= limit {
			return off, nil
		}
		st, err := f.Stat()
		if err != nil {
			return 0, fmt.Errorf("lineage: read spool: %w", err)
		}
		if st.Size() > off && s.onSkip != nil {
			s.onSkip(Corruption{Segment: filepath.Base(s.segmentPath(pos.Segment)), Offset: off, Skipped: st.Size() - off,
				Reason: "torn record at the end of the segment (a crash mid-append)"})
		}
		return max(st.Size(), off), nil
	}
	for len(out) < limit {
		h, _ := r.Peek(headerSize)
		if len(h) < headerSize {
			end, err := torn() // end of segment, a header still being written, or a torn one
			return out, end, err
		}
		n := int(binary.LittleEndian.Uint32(h[4:8]))
		reason := ""
		switch {
		case string(h[:4]) != recordMagic:
			reason = "no record marker"
		case n > maxRecord:
			reason = fmt.Sprintf("length %d exceeds %d", n, maxRecord)
		}
		if reason == "" {
			sum := binary.LittleEndian.Uint32(h[8:12])
			rec := make([]byte, headerSize+n)
			if _, err := io.ReadFull(r, rec); err != nil {
				end, err := torn() // still being written, or torn
				return out, end, err
			}
			if payload := rec[headerSize:]; checksum(payload) == sum {
				out = append(out, payload)
				off += int64(headerSize + n)
				continue
			}
			reason = "checksum mismatch"
		}
		// Damaged (rare): find the next record marker from the file itself.
		next, err := s.skip(f, pos.Segment, off, reason)
		if err != nil {
			return nil, 0, err
		}
		off = next
		r.Reset(io.NewSectionReader(f, off, 1<<62))
	}
	return out, off, nil
}

// skip reports the damaged record at off and returns the offset of the next
// record marker after it, or the end of the segment.
func (s *Spool) skip(f *os.File, segment uint64, off int64, reason string) (int64, error) {
	data, err := io.ReadAll(io.NewSectionReader(f, off+1, 1<<62))
	if err != nil {
		return 0, fmt.Errorf("lineage: read spool: %w", err)
	}
	next := off + 1 + int64(len(data))
	if i := bytes.Index(data, []byte(recordMagic)); i >= 0 {
		next = off + 1 + int64(i)
	}
	if s.onSkip != nil {
		s.onSkip(Corruption{Segment: filepath.Base(s.segmentPath(segment)), Offset: off, Skipped: next - off, Reason: reason})
	}
	return next, nil
}

// Commit moves the read position to pos (as returned by Read), durably
// (the position file and its folder synced), and deletes the segments
// wholly before it. When everything appended is committed, it starts a new
// segment and deletes the drained one, so a bound below the segment size
// never leaves the spool full with nothing pending.
func (s *Spool) Commit(pos Position) error {
	if err := s.savePosition(pos); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pos = pos
	if s.w != nil && pos.Segment == s.wSeq && pos.Offset >= s.wSize && s.wSize > 0 {
		if err := s.roll(); err != nil {
			return err
		}
	}
	return s.dropBefore(s.pos.Segment)
}

// roll moves appends and the read position to a new, empty segment; the
// drained one is deleted by dropBefore. Called with s.mu held.
func (s *Spool) roll() error {
	if err := s.w.Sync(); err != nil {
		return fmt.Errorf("lineage: sync spool segment: %w", err)
	}
	_ = s.w.Close()
	if err := s.openSegment(s.wSeq + 1); err != nil {
		return err
	}
	s.dirty = false
	next := Position{Segment: s.wSeq}
	if err := s.savePosition(next); err != nil {
		return err
	}
	s.pos = next
	return nil
}

// dropBefore deletes the segments before seq but the one appended to.
// Called with s.mu held.
func (s *Spool) dropBefore(seq uint64) error {
	segs, err := s.segments()
	if err != nil {
		return err
	}
	for _, n := range segs {
		if n >= seq || n == s.wSeq {
			break
		}
		p := s.segmentPath(n)
		if st, err := os.Stat(p); err == nil {
			s.total -= st.Size()
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("lineage: remove drained spool segment: %w", err)
		}
	}
	return nil
}

// savePosition writes the position file and syncs it and its folder, so a
// machine that loses power finds it as it was written.
func (s *Spool) savePosition(pos Position) error {
	tmp := filepath.Join(s.dir, positionFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("lineage: save spool position: %w", err)
	}
	_, werr := fmt.Fprintf(f, "%d %d\n", pos.Segment, pos.Offset)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("lineage: save spool position: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, positionFile)); err != nil {
		return fmt.Errorf("lineage: save spool position: %w", err)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("lineage: sync spool folder: %w", err)
	}
	serr = d.Sync()
	if err := errors.Join(serr, d.Close()); err != nil {
		return fmt.Errorf("lineage: sync spool folder: %w", err)
	}
	return nil
}

// readPosition reads where reading resumes. A position file that is
// missing means the oldest segment; one that is empty, damaged, or points
// past the segments there are is reported (OnCorruption) and reading
// starts again from the oldest segment: the writes are idempotent MERGEs,
// so reading twice loses nothing and duplicates nothing.
func (s *Spool) readPosition(segs []uint64) Position {
	oldest := Position{Segment: 1}
	if len(segs) > 0 {
		oldest = Position{Segment: segs[0]}
	}
	path := filepath.Join(s.dir, positionFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return oldest
	}
	damaged := func(why string) Position {
		if s.onSkip != nil {
			s.onSkip(Corruption{Segment: positionFile, Reason: why + ": reading again from the oldest segment"})
		}
		return oldest
	}
	if err != nil {
		return damaged(fmt.Sprintf("position file %q unreadable (%v)", path, err))
	}
	var p Position
	if _, err := fmt.Sscanf(string(b), "%d %d", &p.Segment, &p.Offset); err != nil || p.Segment == 0 || p.Offset < 0 {
		return damaged(fmt.Sprintf("position file %q is damaged (%q)", path, b))
	}
	switch {
	case len(segs) == 0 || p.Segment < segs[0]:
		return Position{Segment: max(p.Segment, oldest.Segment)} // the segments before were drained
	case p.Segment > segs[len(segs)-1]:
		return damaged(fmt.Sprintf("position %d:%d is past the last segment %d", p.Segment, p.Offset, segs[len(segs)-1]))
	}
	if st, err := os.Stat(s.segmentPath(p.Segment)); err != nil || st.Size() < p.Offset {
		return damaged(fmt.Sprintf("position %d:%d is past the end of its segment", p.Segment, p.Offset))
	}
	return p
}

// Bytes is the spool's size on disk.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Pending is how many bytes of records are not yet committed: what the
// writer still has to store.
func (s *Spool) Pending() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Commit deletes the segments before the position's (all but the one
	// appended to), so what is left before the position is its offset.
	return max(s.total-s.pos.Offset, 0)
}

// Close syncs and closes the spool.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.w == nil {
		s.mu.Unlock()
		return nil
	}
	close(s.stop)
	w := s.w
	s.w = nil
	s.mu.Unlock()
	<-s.stopped
	serr := w.Sync()
	cerr := w.Close()
	lerr := s.lock.Release() // after the last write
	switch {
	case cerr != nil:
		return fmt.Errorf("lineage: close spool: %w", cerr)
	case serr != nil:
		return fmt.Errorf("lineage: sync spool: %w", serr)
	case lerr != nil:
		return fmt.Errorf("lineage: unlock spool: %w", lerr)
	}
	return nil
}

// Check reports an error when the spool is nine tenths full or more: the
// writer is not keeping up (Neo4j down?) and events will soon be refused.
func (s *Spool) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.total*10 >= s.maxBytes*9 {
		return fmt.Errorf("lineage spool holds %d of %d bytes: is Neo4j reachable?", s.total, s.maxBytes)
	}
	return nil
}

// DeadLetter appends an event the store rejected for good, with the error,
// to the dead-letter file (synced): kept for a person to look at, out of
// the way of the events after it.
func (s *Spool) DeadLetter(r Run, reason error) error {
	line, err := json.Marshal(struct {
		At    time.Time `json:"at"`
		Error string    `json:"error"`
		Event Run       `json:"event"`
	}{time.Now().UTC(), reason.Error(), r})
	if err != nil {
		return fmt.Errorf("lineage: encode dead letter: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(s.dir, DeadLetterFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("lineage: open dead-letter file: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("lineage: write dead-letter file: %w", err)
	}
	return nil
}
