package interceptors

import (
	"context"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// userIDHeader is the Temporal header that carries the user id.
const userIDHeader = "pipewatch-user-id"

type userIDKey struct{}

// WithUserID returns a context whose workflows and activities are logged
// with this user id, when the client has UserIDPropagator among its
// ContextPropagators.
func WithUserID(ctx context.Context, userID string) context.Context {
	return context.WithValue(ctx, userIDKey{}, userID)
}

// UserID returns the user id carried by ctx, or "".
func UserID(ctx context.Context) string {
	s, _ := ctx.Value(userIDKey{}).(string)
	return s
}

// workflowUserID returns the user id carried by a workflow context, or "".
func workflowUserID(ctx workflow.Context) string {
	s, _ := ctx.Value(userIDKey{}).(string)
	return s
}

// UserIDPropagator carries the user id from the starting client into
// workflows, and from workflows into their activities and children. Put it
// in client.Options.ContextPropagators.
func UserIDPropagator() workflow.ContextPropagator { return userIDPropagator{} }

type userIDPropagator struct{}

func (userIDPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return inject(UserID(ctx), w)
}

func (userIDPropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	return inject(workflowUserID(ctx), w)
}

func (userIDPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	id, err := extract(r)
	if err != nil || id == "" {
		return ctx, err
	}
	return WithUserID(ctx, id), nil
}

func (userIDPropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	id, err := extract(r)
	if err != nil || id == "" {
		return ctx, err
	}
	return workflow.WithValue(ctx, userIDKey{}, id), nil
}

func inject(id string, w workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	w.Set(userIDHeader, p)
	return nil
}

func extract(r workflow.HeaderReader) (string, error) {
	p, ok := r.Get(userIDHeader)
	if !ok {
		return "", nil
	}
	var id string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &id); err != nil {
		return "", err
	}
	return id, nil
}
