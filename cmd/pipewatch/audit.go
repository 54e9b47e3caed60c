package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/worker"
)

// errAuditTampered is what audit verify returns when the log has problems
// beyond recorded interruptions; the report is printed already.
var errAuditTampered = errors.New("the audit log does not verify")

// auditEvents are the events audit show --event accepts.
func auditEvents() []string {
	return []string{
		string(logging.AuditDataAccess), string(logging.AuditModelDeploy), string(logging.AuditAlertAck),
		string(logging.AuditAlertNotify), string(logging.AuditAlertAction), string(logging.AuditConfigChange),
		string(logging.AuditChainRestart), string(logging.AuditCheckpoint),
	}
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify the hash-chained audit log (<log.dir>/audit.log and its rotated files)",
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditShowCmd())
	return cmd
}

// auditFlags are the flags both audit commands take: where the log is.
type auditFlags struct {
	config, dir string
}

func (f *auditFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "", "YAML configuration file, for log.dir and log.audit_key (env "+worker.ConfigFileEnv+")")
	cmd.Flags().StringVar(&f.dir, "dir", "", "the audit log's folder (default: log.dir of the configuration)")
}

// files loads the configuration and lists the audit log's files.
func (f *auditFlags) files() ([]string, worker.Config, error) {
	cfg, err := worker.Load(worker.Sources{File: f.config, WithoutNeo4j: true})
	if err != nil {
		return nil, cfg, err
	}
	dir := cfg.Log.Dir
	if f.dir != "" {
		dir = f.dir
	}
	files, err := logging.AuditFiles(dir)
	if err != nil {
		return nil, cfg, fmt.Errorf("list the audit log in %q: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, cfg, fmt.Errorf("no audit log in %q (log.dir; --dir names another folder)", dir)
	}
	return files, cfg, nil
}

func newAuditVerifyCmd() *cobra.Command {
	var (
		f              auditFlags
		key, keyFile   string
		asJSON, sealed bool
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain and, with the key, its checkpoints; report every problem",
		Long: `Check every line of the audit log, oldest file first: each record's
hash, the chain from one record to the next, and, with the key
(log.audit_key, --key-file or --key), every checkpoint's HMAC. Every
problem is reported, not only the first. A line cut short by a crash or a
full disk that a later restart record names is reported as torn: a
recorded interruption, not tampering.

Without the key, a log rewritten from some line on with fresh hashes, or
cut at its end, still verifies: only the checkpoints tell. Records after
the last checkpoint are sealed by the hash chain only; a worker writes a
checkpoint every 100 records, at start and at a clean stop, so a stopped
worker's log ends in one (--sealed requires it).

Exit status 1 when anything but torn lines is wrong.`,
		Example: `  pipewatch audit verify
  PIPEWATCH_LOG_AUDIT_KEY_FILE=/run/secrets/audit-key pipewatch audit verify
  pipewatch audit verify --dir /var/log/pipewatch --key-file audit.key --sealed --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, cfg, err := f.files()
			if err != nil {
				return err
			}
			k := cfg.Log.AuditKey
			switch {
			case key != "" && keyFile != "":
				return errors.New("--key and --key-file: give one")
			case key != "":
				k = key
			case keyFile != "":
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return fmt.Errorf("--key-file: %w", err)
				}
				if k = strings.TrimRight(string(b), "\r\n"); k == "" {
					return fmt.Errorf("--key-file %q is empty", keyFile)
				}
			}
			var kb []byte
			if k != "" {
				kb = []byte(k)
			}
			rep, err := logging.VerifyAuditFiles(kb, files...)
			if err != nil {
				return err
			}
			bad := rep.Tampered() || (sealed && (rep.Unsealed > 0 || rep.Checkpoints == 0))
			if rep.Keyed && rep.Checkpoints == 0 && !slices.ContainsFunc(rep.Problems, func(p logging.AuditProblem) bool { return !p.Torn }) {
				// A key and no checkpoint at all: written without a key, or
				// its checkpoints removed with a rewrite.
				bad = true
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					logging.AuditReport
					Files []string `json:"files"`
					OK    bool     `json:"ok"`
				}{rep, files, !bad}); err != nil {
					return err
				}
			} else {
				printAuditReport(out, files, rep, sealed)
			}
			if bad {
				return errAuditTampered
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVar(&keyFile, "key-file", "", "file holding the audit key (default: log.audit_key of the configuration)")
	cmd.Flags().StringVar(&key, "key", "", "the audit key itself (visible in ps: prefer --key-file or PIPEWATCH_LOG_AUDIT_KEY)")
	cmd.Flags().BoolVar(&sealed, "sealed", false, "also fail unless the log ends in a checkpoint (a stopped worker's log does)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// printAuditReport prints a verification report as a person reads it.
func printAuditReport(out io.Writer, files []string, rep logging.AuditReport, sealed bool) {
	for _, p := range rep.Problems {
		kind := "PROBLEM"
		if p.Torn {
			kind = "torn"
		}
		fmt.Fprintf(out, "%s:%d: %s: %s\n", p.Path, p.Line, kind, p.Reason)
	}
	fmt.Fprintf(out, "%d files: %s\n", len(files), rep)
	switch {
	case rep.Keyed && rep.Checkpoints == 0:
		fmt.Fprintln(out, "no checkpoint at all: the log was written without this key, or rewritten without its checkpoints")
	case rep.Keyed && rep.Unsealed > 0:
		note := "expected while a worker writes the log"
		if sealed {
			note = "--sealed: the end may have been cut"
		}
		fmt.Fprintf(out, "the last %d records follow the last checkpoint (seq %d): sealed by the hash chain only (%s)\n", rep.Unsealed, rep.LastSealed, note)
	case !rep.Keyed:
		fmt.Fprintln(out, "without the key, a rewritten or cut log verifies too: give log.audit_key (--key-file) to check the checkpoints")
	}
	if !rep.Tampered() {
		fmt.Fprintln(out, "OK: the hash chain holds")
	}
}

func newAuditShowCmd() *cobra.Command {
	var (
		f                   auditFlags
		since, event, actor string
		asJSON              bool
		limit               int
	)
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print audit records, oldest first, filtered by time, event and actor",
		Example: `  pipewatch audit show --since 24h
  pipewatch audit show --event model_deployment --since 2026-11-01
  pipewatch audit show --event data_access --actor alice --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var from time.Time
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return fmt.Errorf("--since %w", err)
				}
				from = t
			}
			if event != "" && !slices.Contains(auditEvents(), event) {
				return fmt.Errorf("--event %q is not one of %s", event, strings.Join(auditEvents(), ", "))
			}
			files, _, err := f.files()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "TIME\tSEQ\tEVENT\tACTOR\tDETAILS")
			}
			shown, bad := 0, 0
			err = logging.ReadAudit(files, func(r logging.AuditRecord) (bool, error) {
				if r.Problem != "" {
					bad++
					if !asJSON {
						fmt.Fprintf(tw, "?\t\t(%s:%d does not verify: %s)\t\t\n", r.Path, r.Line, r.Problem)
					}
					return true, nil
				}
				if r.TS.Before(from) || (event != "" && string(r.Event) != event) || (actor != "" && r.Actor != actor) {
					return true, nil
				}
				if asJSON {
					fmt.Fprintln(out, r.Raw)
				} else {
					d, _ := json.Marshal(r.Details)
					if r.Details == nil {
						d = nil
					}
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.TS.UTC().Format(time.RFC3339), r.Seq, r.Event, r.Actor, d)
				}
				shown++
				return limit <= 0 || shown < limit, nil
			})
			if err != nil {
				return err
			}
			if !asJSON {
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(out, "%d records", shown)
				if bad > 0 {
					fmt.Fprintf(out, "; %d lines that do not verify (pipewatch audit verify tells why)", bad)
				}
				fmt.Fprintln(out)
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVar(&since, "since", "", "only records at or after this time: RFC 3339, a date (2026-11-26), or an age (90m, 24h, 7d)")
	cmd.Flags().StringVar(&event, "event", "", "only records of this event: "+strings.Join(auditEvents(), ", "))
	cmd.Flags().StringVar(&actor, "actor", "", "only records by this actor")
	cmd.Flags().IntVar(&limit, "limit", 0, "print at most this many records (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the records' lines as written (JSON lines)")
	return cmd
}

// parseSince reads an RFC 3339 time, a date (its start, UTC), or an age
// before now: a Go duration (90m, 24h) or whole days (7d).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := parseTime(s, false); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 36500 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-11-26T09:30:00Z), a date (2026-11-26) or an age (90m, 24h, 7d)", s)
}
