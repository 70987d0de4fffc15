package service

import (
	"context"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/jobs"
)

func getOpTx(ctx context.Context, tx catalog.Tx, c Caller, id string) (*catalog.Operation, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("no operation id given")
	}
	op, err := tx.GetOperation(ctx, id)
	if err != nil {
		return nil, hide(err, "operation", id)
	}
	if err := own(c, op.ProjectID, "operation", id); err != nil {
		return nil, err
	}
	return op, nil
}

func (s *Service) getOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return getOpTx(ctx, s.cat, c, id)
}

func (s *Service) listOperations(ctx context.Context, c Caller, f OperationFilter, page catalog.Page) ([]*catalog.Operation, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	for _, st := range f.States {
		if !st.Valid() {
			return nil, "", invalid("operation state %q is not valid", st)
		}
	}
	return s.cat.ListOperations(ctx, catalog.OperationFilter{
		ProjectID:  c.ProjectID,
		Kind:       f.Kind,
		TargetID:   f.TargetID,
		ResourceID: f.ResourceID,
		States:     f.States,
	}, page)
}

func (s *Service) cancelOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	var out *catalog.Operation
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		op, err := getOpTx(ctx, tx, c, id)
		if err != nil {
			return err
		}
		wasQueued := op.State == catalog.OpQueued
		out, err = tx.CancelOperation(ctx, id)
		if err != nil {
			return err
		}
		// No runner finishes an operation canceled while queued: what it
		// was to make fails here.
		if wasQueued && out.State == catalog.OpCanceled {
			if fin := s.finisher(op.Kind); fin != nil {
				o := catalog.Outcome{State: catalog.OpCanceled, Error: &catalog.OpError{Code: jobs.CodeCanceled, Message: "the operation was canceled by request before it started"}}
				return fin(ctx, tx, out, &o)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("operation cancel requested", "op", id, "state", out.State, "by", c.TokenID)
	return out, nil
}

// waitPoll is how often WaitOperation looks.
const waitPoll = 50 * time.Millisecond

func (s *Service) waitOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	for {
		op, err := getOpTx(ctx, s.cat, c, id)
		if err != nil {
			return nil, err
		}
		if op.State.Final() {
			return op, nil
		}
		select {
		case <-ctx.Done():
			return op, cairn.E(cairn.Canceled, ctx.Err())
		case <-t.C:
		}
	}
}
