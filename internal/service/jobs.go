package service

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// RunJob runs fn if this instance (holder) can take the job's lease for
// the coming round, so that among several instances on one database each
// round of a scheduled job runs exactly once (SCL-1). The lease lasts every
// minus a margin, so the holder renews it at its next tick while another
// instance takes over only if the holder stops ticking. It reports whether
// fn ran.
func (s *Service) RunJob(ctx context.Context, name, holder string, every time.Duration, fn func(ctx context.Context) error) (bool, error) {
	var ok bool
	err := s.store.Write(ctx, func(tx crm.Tx) (err error) {
		ok, err = tx.AcquireLease(ctx, "job:"+name, holder, tx.Now().Add(every-every/10))
		return err
	})
	if err != nil || !ok {
		return false, err
	}
	return true, fn(ctx)
}
