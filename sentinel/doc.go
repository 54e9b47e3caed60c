// Package sentinel watches pipelines through the Temporal service's own
// records, so that every way a pipeline fails reaches a person within a
// minute, whoever's worker ran it, and what pipewatch reports agrees with
// what Temporal says.
//
// The interceptor sees from inside a worker; the sentinel sees what no
// worker can: a worker that died, a server-side timeout, an operator's
// terminate, a workflow task that keeps failing, a step no worker polls,
// pipelines whose workers are written in other languages. It is one
// workflow per namespace (Workflow, id DefaultWorkflowID), started by
// every pipewatch worker (Start) and run by any of them: every Interval it
// scans through the Scan activity, which
//
//   - lists the open pipelines in scope (ListWorkflowExecutions) and
//     describes each, rate-limited (DescribeWorkflowExecution): steps
//     retrying, steps and workflow tasks no worker picked up, workflow tasks
//     failing again and again;
//   - lists the runs closed since the last scan: counts each once by its
//     real outcome, writes Temporal's record of its end into lineage, and
//     raises an alert for a failure, a termination or a timeout;
//   - raises a problem's alert when it passes its threshold (held open
//     while the problem lasts) and resolves it when the problem clears;
//   - publishes fleet figures (open pipelines, pending steps, outcomes) to
//     metrics.Fleet.
//
// Its state (outcome totals, problems, the closes counted) travels in its
// history, so a scan that moves to another worker goes on where the last
// one stopped. Scans stay on one worker while it lives (StartHost). A new
// sentinel (one started again after a terminate) takes over, at its first
// scan, the open alerts of lasting problems about runs in its scope, so
// the alerts its predecessor held are resolved once their problems clear.
// A team's own Go worker runs it with Enable.
package sentinel
