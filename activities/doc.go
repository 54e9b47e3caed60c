// Package activities holds the pipeline steps: the code that does the I/O.
//
// Each step is a method on a struct whose fields are its dependencies, so a
// worker registers one value and tests pass their own. This first slice holds
// the demo steps that `make run` drives end to end.
package activities
