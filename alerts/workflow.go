package alerts

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/metrics"
)

// Names under which the alert workflow, its signals, query and activity are
// registered.
const (
	WorkflowName       = "pipewatch.Alert"
	SignalFire         = "pipewatch.alert.fire"
	SignalAck          = "pipewatch.alert.ack"
	SignalSilence      = "pipewatch.alert.silence"
	SignalResolve      = "pipewatch.alert.resolve"
	QueryState         = "pipewatch.alert"
	NotifyActivityName = "pipewatch.alert.Notify"
	AuditActivityName  = "pipewatch.alert.Audit"
)

// DefaultCooldown is how long repeats are gathered before a summary.
const DefaultCooldown = 5 * time.Minute

// Policy says how an alert workflow notifies. It travels in the workflow's
// input, so it is fixed for a run: changing the configuration affects new
// runs, never the replay of running ones.
type Policy struct {
	// Cooldown gathers repeats; zero means DefaultCooldown.
	Cooldown time.Duration `json:"cooldown"`
	// Cooldowns override Cooldown by type and severity: the first of
	// "<type>:<severity>", "<type>", ":<severity>" found wins. The alert's
	// current severity counts, so an escalation can shorten the next one.
	Cooldowns map[string]time.Duration `json:"cooldowns,omitempty"`
	// Routes pick the channels by type and severity; the first route that
	// matches wins. No route: the log channel.
	Routes []Route `json:"routes,omitempty"`
	// Channels hold each channel's retry policy, by name.
	Channels map[string]ChannelPolicy `json:"channels,omitempty"`
	// ContinueAfter continues the workflow as new, carrying its state,
	// once its history has this many events. Zero means 2000.
	ContinueAfter int `json:"continueAfter,omitempty"`
	// SearchAttributes turns on AlertType, AlertSeverity, AlertState and
	// PipelineName (they must be registered as Keyword).
	SearchAttributes bool `json:"searchAttributes,omitempty"`
	// CloseChannels are also told when an alert closes after a quiet
	// cooldown (Alertmanager, to resolve its copy), if routed to them.
	CloseChannels []string `json:"closeChannels,omitempty"`
}

// Route sends alerts of some types, from a severity up, to channels.
type Route struct {
	// Types it matches; empty matches all.
	Types []Type `json:"types,omitempty"`
	// MinSeverity it matches from; empty matches all.
	MinSeverity Severity `json:"minSeverity,omitempty"`
	// Channels are notifier names: log, webhook, email, alertmanager.
	Channels []string `json:"channels"`
}

// ChannelPolicy is how hard one channel is tried.
type ChannelPolicy struct {
	// MaxAttempts bounds the tries of one notification; zero means 5.
	MaxAttempts int32 `json:"maxAttempts,omitempty"`
	// InitialInterval is the first wait between tries, doubling; zero
	// means 1s.
	InitialInterval time.Duration `json:"initialInterval,omitempty"`
	// Timeout bounds one try; zero means 30s.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// cooldown returns the cooldown for an alert of type t at severity s.
func (p Policy) cooldown(t Type, s Severity) time.Duration {
	for _, k := range []string{string(t) + ":" + string(s), string(t), ":" + string(s)} {
		if d, ok := p.Cooldowns[k]; ok && d > 0 {
			return d
		}
	}
	return p.Cooldown
}

// channels returns the channels for an alert of type t at severity s.
func (p Policy) channels(t Type, s Severity) []string {
	for _, r := range p.Routes {
		if (len(r.Types) == 0 || slices.Contains(r.Types, t)) && s.Rank() >= r.MinSeverity.Rank() {
			return r.Channels
		}
	}
	return []string{"log"}
}

// Input starts an alert workflow: the first occurrence, or on continue-as-
// new the state so far.
type Input struct {
	Alert  Alert  `json:"alert"`
	Policy Policy `json:"policy"`
	State  *State `json:"state,omitempty"`
	// Backlog are occurrences that came after the previous run of this key
	// was resolved: the new alert counts them after Alert.
	Backlog []Alert `json:"backlog,omitempty"`
	// Unwritten are history records the previous run could not see
	// written before it continued as new: this run writes them again.
	Unwritten []Record `json:"unwritten,omitempty"`
}

// Status is where an alert stands.
type Status string

// The statuses of an alert.
const (
	StatusOpen         Status = "open"
	StatusAcknowledged Status = "acknowledged"
	StatusSilenced     Status = "silenced"
	StatusResolved     Status = "resolved"
	StatusClosed       Status = "closed" // a cooldown passed without repeats
)

// State is an alert workflow's state, returned by the QueryState query and
// as its result.
type State struct {
	Key      string            `json:"key"`
	Type     Type              `json:"type"`
	Severity Severity          `json:"severity"`
	Labels   map[string]string `json:"labels,omitempty"`
	Summary  string            `json:"summary"`
	Details  string            `json:"details,omitempty"`
	// Source is where the latest occurrence came from.
	Source Source `json:"source"`
	Status Status `json:"status"`
	// Count is every occurrence; Pending those since the last notification.
	Count   int       `json:"count"`
	Pending int       `json:"pending"`
	FirstAt time.Time `json:"firstAt"`
	LastAt  time.Time `json:"lastAt"`
	// SilencedUntil mutes notifications until then.
	SilencedUntil time.Time `json:"silencedUntil,omitzero"`
	// Seq numbers notifications: with the key and channel it is each
	// message's idempotency key.
	Seq int `json:"seq"`
	// History holds the latest events, oldest first, at most maxHistory.
	History []Entry `json:"history"`
	// FirstOccurrence is the occurrence id of the alert that started it.
	FirstOccurrence string `json:"firstOccurrence,omitempty"`
	// Seen holds the latest occurrence ids counted (at most maxSeen), so
	// one fact raised twice (by a worker and by the sentinel) counts once.
	Seen []string `json:"seen,omitempty"`
	// Held says an occurrence marked the problem as a lasting condition
	// (Alert.Hold): quiet cooldowns do not close the alert, resolve does.
	Held bool `json:"held,omitempty"`
	// CooldownUntil is the end of the cooldown the previous run was in
	// when its history filled up mid-cooldown (a storm): the next run
	// waits out the rest of it.
	CooldownUntil time.Time `json:"cooldownUntil,omitzero"`
	// Rev numbers the alert's history records (Record.Rev).
	Rev int `json:"rev,omitempty"`
}

// Entry is one event in an alert's history.
type Entry struct {
	At      time.Time `json:"at"`
	Event   string    `json:"event"` // fired, notified, notify_failed, escalated, acked, silenced, resolved, suppressed, closed
	Detail  string    `json:"detail,omitempty"`
	Channel string    `json:"channel,omitempty"`
}

const (
	maxHistory = 100
	maxSeen    = 64
)

// seen tells whether occurrence id was counted already.
func (st *State) seen(id string) bool {
	return id != "" && (id == st.FirstOccurrence || slices.Contains(st.Seen, id))
}

func (st *State) remember(id string) {
	if id == "" {
		return
	}
	st.Seen = append(st.Seen, id)
	if n := len(st.Seen) - maxSeen; n > 0 {
		st.Seen = slices.Delete(st.Seen, 0, n)
	}
}

func (st *State) record(at time.Time, event, channel, detail string) {
	st.History = append(st.History, Entry{At: at, Event: event, Channel: channel, Detail: detail})
	if n := len(st.History) - maxHistory; n > 0 {
		st.History = slices.Delete(st.History, 0, n)
	}
}

// Notification kinds.
const (
	KindFirst      = "first"
	KindSummary    = "repeat_summary"
	KindEscalation = "escalation"
	KindResolved   = "resolved"
	// KindClosed goes only to Policy.CloseChannels: a cooldown passed
	// without repeats (Alertmanager resolves the alert).
	KindClosed = "closed"
)

// Notification is one message to one channel.
type Notification struct {
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	// IdempotencyKey is the same for every try of this message:
	// key/seq/channel.
	IdempotencyKey string `json:"idempotencyKey"`
	Seq            int    `json:"seq"`
	// Alert is the latest occurrence, at the alert's current severity.
	Alert Alert  `json:"alert"`
	Key   string `json:"key"`
	// Repeats is how many occurrences this message summarizes besides
	// the ones already told; Count every occurrence so far.
	Repeats  int           `json:"repeats"`
	Count    int           `json:"count"`
	FirstAt  time.Time     `json:"firstAt"`
	LastAt   time.Time     `json:"lastAt"`
	Cooldown time.Duration `json:"cooldown"`
	Status   Status        `json:"status"`
	// Reason says who resolved the alert and why, for KindResolved.
	Reason string `json:"reason,omitempty"`
}

// Text is the notification's one-line human form.
func (n Notification) Text() string {
	head := fmt.Sprintf("[%s] %s: %s", n.Alert.Severity, n.Alert.Type, n.Alert.Summary)
	switch n.Kind {
	case KindSummary:
		return fmt.Sprintf("%s (%d more in %s, last at %s)", head, n.Repeats, n.Cooldown, n.LastAt.UTC().Format(time.RFC3339))
	case KindEscalation:
		return fmt.Sprintf("%s (escalated to %s after %d occurrences)", head, n.Alert.Severity, n.Count)
	case KindResolved:
		return fmt.Sprintf("resolved: %s (%d occurrences)%s", head, n.Count, n.Reason)
	}
	return head
}

// SilenceRequest mutes an alert for a while.
type SilenceRequest struct {
	For time.Duration `json:"for"`
	By  string        `json:"by,omitempty"`
}

// ActionRequest acknowledges or resolves an alert.
type ActionRequest struct {
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Workflow is the alert workflow: one per key. The first occurrence
// notifies at once; repeats within a cooldown are counted and told in one
// summary when it ends; a cooldown without repeats closes the alert; a rise
// in severity notifies at once; ack mutes repeats until the severity rises,
// silence mutes everything for a while, resolve ends it.
func Workflow(ctx workflow.Context, in Input) (State, error) {
	return runAlert(ctx, in, nil)
}

// WorkflowWithMetrics is Workflow counting into m (nil counts nothing):
// fires, alerts raised and the time to the first notification, counted
// only when not replaying, so each is counted once whichever worker runs
// the alert. Register registers it under WorkflowName.
func WorkflowWithMetrics(m *metrics.Alerts) func(workflow.Context, Input) (State, error) {
	return func(ctx workflow.Context, in Input) (State, error) { return runAlert(ctx, in, m) }
}

// runAlert is the alert workflow, counting into m.
func runAlert(ctx workflow.Context, in Input, m *metrics.Alerts) (State, error) {
	// Version 1: occurrences are counted once (State.Seen), and fires
	// after resolve open a new alert instead of being dropped. Version 2:
	// the run continues as new when its history fills up, mid-cooldown too,
	// so a storm never meets the server's limit of signals per run.
	// Version 3: every change of the alert writes its Record through the
	// history activity, beside the notifications, never before them. Runs
	// that started before replay without them.
	v := workflow.GetVersion(ctx, alertChangeID, workflow.DefaultVersion, 3)
	p := in.Policy
	if p.Cooldown <= 0 {
		p.Cooldown = DefaultCooldown
	}
	if p.ContinueAfter <= 0 {
		p.ContinueAfter = 2000
	}
	a := &alertRun{ctx: ctx, policy: p, v1: v >= 1, v2: v >= 2, v3: v >= 3, metrics: m}
	first := in.State == nil
	if first {
		a.count(func(m *metrics.Alerts) {
			m.Fires.WithLabelValues(string(in.Alert.Type), string(in.Alert.Severity)).Inc()
			m.Raised.WithLabelValues(string(in.Alert.Type), string(in.Alert.Severity)).Inc()
		})
		at := in.Alert.At
		if at.IsZero() {
			at = workflow.Now(ctx)
		}
		a.st = State{Key: in.Alert.Key(), Type: in.Alert.Type, Severity: in.Alert.Severity, Labels: in.Alert.Labels,
			Summary: in.Alert.Summary, Details: in.Alert.Details, Source: in.Alert.Source, Status: StatusOpen,
			Count: 1, FirstAt: at, LastAt: at, FirstOccurrence: in.Alert.Occurrence}
		a.last = in.Alert
		a.st.Held = in.Alert.Hold && a.v1
		a.st.record(at, "fired", "", in.Alert.Summary)
	} else {
		a.st, a.last = *in.State, in.Alert
		a.resumeUntil, a.st.CooldownUntil = a.st.CooldownUntil, time.Time{}
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (State, error) { return a.st, nil }); err != nil {
		return a.st, fmt.Errorf("alert: query handler: %w", err)
	}
	a.fire = workflow.GetSignalChannel(ctx, SignalFire)
	a.ack = workflow.GetSignalChannel(ctx, SignalAck)
	a.silence = workflow.GetSignalChannel(ctx, SignalSilence)
	a.resolve = workflow.GetSignalChannel(ctx, SignalResolve)
	a.upsert()
	if first {
		a.notify(KindFirst, 0)
		a.writeHistory(RecordFired, "", "")
	}
	for _, r := range in.Unwritten {
		a.rewrite(r)
	}
	for _, al := range in.Backlog {
		a.onFire(al)
	}
	for {
		can := a.cooldowns()
		a.wait()
		if can && a.v2 {
			// None may be left behind: take in what came, let what that
			// sent finish, until nothing waits (new signals wait for the
			// next run: the server retries the task that would lose them).
			for a.hasSignals() && a.st.Status != StatusResolved {
				a.drain()
				a.wait()
			}
			if a.st.Status != StatusResolved {
				st := a.st
				st.CooldownUntil = a.cutUntil
				return st, workflow.NewContinueAsNewError(ctx, WorkflowName, Input{Alert: a.last, Policy: in.Policy, State: &st, Unwritten: a.unwritten()})
			}
		}
		if can && !a.hasSignals() {
			st := a.st
			return st, workflow.NewContinueAsNewError(ctx, WorkflowName, Input{Alert: a.last, Policy: in.Policy, State: &st, Unwritten: a.unwritten()})
		}
		if a.st.Status == StatusResolved {
			a.drain() // fires after resolve go to a new alert
			// The last records must be written before the run ends;
			// a new alert meanwhile does not wait for them.
			for a.v3 && len(a.reopen) == 0 && (!a.settled() || a.hasSignals()) {
				a.drain()
			}
			break
		}
		if !a.hasSignals() && (!a.v3 || (a.settled() && !a.hasSignals())) {
			break
		}
		// A signal came while the last notifications finished: go on.
		if a.st.Status == StatusClosed {
			a.st.Status = StatusOpen
		}
		a.drain()
	}
	a.upsert()
	if len(a.reopen) > 0 {
		// The problem came back after it was resolved: a new alert for
		// the key, its first occurrence notifying at once.
		return a.st, workflow.NewContinueAsNewError(ctx, WorkflowName, Input{Alert: a.reopen[0], Policy: in.Policy, Backlog: a.reopen[1:], Unwritten: a.unwritten()})
	}
	return a.st, nil
}

// alertChangeID versions the alert workflow's changes of behavior.
const alertChangeID = "pipewatch.alert.occurrences"

// cooldowns runs cooldowns until the alert closes or is resolved, or its
// history asks for continue-as-new (then it returns true).
func (a *alertRun) cooldowns() bool {
	for {
		a.cooldown()
		a.drain() // signals that came with the timer
		if a.st.Status == StatusResolved {
			return false
		}
		if !a.cutUntil.IsZero() {
			return true // history full mid-cooldown: the next run goes on
		}
		now := workflow.Now(a.ctx)
		if a.st.Pending == 0 && a.st.Held {
			// A lasting condition, quiet now: open until resolved.
			if a.historyFull() {
				return true
			}
			continue
		}
		if a.st.Pending == 0 {
			a.st.Status = StatusClosed
			a.st.record(now, "closed", "", fmt.Sprintf("no repeats in %s", a.policy.cooldown(a.st.Type, a.st.Severity)))
			a.notifyOnly(KindClosed, a.policy.CloseChannels)
			a.writeHistory(RecordClosed, "", "")
			return false
		}
		if a.muted() {
			a.st.record(now, "suppressed", "", fmt.Sprintf("%d repeats while %s", a.st.Pending, a.st.Status))
		} else {
			a.notify(KindSummary, a.st.Pending)
		}
		a.st.Pending = 0
		a.writeHistory(RecordRepeated, "", "")
		if a.historyFull() {
			return true
		}
	}
}

// historyFull tells whether the run's history asks for continue-as-new.
func (a *alertRun) historyFull() bool {
	return max(workflow.GetInfo(a.ctx).GetCurrentHistoryLength(), a.events) >= a.policy.ContinueAfter
}

// hasSignals tells whether signals wait in any channel.
func (a *alertRun) hasSignals() bool {
	return a.fire.Len()+a.ack.Len()+a.silence.Len()+a.resolve.Len() > 0
}

// alertRun is one run of the alert workflow.
type alertRun struct {
	ctx                         workflow.Context
	policy                      Policy
	st                          State
	last                        Alert // the latest occurrence
	fire, ack, silence, resolve workflow.ReceiveChannel
	inflight                    []sent
	audits                      []workflow.Future
	// events estimates this run's history length where the SDK cannot
	// tell it (the testsuite): signals 1, timers 2, activities 3 each.
	events int
	// lastUpsertStatus and lastUpsSev are the search attributes written.
	lastUpsertStatus, lastUpsSev string
	// v1, v2 and v3 are versions of the workflow (see alertChangeID).
	v1, v2, v3 bool
	// written are the history records on their way or written.
	written []write
	// resumeUntil ends the first cooldown of a run that continued a cut
	// one; cutUntil is the end of the cooldown this run cut short.
	resumeUntil, cutUntil time.Time
	// reopen holds fires that came after resolve.
	reopen []Alert
	// reason is who resolved the alert and why.
	reason string
	// metrics counts fires, raises and the time to notify; nil counts
	// nothing. firstSent: the first notification's delay is observed.
	metrics   *metrics.Alerts
	firstSent bool
}

// count counts into the alert metrics, unless replaying: what was counted
// when the history was made is not counted again.
func (a *alertRun) count(f func(m *metrics.Alerts)) {
	if a.metrics != nil && !workflow.IsReplaying(a.ctx) {
		f(a.metrics)
	}
}

// sent is a notification on its way.
type sent struct {
	n    Notification
	f    workflow.Future
	done bool // its result is recorded
}

// cooldown waits out one cooldown, handling signals and notification
// results as they come.
func (a *alertRun) cooldown() {
	ctx, cancel := workflow.WithCancel(a.ctx)
	defer cancel()
	done := false
	sel := workflow.NewSelector(a.ctx)
	d := a.policy.cooldown(a.st.Type, a.st.Severity)
	if !a.resumeUntil.IsZero() {
		d, a.resumeUntil = max(a.resumeUntil.Sub(workflow.Now(a.ctx)), time.Millisecond), time.Time{}
	}
	until := workflow.Now(a.ctx).Add(d)
	sel.AddFuture(workflow.NewTimer(ctx, d), func(workflow.Future) { done = true })
	a.events += 2
	a.addSignals(sel)
	added := 0 // notifications already in sel
	for !done && a.st.Status != StatusResolved {
		for ; added < len(a.inflight); added++ {
			if i := added; !a.inflight[i].done {
				sel.AddFuture(a.inflight[i].f, func(f workflow.Future) {
					a.inflight[i].done = true
					a.onResult(a.inflight[i].n, f.Get(a.ctx, nil))
				})
			}
		}
		sel.Select(a.ctx)
		if a.v2 && !done && a.historyFull() {
			a.cutUntil = until // a storm: continue as new, the cooldown going on
			return
		}
	}
}

func (a *alertRun) addSignals(sel workflow.Selector) {
	sel.AddReceive(a.fire, func(c workflow.ReceiveChannel, _ bool) {
		var al Alert
		c.Receive(a.ctx, &al)
		a.onFire(al)
	})
	sel.AddReceive(a.ack, func(c workflow.ReceiveChannel, _ bool) {
		var r ActionRequest
		c.Receive(a.ctx, &r)
		a.onAck(r)
	})
	sel.AddReceive(a.silence, func(c workflow.ReceiveChannel, _ bool) {
		var r SilenceRequest
		c.Receive(a.ctx, &r)
		a.onSilence(r)
	})
	sel.AddReceive(a.resolve, func(c workflow.ReceiveChannel, _ bool) {
		var r ActionRequest
		c.Receive(a.ctx, &r)
		a.onResolve(r)
	})
}

func (a *alertRun) onAck(r ActionRequest) {
	a.events++
	if a.v1 && a.st.Status == StatusResolved {
		return
	}
	a.st.Status = StatusAcknowledged
	a.st.record(workflow.Now(a.ctx), "acked", "", by(r.By, r.Reason))
	a.upsert()
	a.audit(AuditAction{Action: "ack", By: r.By, Reason: r.Reason})
	a.writeHistory(RecordAcked, r.By, r.Reason)
}

func (a *alertRun) onSilence(r SilenceRequest) {
	a.events++
	if a.v1 && a.st.Status == StatusResolved {
		return
	}
	now := workflow.Now(a.ctx)
	a.st.SilencedUntil = now.Add(r.For)
	a.st.Status = StatusSilenced
	a.st.record(now, "silenced", "", fmt.Sprintf("for %s%s", r.For, by(r.By, "")))
	a.upsert()
	a.audit(AuditAction{Action: "silence", By: r.By, For: r.For})
	a.writeHistory(RecordSilenced, r.By, "")
}

func (a *alertRun) onResolve(r ActionRequest) {
	a.events++
	if a.st.Status == StatusResolved {
		return
	}
	a.st.Status = StatusResolved
	a.reason = by(r.By, r.Reason)
	a.st.record(workflow.Now(a.ctx), "resolved", "", a.reason)
	a.notify(KindResolved, a.st.Pending)
	a.st.Pending = 0
	a.audit(AuditAction{Action: "resolve", By: r.By, Reason: r.Reason})
	a.writeHistory(RecordResolved, r.By, r.Reason)
}

// AuditAction is an operator's action on an alert, for the audit log.
type AuditAction struct {
	Key    string        `json:"key"`
	Action string        `json:"action"` // ack, silence, resolve
	By     string        `json:"by,omitempty"`
	Reason string        `json:"reason,omitempty"`
	For    time.Duration `json:"for,omitempty"`
}

// audit records an operator's action through the audit activity: the
// worker owns the audit log, workflow code cannot write it.
func (a *alertRun) audit(act AuditAction) {
	act.Key = a.st.Key
	ctx := workflow.WithActivityOptions(a.ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 10},
	})
	a.audits = append(a.audits, workflow.ExecuteActivity(ctx, AuditActivityName, act))
	a.events += 3
}

func by(who, why string) string {
	s := ""
	if who != "" {
		s = " by " + who
	}
	if why != "" {
		s += ": " + why
	}
	return s
}

func (a *alertRun) onResult(n Notification, err error) {
	now := workflow.Now(a.ctx)
	if err != nil {
		a.st.record(now, "notify_failed", n.Channel, fmt.Sprintf("%s #%d: %v", n.Kind, n.Seq, err))
		a.count(func(m *metrics.Alerts) {
			m.Undelivered.WithLabelValues(n.Channel, n.Kind, string(n.Alert.Severity)).Inc()
		})
		return
	}
	if n.Kind == KindFirst && !a.firstSent {
		a.firstSent = true
		a.count(func(m *metrics.Alerts) {
			m.NotifyDelay.WithLabelValues(string(a.st.Type), string(n.Alert.Severity)).Observe(max(now.Sub(n.FirstAt), 0).Seconds())
		})
	}
	a.st.record(now, "notified", n.Channel, fmt.Sprintf("%s #%d", n.Kind, n.Seq))
}

// onFire counts a repeat; a higher severity notifies at once. The signal
// that came with the workflow's start repeats its input: not counted.
func (a *alertRun) onFire(al Alert) {
	a.events++
	if !a.v1 {
		if al.Occurrence != "" && al.Occurrence == a.st.FirstOccurrence {
			return
		}
	} else {
		if a.st.seen(al.Occurrence) {
			if al.Hold && a.st.Status != StatusResolved {
				a.st.Held = true
			}
			return
		}
		if a.st.Status == StatusResolved {
			a.reopen = append(a.reopen, al)
			return
		}
		a.st.remember(al.Occurrence)
		a.st.Held = a.st.Held || al.Hold
	}
	now := workflow.Now(a.ctx)
	at := al.At
	if at.IsZero() {
		at = now
	}
	a.st.Count++
	a.st.Pending++
	a.st.LastAt, a.st.Source, a.last = at, al.Source, al
	a.count(func(m *metrics.Alerts) { m.Fires.WithLabelValues(string(a.st.Type), string(al.Severity)).Inc() })
	if al.Severity.Rank() > a.st.Severity.Rank() {
		a.st.record(now, "escalated", "", fmt.Sprintf("%s -> %s", a.st.Severity, al.Severity))
		a.st.Severity, a.st.Summary = al.Severity, al.Summary
		if a.st.Status == StatusAcknowledged {
			a.st.Status = StatusOpen
		}
		a.upsert()
		if !a.muted() {
			a.notify(KindEscalation, a.st.Pending)
			a.st.Pending = 0
		}
		a.writeHistory(RecordEscalated, "", "")
	}
}

// muted tells whether notifications are held back now.
func (a *alertRun) muted() bool {
	if a.st.Status == StatusSilenced && !workflow.Now(a.ctx).Before(a.st.SilencedUntil) {
		a.st.Status = StatusOpen
		a.upsert()
	}
	return a.st.Status == StatusSilenced || a.st.Status == StatusAcknowledged
}

// drain handles signals already delivered, without waiting: before the
// run closes or continues as new, none may be left behind.
func (a *alertRun) drain() {
	for more := true; more; {
		more = false
		var al Alert
		if a.fire.ReceiveAsync(&al) {
			a.onFire(al)
			more = true
		}
		var r ActionRequest
		if a.ack.ReceiveAsync(&r) {
			a.onAck(r)
			more = true
		}
		var sr SilenceRequest
		if a.silence.ReceiveAsync(&sr) {
			a.onSilence(sr)
			more = true
		}
		r = ActionRequest{}
		if a.resolve.ReceiveAsync(&r) {
			a.onResolve(r)
			more = true
		}
	}
}

// notify starts one notification activity per channel of the alert's
// route; results are recorded as they come.
func (a *alertRun) notify(kind string, repeats int) {
	a.send(kind, repeats, a.policy.channels(a.st.Type, a.st.Severity))
}

// notifyOnly notifies those of only that the alert is routed to.
func (a *alertRun) notifyOnly(kind string, only []string) {
	var chs []string
	for _, ch := range a.policy.channels(a.st.Type, a.st.Severity) {
		if slices.Contains(only, ch) {
			chs = append(chs, ch)
		}
	}
	if len(chs) > 0 {
		a.send(kind, 0, chs)
	}
}

func (a *alertRun) send(kind string, repeats int, channels []string) {
	a.st.Seq++
	al := a.last
	al.Severity, al.Summary = a.st.Severity, a.st.Summary
	for _, ch := range channels {
		cp := a.policy.Channels[ch]
		attempts := cp.MaxAttempts
		if attempts <= 0 {
			attempts = 5
		}
		opts := workflow.ActivityOptions{
			StartToCloseTimeout: orDefault(cp.Timeout, 30*time.Second),
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval: orDefault(cp.InitialInterval, time.Second), BackoffCoefficient: 2, MaximumAttempts: attempts,
			},
			Summary: fmt.Sprintf("%s · %s #%d", ch, kind, a.st.Seq),
		}
		n := Notification{
			Kind: kind, Channel: ch, Seq: a.st.Seq, IdempotencyKey: fmt.Sprintf("%s/%d/%s", a.st.Key, a.st.Seq, ch),
			Alert: al, Key: a.st.Key, Repeats: repeats, Count: a.st.Count, FirstAt: a.st.FirstAt, LastAt: a.st.LastAt,
			Cooldown: a.policy.cooldown(a.st.Type, a.st.Severity), Status: a.st.Status,
		}
		if kind == KindResolved {
			n.Reason = a.reason
		}
		f := workflow.ExecuteActivity(workflow.WithActivityOptions(a.ctx, opts), NotifyActivityName, n)
		a.events += 3
		a.inflight = append(a.inflight, sent{n: n, f: f})
	}
}

// wait lets every notification on its way finish and records it.
func (a *alertRun) wait() {
	for i := range a.inflight {
		if s := &a.inflight[i]; !s.done {
			s.done = true
			a.onResult(s.n, s.f.Get(a.ctx, nil))
		}
	}
	a.inflight = nil
	for _, f := range a.audits {
		if err := f.Get(a.ctx, nil); err != nil {
			a.st.record(workflow.Now(a.ctx), "audit_failed", "", err.Error())
		}
	}
	a.audits = nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// upsert writes the search attributes when they changed.
func (a *alertRun) upsert() {
	if !a.policy.SearchAttributes || (string(a.st.Status) == a.lastUpsertStatus && string(a.st.Severity) == a.lastUpsSev) {
		return
	}
	updates := []temporal.SearchAttributeUpdate{
		temporal.NewSearchAttributeKeyKeyword("AlertType").ValueSet(string(a.st.Type)),
		temporal.NewSearchAttributeKeyKeyword("AlertSeverity").ValueSet(string(a.st.Severity)),
		temporal.NewSearchAttributeKeyKeyword("AlertState").ValueSet(string(a.st.Status)),
	}
	if p := a.st.Labels["pipeline"]; p != "" && a.lastUpsertStatus == "" {
		updates = append(updates, temporal.NewSearchAttributeKeyKeyword("PipelineName").ValueSet(p))
	}
	if err := workflow.UpsertTypedSearchAttributes(a.ctx, updates...); err == nil {
		a.lastUpsertStatus, a.lastUpsSev = string(a.st.Status), string(a.st.Severity)
	}
}
