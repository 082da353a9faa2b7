package telederm

import (
	"context"
	"maps"
	"time"

	"github.com/telederm/telederm/internal/rest"
)

// setState writes the referral's Task in state to: created from the
// ServiceRequest when the referral has none, otherwise the stored Task
// with its managed fields moved on. base is the Task to start from (the
// stored one, or the client's version being written); sr the referral.
func (w *Workflow) setState(ctx context.Context, c *rest.Commit, id string, base, sr doc, to State, due time.Time) error {
	now := c.Now().UTC()
	task := doc{}
	if base != nil {
		task = maps.Clone(base)
	}
	task["status"] = taskStatus[to]
	task["businessStatus"] = doc{
		"coding": []any{doc{"system": stateSystem, "code": string(to), "display": stateDisplay[to]}},
		"text":   stateDisplay[to],
	}
	task["intent"] = "order"
	task["code"] = doc{"coding": []any{doc{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}}}
	focus := doc{"reference": "ServiceRequest/" + id}
	task["focus"], task["basedOn"] = focus, []any{focus}
	if sr != nil {
		setAccess(task, accessOf(sr))
		if s := obj(sr, "subject"); s != nil {
			task["for"] = s
		}
		if r := obj(sr, "requester"); r != nil {
			task["requester"] = r
		}
		if p := str(sr, "priority"); p != "" {
			task["priority"] = p
		}
		if _, has := task["owner"]; !has {
			if perf := list(sr, "performer"); len(perf) > 0 {
				task["owner"] = perf[0]
			} else if w.cfg.ServiceOwner != "" {
				task["owner"] = doc{"reference": w.cfg.ServiceOwner}
			}
		}
	}
	stamp := instant(now)
	task["lastModified"] = stamp
	if to == StateSubmitted && !due.IsZero() { // a (re)submission starts the clock
		if _, has := task["authoredOn"]; !has {
			task["authoredOn"] = stamp
		}
		task["executionPeriod"] = doc{"start": stamp}
		task["restriction"] = doc{"period": doc{"end": due.UTC().Format(time.RFC3339)}}
	}
	if to == StateDraft {
		if _, has := task["authoredOn"]; !has {
			task["authoredOn"] = stamp
		}
	}
	setExtension(task, rankExtension, doc{"valueInteger": worklistRank(str(task, "priority"))})
	return put(ctx, c, "Task", id, task)
}

// instant writes t (whole milliseconds, as commit times are) as the codec
// writes an instant: no fraction for a whole second, else three digits.
// The workflow's resources are stored as it builds them
// (rest.Commit.Create, Amend), so they must already be in that form.
func instant(t time.Time) string {
	if t.Nanosecond() == 0 {
		return t.UTC().Format(time.RFC3339)
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// stopClock records when advice was issued on the Task and links it.
func stopClock(task doc, now time.Time, adviceRef string) {
	period := obj(task, "executionPeriod")
	if period == nil {
		period = doc{}
	}
	period = maps.Clone(period)
	period["end"] = instant(now)
	task["executionPeriod"] = period
	for _, o := range list(task, "output") {
		if om, _ := o.(map[string]any); str(obj(om, "valueReference"), "reference") == adviceRef {
			return
		}
	}
	task["output"] = append(list(task, "output"), doc{
		"type":           doc{"text": "Advice"},
		"valueReference": doc{"reference": adviceRef},
	})
}
