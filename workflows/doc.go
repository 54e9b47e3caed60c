// Package workflows holds pipewatch's workflow definitions. Workflow code is
// short and linear and calls activities by registered name, so steps may run
// on workers in other languages.
package workflows
