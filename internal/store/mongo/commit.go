package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/store"
)

// A change is committed in this order, on a deployment with transactions
// and without alike (with them, a commit of several changes wraps the
// whole sequence in one multi-document transaction):
//
//  1. Read the resource document: its version must be PrevVersion.
//  2. Take a sequence number: one past the highest claimed (seq.go).
//  3. Claim the new version: insert its versions document, whose _id is
//     "Type/id/v" and which carries the new resource document's index in
//     Pend. The unique _id lets exactly one writer claim a version number;
//     the others get a conflict. This is the step that decides races: an insert against a
//     unique index is atomic even on FerretDB, whose updates are not
//     (it reads, then writes, the document).
//  4. Write the resource document, on the condition that its version is
//     still PrevVersion. Readers go through resource documents, so this is
//     the moment the change becomes visible.
//  5. Tidy up (one batch): unset the claim's Pend, and set the previous
//     version's Sup (its end, for _at).
//
// A crash between 3 and 4 leaves a claim whose resource never moved: the
// commit was never acknowledged and is invisible (a version with Pend is
// shown only once its resource document has reached it). A writer of that
// resource that meets the claim at step 3 gets a conflict; once the claim
// is older than abandonAfter, it finishes the claim from Pend first (step
// 4 again, writing the document the claimer would have). Only then: a
// conditional update is atomic on MongoDB, but FerretDB reads and then
// writes, so two writers finishing the same claim at once could undo a
// later commit there. A crash between 4 and 5 leaves Pend and Sup to the
// next commit of the resource, whose batch at step 5 also repairs its
// predecessor's.

// Commit writes the changes. One change is atomic on any deployment;
// several are atomic with multi-document transactions, and otherwise
// refused unless Options.AllowNonAtomic.
func (s *Store) Commit(ctx context.Context, changes []store.Change) error {
	prepared := make([]prepared, len(changes))
	for i, c := range changes {
		p, err := prepare(c)
		if err != nil {
			return fmt.Errorf("mongo: change %d (%s/%s): %w", i, c.Type, c.ID, err)
		}
		prepared[i] = p
	}
	if len(changes) == 0 {
		return nil
	}
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return err
	}
	types := make([]string, len(prepared))
	for i, p := range prepared {
		types[i] = p.c.Type
	}
	if err := s.ensureTypes(ctx, types); err != nil {
		return err
	}
	err := s.commitPrepared(ctx, prepared)
	if err == nil {
		s.signal.Fire()
	}
	return err
}

func (s *Store) commitPrepared(ctx context.Context, prepared []prepared) error {
	switch {
	case s.server.transactions && len(prepared) > 1:
		return s.commitTxn(ctx, prepared)
	case len(prepared) == 1:
		_, err := s.apply(context.WithoutCancel(ctx), prepared[0], false)
		return err
	case !s.nonAtomic:
		return fmt.Errorf("%w: mongo: a commit of %d changes needs multi-document transactions, which this deployment (%s) lacks; "+
			"start with AllowNonAtomic to accept commits that a crash or a concurrent writer can leave half applied",
			store.ErrNotSupported, len(prepared), s.server.describe())
	}
	return s.commitNonAtomic(ctx, prepared)
}

// prepared is a checked change with the documents it writes.
type prepared struct {
	c   store.Change
	key string
	idx SearchIndex
}

func prepare(c store.Change) (prepared, error) {
	switch {
	case c.Type == "" || c.ID == "":
		return prepared{}, errors.New("type and id are required")
	case strings.Contains(c.Type, "/"):
		return prepared{}, fmt.Errorf("type %q contains '/'", c.Type)
	case c.PrevVersion < 0 || c.Version != c.PrevVersion+1:
		return prepared{}, fmt.Errorf("version %d does not follow previous version %d", c.Version, c.PrevVersion)
	case c.Deleted && c.Body != nil:
		return prepared{}, errors.New("a deletion has no body")
	case c.Deleted && len(c.Index) > 0:
		return prepared{}, errors.New("a deletion has no index entries")
	}
	if err := checkEntries(c.Index); err != nil {
		return prepared{}, err
	}
	return prepared{c: c, key: resourceKey(c.Type, c.ID), idx: buildIndex(c.Type, c.Index)}, nil
}

// versionDoc is the change's versions document, claimed with seq.
func (p prepared) versionDoc(seq, cs int64, pend bool) versionDoc {
	c := p.c
	v := versionDoc{Key: versionKey(c.Type, c.ID, c.Version), Seq: seq, Type: c.Type, ID: c.ID, V: c.Version, LU: toMicros(c.LastUpdated),
		M: string(c.Method), Del: c.Deleted, B: bodyOf(c.Body), BR: c.BlobRef}
	if pend {
		v.Pend = &pending{CS: cs, At: toMicros(time.Now()), SearchIndex: p.idx}
	}
	return v
}

// resourceOf is the resource document a claim makes current.
func resourceOf(v *versionDoc, idx SearchIndex, cs int64) resourceDoc {
	return resourceDoc{Key: resourceKey(v.Type, v.ID), Type: v.Type, ID: v.ID, V: v.V, Seq: v.Seq, CS: cs,
		LU: v.LU, M: v.M, Del: v.Del, B: v.B, BR: v.BR, SearchIndex: idx}
}

// apply commits one change without a transaction (steps 1 to 5 above) and
// returns the resource document it replaced (nil for a creation): all of
// it when full, for an undo, else only its version fields.
func (s *Store) apply(ctx context.Context, p prepared, full bool) (*resourceDoc, error) {
	c := p.c
	old, err := s.resource(ctx, p.key, full)
	if err != nil {
		return nil, err
	}
	have, oldCS := int64(0), int64(0)
	if old != nil {
		have, oldCS = old.V, old.CS
	}
	if have != c.PrevVersion {
		return nil, &store.ConflictError{Type: c.Type, ID: c.ID, Want: c.PrevVersion, Have: have}
	}
	// A resource keeps its place in the default order from its first
	// version on, through deletions and re-creations.
	claim, taken, err := s.claimVersion(ctx, p.key, func(seq int64) versionDoc {
		cs := oldCS
		if cs == 0 {
			cs = seq
		}
		return p.versionDoc(seq, cs, true)
	})
	if err != nil {
		return nil, err
	}
	if taken != nil {
		return nil, s.lostClaim(ctx, p, taken)
	}
	if err := s.finish(ctx, &claim, claim.Pend); err != nil {
		// Not ours any more: the resource moved (a non-atomic commit's
		// undo). The claim goes, so the version number is free again.
		_, derr := s.ver.DeleteOne(ctx, bson.D{{Key: "_id", Value: claim.Key}})
		return nil, errors.Join(err, derr)
	}
	s.tidy(ctx, &claim, old)
	return old, nil
}

// finish writes the resource document a claim makes current (step 4). It
// succeeds when the resource is at the claim's version with the claim's
// sequence number afterwards, whoever wrote it.
func (s *Store) finish(ctx context.Context, claim *versionDoc, pend *pending) error {
	doc := resourceOf(claim, pend.SearchIndex, pend.CS)
	var err error
	var matched int64
	if claim.V == 1 {
		_, err = s.resOf(doc.Type).InsertOne(ctx, doc)
		if err == nil {
			matched = 1
		} else if mongo.IsDuplicateKeyError(err) {
			err = nil
		}
	} else {
		var r *mongo.UpdateResult
		r, err = s.resOf(doc.Type).ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.Key}, {Key: "v", Value: claim.V - 1}}, doc)
		if r != nil {
			matched = r.MatchedCount
		}
	}
	if err != nil {
		return fmt.Errorf("mongo: write %s version %d: %w", doc.Key, claim.V, err)
	}
	if matched == 1 {
		return nil
	}
	now, err := s.resource(ctx, doc.Key, false)
	if err != nil {
		return err
	}
	if now != nil && now.V == claim.V && now.Seq == claim.Seq {
		return nil // another writer finished it
	}
	have := int64(0)
	if now != nil {
		have = now.V
	}
	return &store.ConflictError{Type: claim.Type, ID: claim.ID, Want: claim.V - 1, Have: have}
}

// tidy is step 5: the claim's Pend goes, the previous version gets its
// end, and what a crash may have left of the previous commit's step 5 is
// done too, when prev (the resource document the claim replaced) is
// known. Failing here loses nothing the next commit does not repair, so it
// is not an error.
func (s *Store) tidy(ctx context.Context, claim *versionDoc, prev *resourceDoc) {
	unsetPend := bson.E{Key: "$unset", Value: bson.D{{Key: "pend", Value: ""}}}
	models := []mongo.WriteModel{
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: claim.Key}}).SetUpdate(bson.D{unsetPend}),
	}
	if claim.V > 1 {
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: versionKey(claim.Type, claim.ID, claim.V-1)}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "sup", Value: claim.LU}}}, unsetPend}))
	}
	if prev != nil && claim.V > 2 {
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: versionKey(claim.Type, claim.ID, claim.V-2)}, {Key: "sup", Value: bson.D{{Key: "$exists", Value: false}}}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "sup", Value: prev.LU}}}}))
	}
	_, _ = s.ver.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
}

// lostClaim handles a version someone else claimed: if that claim was
// abandoned before its resource was written (still pending after
// abandonAfter), it is finished now, and either way the change conflicts
// with it.
func (s *Store) lostClaim(ctx context.Context, p prepared, taken *versionDoc) error {
	if s.abandoned(taken) {
		_ = s.settle(ctx, taken)
	}
	have := int64(0)
	if now, err := s.resource(ctx, p.key, false); err != nil {
		return err
	} else if now != nil {
		have = now.V
	}
	return &store.ConflictError{Type: p.c.Type, ID: p.c.ID, Want: p.c.PrevVersion, Have: have}
}

// abandoned reports whether a claim has been pending so long that its
// writer must have crashed.
func (s *Store) abandoned(claim *versionDoc) bool {
	return claim.Pend != nil && time.Since(fromMicros(claim.Pend.At)) > s.abandonAfter
}

// settle ends an abandoned claim: a single change is finished (its
// resource written as the claimer would have), a transaction's claim
// whose resource never reached it is withdrawn.
func (s *Store) settle(ctx context.Context, claim *versionDoc) error {
	if !claim.Pend.Txn {
		if err := s.finish(ctx, claim, claim.Pend); err != nil {
			return err
		}
		s.tidy(ctx, claim, nil)
		return nil
	}
	reached, err := s.reached(ctx, claim)
	if err != nil || reached {
		return err
	}
	_, err = s.ver.DeleteOne(ctx, bson.D{{Key: "_id", Value: claim.Key}, {Key: "seq", Value: claim.Seq}})
	return err
}

// claimOf reads the versions document of one version, or nil.
func (s *Store) claimOf(ctx context.Context, key string) (*versionDoc, error) {
	var d versionDoc
	err := s.ver.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: read %s: %w", key, err)
	}
	return &d, nil
}

// resource reads a resource document (nil when there is none): all of it
// when full, else the fields of its version.
func (s *Store) resource(ctx context.Context, key string, full bool) (*resourceDoc, error) {
	o := options.FindOne()
	if !full {
		o.SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 1}, {Key: "seq", Value: 1}, {Key: "cs", Value: 1},
			{Key: "lu", Value: 1}})
	}
	var d resourceDoc
	err := s.resOfKey(key).FindOne(ctx, bson.D{{Key: "_id", Value: key}}, o).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: read %s: %w", key, err)
	}
	return &d, nil
}

// commitNonAtomic commits several changes without a transaction: all are
// checked first, so a conflict that is there before the commit starts
// writes nothing; one that a concurrent writer creates meanwhile undoes the
// changes already applied, as far as nobody has written over them.
func (s *Store) commitNonAtomic(ctx context.Context, ps []prepared) error {
	if err := s.precheck(ctx, ps); err != nil {
		return err
	}
	if s.beforeApply != nil {
		s.beforeApply()
	}
	wctx := context.WithoutCancel(ctx)
	type applied struct {
		p   prepared
		old *resourceDoc
	}
	var done []applied
	for _, p := range ps {
		old, err := s.apply(wctx, p, true)
		if err != nil {
			var undoErrs []error
			for i := len(done) - 1; i >= 0; i-- {
				undoErrs = append(undoErrs, s.undo(wctx, done[i].p, done[i].old))
			}
			if uerr := errors.Join(undoErrs...); uerr != nil {
				return errors.Join(err, fmt.Errorf("mongo: the commit is left partly applied: %w", uerr))
			}
			return err
		}
		done = append(done, applied{p, old})
	}
	return nil
}

// precheck compares every change's PrevVersion with the current version
// (or the one an earlier change of the commit gives the resource).
func (s *Store) precheck(ctx context.Context, ps []prepared) error {
	keys := make([]string, 0, len(ps))
	for _, p := range ps {
		keys = append(keys, p.key)
	}
	have := make(map[string]int64, len(keys))
	types, groups := byType(keys)
	for _, typ := range types {
		err := findAll(ctx, []*mongo.Collection{s.resOf(typ)}, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: groups[typ]}}}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 1}}), func(d *resourceDoc) bool {
				have[d.Key] = d.V
				return true
			})
		if err != nil {
			return fmt.Errorf("mongo: check versions: %w", err)
		}
	}
	for _, p := range ps {
		if h := have[p.key]; h != p.c.PrevVersion {
			return &store.ConflictError{Type: p.c.Type, ID: p.c.ID, Want: p.c.PrevVersion, Have: h}
		}
		have[p.key] = p.c.Version
	}
	return nil
}

// undo takes back an applied change: its version goes, and its resource
// document returns to old (or goes, for a creation) if nobody has written
// it since.
func (s *Store) undo(ctx context.Context, p prepared, old *resourceDoc) error {
	c := p.c
	if _, err := s.ver.DeleteOne(ctx, bson.D{{Key: "_id", Value: versionKey(c.Type, c.ID, c.Version)}}); err != nil {
		return fmt.Errorf("undo %s version %d: %w", p.key, c.Version, err)
	}
	ours := bson.D{{Key: "_id", Value: p.key}, {Key: "v", Value: c.Version}}
	var matched int64
	if old == nil {
		r, err := s.resOfKey(p.key).DeleteOne(ctx, ours)
		if err != nil {
			return fmt.Errorf("undo %s version %d: %w", p.key, c.Version, err)
		}
		matched = r.DeletedCount
	} else {
		r, err := s.resOfKey(p.key).ReplaceOne(ctx, ours, old)
		if err != nil {
			return fmt.Errorf("undo %s version %d: %w", p.key, c.Version, err)
		}
		matched = r.MatchedCount
		_, _ = s.ver.UpdateOne(ctx, bson.D{{Key: "_id", Value: versionKey(c.Type, c.ID, c.PrevVersion)}},
			bson.D{{Key: "$unset", Value: bson.D{{Key: "sup", Value: ""}}}})
	}
	if matched == 0 {
		return fmt.Errorf("undo %s version %d: written over since", p.key, c.Version)
	}
	return nil
}

// commitTxn commits several changes in one multi-document transaction.
// Their claims are made before it, one by one as for a single change, so
// that readers of the log see the commit's sequence numbers as pending
// (changes.go) until it is visible; the transaction then writes every
// resource document, all or none. A transaction that fails withdraws the
// claims, which nobody has seen.
func (s *Store) commitTxn(ctx context.Context, ps []prepared) error {
	wctx := context.WithoutCancel(ctx)
	claims := make([]versionDoc, 0, len(ps))
	olds := make([]*resourceDoc, 0, len(ps))
	withdraw := func(cause error) error {
		var errs []error
		for _, c := range claims {
			if _, err := s.ver.DeleteOne(wctx, bson.D{{Key: "_id", Value: c.Key}}); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return errors.Join(cause, fmt.Errorf("mongo: withdraw the claims of a failed transaction (they expire after %v): %w", s.abandonAfter, err))
		}
		return cause
	}
	if err := s.precheck(ctx, ps); err != nil {
		return err
	}
	for _, p := range ps {
		old, err := s.resource(wctx, p.key, false)
		if err != nil {
			return withdraw(err)
		}
		have, oldCS := int64(0), int64(0)
		if old != nil {
			have, oldCS = old.V, old.CS
		}
		if have != p.c.PrevVersion {
			return withdraw(&store.ConflictError{Type: p.c.Type, ID: p.c.ID, Want: p.c.PrevVersion, Have: have})
		}
		claim, taken, err := s.claimVersion(wctx, p.key, func(seq int64) versionDoc {
			cs := oldCS
			if cs == 0 {
				cs = seq
			}
			v := p.versionDoc(seq, cs, true)
			v.Pend.Txn = true
			return v
		})
		if err != nil {
			return withdraw(err)
		}
		if taken != nil {
			return withdraw(s.lostClaim(wctx, p, taken))
		}
		claims, olds = append(claims, claim), append(olds, old)
	}
	sess, err := s.client.StartSession()
	if err != nil {
		return withdraw(fmt.Errorf("mongo: start session: %w", err))
	}
	defer sess.EndSession(wctx)
	_, err = sess.WithTransaction(wctx, func(tctx context.Context) (any, error) {
		for i := range claims {
			if err := s.writeInTxn(tctx, &claims[i]); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		return withdraw(err)
	}
	for i := range claims {
		s.tidy(wctx, &claims[i], olds[i])
	}
	return nil
}

// writeInTxn writes the resource document a claim makes current, inside
// a transaction: on the condition that the resource is still at the
// previous version.
func (s *Store) writeInTxn(ctx context.Context, claim *versionDoc) error {
	doc := resourceOf(claim, claim.Pend.SearchIndex, claim.Pend.CS)
	if claim.V == 1 {
		if _, err := s.resOf(doc.Type).InsertOne(ctx, doc); err != nil {
			if mongo.IsDuplicateKeyError(err) {
				return &store.ConflictError{Type: claim.Type, ID: claim.ID, Want: 0, Have: 1}
			}
			return fmt.Errorf("mongo: write %s version %d: %w", doc.Key, claim.V, err)
		}
		return nil
	}
	r, err := s.resOf(doc.Type).ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.Key}, {Key: "v", Value: claim.V - 1}}, doc)
	if err != nil {
		return fmt.Errorf("mongo: write %s version %d: %w", doc.Key, claim.V, err)
	}
	if r.MatchedCount == 0 {
		return &store.ConflictError{Type: claim.Type, ID: claim.ID, Want: claim.V - 1, Have: -1}
	}
	return nil
}
