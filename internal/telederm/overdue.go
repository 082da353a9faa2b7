package telederm

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/rest"
)

// FlagOverdue tags every open referral Task whose due date has passed
// with referral-flag#overdue, one new Task version each, so the
// referral-overdue topic tells subscribers once. It returns how many it
// flagged.
func (w *Workflow) FlagOverdue(ctx context.Context, svc *rest.Service, now time.Time) (int, error) {
	ctx = access.NewContext(ctx, nil) // the server's own doing
	found, err := svc.SystemSearch(ctx, "Task", url.Values{
		"business-status": {stateSystem + "|" + string(StateSubmitted) + "," + stateSystem + "|" + string(StateInReview)},
		"due":             {"lt" + now.UTC().Format(time.RFC3339)},
		"_tag:not":        {flagSystem + "|" + FlagOverdue},
		"_count":          {"200"},
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range found {
		task, err := decode(v.Body)
		if err != nil || hasTag(task, flagSystem, FlagOverdue) {
			continue
		}
		meta := obj(task, "meta")
		if meta == nil {
			meta = doc{}
		}
		meta["tag"] = append(list(meta, "tag"), doc{"system": flagSystem, "code": FlagOverdue, "display": "Overdue"})
		task["meta"] = meta
		r := svc.Update(ctx, "Task", v.ID, encode(task), `W/"`+strconv.FormatInt(v.VersionID, 10)+`"`)
		if r.OK() {
			n++
		} else if r.Status != 412 { // 412: changed meanwhile; the next round looks again
			w.log.WarnContext(ctx, "could not flag an overdue referral", "task", v.ID, "status", r.Status)
		}
	}
	return n, nil
}

// WatchOverdue runs FlagOverdue every interval until ctx ends.
func (w *Workflow) WatchOverdue(ctx context.Context, svc *rest.Service, every time.Duration, now func() time.Time) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := w.FlagOverdue(ctx, svc, now()); err != nil && ctx.Err() == nil {
			w.log.WarnContext(ctx, "overdue check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
