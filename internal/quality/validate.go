package quality

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// pageSize is how many records one page of validation reads and checks.
const pageSize = 2000

// writeBatch is about how many records' results one write transaction
// holds: large enough that few commits rewrite the same index pages, small
// enough that other writers wait a fraction of a second at most.
const writeBatch = 10_000

// Progress is told how many records have been validated.
type Progress func(done, total int64)

// Validate computes every current record's Okta profile through the matrix,
// checks it against the attributes' rules and uniqueness, and records the
// run with its occurrences and counts. Profiles are stored with the
// uniqueness keys (indexed) and the digest of the matrix they come from; a
// re-validation rewrites only the profiles that changed. Earlier runs keep
// their counts (for the trend); only the newest two keep their occurrences.
//
// The work is a pipeline: one goroutine reads pages of records, workers
// (one per core) compute and check the profiles, and the calling goroutine
// writes each page's profiles and occurrences, in page order, so that
// occurrences are numbered in record order.
func (s *Service) Validate(ctx context.Context, projectID int64, progress Progress) (*Run, error) {
	m, err := s.matrix.LoadMatrix(ctx, projectID)
	if err != nil {
		return nil, err
	}
	dropped, err := s.dropped.DroppedFields(ctx, projectID)
	if err != nil {
		return nil, err
	}
	extracts, err := s.records.CurrentExtracts(ctx, projectID)
	if err != nil {
		return nil, err
	}
	rules := newRuleSet(m, dropped)
	if s.passwords != nil {
		if rules.passwords, err = s.passwords.Readings(ctx, projectID); err != nil {
			return nil, err
		}
	}
	rules.digest = withPasswords(rules.digest, rules.passwords)
	// The keys are written after the profiles: if the last run stopped in
	// between, they may not match the profiles, so all are written again.
	var last Run
	err = s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Order("id DESC").Limit(1).Find(&last).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	if last.ID != 0 && last.Status != RunDone {
		ids := make([]int64, len(extracts))
		for i, ex := range extracts {
			ids[i] = ex.ID
		}
		if err := s.records.RemoveKeys(ctx, ids); err != nil {
			return nil, err
		}
		rules.rebuildKeys = true
	}

	run := &Run{ProjectID: projectID, Status: RunRunning, CreatedByName: audit.ActorFrom(ctx).Name, StartedAt: s.now().UTC(), MatrixDigest: rules.digest,
		Counts: Counts{ByCode: map[string]int64{}, BySource: map[int64]int64{}, ByAttribute: map[string]int64{}}}
	for _, ex := range extracts {
		if r, ok := rules.passwords[ex.SourceID]; ok && r.Settings == nil {
			// One note for the run, not an occurrence per record.
			if run.Counts.Passwords == nil {
				run.Counts.Passwords = map[int64]*PasswordCounts{}
			}
			run.Counts.Passwords[ex.SourceID] = &PasswordCounts{Unconfigured: true, ByFormat: map[string]int64{}, ByWay: map[string]int64{}}
		}
	}
	if err := s.db.Write.WithContext(ctx).Create(run).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	fail := func(err error) (*Run, error) {
		now := s.now().UTC()
		// A fresh context: the caller's may be what was cancelled.
		_ = s.db.Write.WithContext(context.WithoutCancel(ctx)).Model(run).
			Updates(map[string]any{"status": RunFailed, "error": err.Error(), "finished_at": now}).Error
		return run, wrap(err)
	}
	var total int64
	for _, ex := range extracts {
		total += ex.Records
	}
	invalid := map[int64]bool{}
	tally := func(occ []Occurrence) {
		for _, o := range occ {
			run.Occurrences++
			run.Counts.ByCode[o.Code]++
			run.Counts.BySource[o.SourceID]++
			if o.Attribute != "" {
				run.Counts.ByAttribute[o.Attribute]++
			}
			if o.Severity == SeverityBlocking {
				invalid[o.RecordID] = true
			}
		}
	}

	// Pages are written several at a time: every commit rewrites the pages
	// of the login index it touched, and keys arrive in random order.
	var pending pageResult
	flush := func() error {
		if len(pending.profiles) == 0 && len(pending.occurrences) == 0 && pending.records == 0 {
			return nil
		}
		if err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			if err := s.records.WriteProfiles(ctx, tx, pending.profiles); err != nil {
				return err
			}
			return s.insertOccurrences(ctx, tx, pending.occurrences)
		}); err != nil {
			return err
		}
		tally(pending.occurrences)
		run.Records += pending.records
		run.Excluded += pending.excluded
		pending = pageResult{profiles: pending.profiles[:0], occurrences: pending.occurrences[:0]}
		if progress != nil {
			progress(run.Records, total)
		}
		return nil
	}
	var removeKeys []staging.KeyEntry
	var addKeys [][]staging.KeyEntry // a sorted run per page
	err = s.checkPages(ctx, run.ID, extracts, rules, func(res pageResult) error {
		removeKeys = append(removeKeys, res.removeKeys...)
		if len(res.addKeys) > 0 {
			addKeys = append(addKeys, res.addKeys)
		}
		pending.profiles = append(pending.profiles, res.profiles...)
		pending.occurrences = append(pending.occurrences, res.occurrences...)
		pending.records += res.records
		pending.excluded += res.excluded
		run.Counts.addPasswords(res.sourceID, res.passwords)
		if pending.records >= writeBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = s.records.ReplaceKeys(ctx, removeKeys, addKeys)
	}
	if err != nil {
		return fail(err)
	}
	// Uniqueness, across every source, on the indexed keys.
	uniques := []struct{ column, code, attr string }{{staging.KeyLogin, IssueDuplicateLogin, "login"}}
	if rules.emailUnique {
		uniques = append(uniques, struct{ column, code, attr string }{staging.KeyEmail, IssueDuplicateEmail, "email"})
	}
	for _, u := range uniques {
		dups, err := s.records.DuplicateKeys(ctx, projectID, u.column)
		if err != nil {
			return fail(err)
		}
		var occ []Occurrence
		firstOf := map[string]staging.RecordRef{}
		for _, d := range dups {
			first, seen := firstOf[d.Key]
			if !seen {
				firstOf[d.Key] = d
				first = d
			}
			msg := fmt.Sprintf("%s is the same as on line %d (compared as Okta does, ignoring case and accents)", u.attr, first.Position)
			if !seen {
				msg = fmt.Sprintf("%s is used by several records (compared as Okta does, ignoring case and accents)", u.attr)
			}
			occ = append(occ, Occurrence{RunID: run.ID, RecordID: d.RecordID, SourceID: d.SourceID, Position: d.Position, Code: u.code,
				Severity: SeverityBlocking, Attribute: u.attr, Value: mapping.MaskValue(d.Key), Message: msg})
		}
		if err := s.db.WriteTx(ctx, func(tx *sql.Tx) error { return s.insertOccurrences(ctx, tx, occ) }); err != nil {
			return fail(err)
		}
		tally(occ)
	}
	run.Invalid = int64(len(invalid))
	run.Valid = run.Records - run.Excluded - run.Invalid
	now := s.now().UTC()
	run.Status, run.FinishedAt = RunDone, &now
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(run).Select("status", "records", "valid", "invalid", "excluded", "occurrences", "counts_json", "finished_at").Updates(run).Error; err != nil {
			return err
		}
		// Keep the occurrences of the newest two runs (this one and the one
		// before, to show what changed); older runs keep their counts.
		var old []int64
		if err := tx.Model(&Run{}).Where("project_id = ? AND id < ?", projectID, run.ID).Order("id DESC").Offset(1).Pluck("id", &old).Error; err != nil {
			return err
		}
		if len(old) > 0 {
			if err := tx.Where("run_id IN ?", old).Delete(&Occurrence{}).Error; err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "validation_run", EntityID: run.ID,
			Label: fmt.Sprintf("validation: %d valid, %d invalid, %d excluded", run.Valid, run.Invalid, run.Excluded),
			After: map[string]any{"records": run.Records, "valid": run.Valid, "invalid": run.Invalid, "excluded": run.Excluded, "occurrences": run.Occurrences}})
	})
	if err != nil {
		return fail(err)
	}
	return run, nil
}

var occurrenceInsert = db.Bulk{Table: "issue_occurrences",
	Columns: []string{"run_id", "record_id", "source_id", "position", "code", "severity", "attribute", "value", "message"}}

func (s *Service) insertOccurrences(ctx context.Context, tx *sql.Tx, occ []Occurrence) error {
	if len(occ) == 0 {
		return nil
	}
	values := make([]any, 0, len(occ)*len(occurrenceInsert.Columns))
	for _, o := range occ {
		values = append(values, o.RunID, o.RecordID, o.SourceID, o.Position, o.Code, o.Severity, o.Attribute, o.Value, o.Message)
	}
	return s.db.InsertBulk(ctx, tx, occurrenceInsert, values)
}

// ruleSet is what a run checks, prepared once from the matrix.
type ruleSet struct {
	profiler *mapping.Profiler
	digest   string
	attrs    []schema.Attribute // the compilable ones, by name
	// piiTargets: per source, the attributes fed by personal (or
	// undecided) fields, whose values occurrences mask.
	piiTargets  map[int64]map[string]bool
	emailUnique bool
	// rebuildKeys: the last run did not finish, so the stored keys may not
	// match the profiles; every key is removed and written again.
	rebuildKeys bool
	// passwords: how each source whose credentials migrate reads its
	// stored passwords (Settings nil: not configured, not checked).
	passwords map[int64]credentials.Reading
}

// Digest fingerprints what a validation's verdicts depend on: the rows and
// transformations of the matrix (without the fields legal dropped) and the
// rules of the profile's attributes. A run whose MatrixDigest differs from
// the current one is out of date.
func Digest(m *mapping.Matrix, dropped map[int64]bool) string {
	return digestOf(m.Profiler(dropped), m.Attributes)
}

func digestOf(p *mapping.Profiler, attrs []schema.Attribute) string {
	sorted := slices.Clone(attrs)
	slices.SortFunc(sorted, func(a, b schema.Attribute) int { return strings.Compare(a.Name, b.Name) })
	rules, err := json.Marshal(sorted)
	if err != nil {
		rules = nil // cannot happen: attributes are plain data
	}
	sum := sha256.Sum256(append([]byte(p.Digest()+"\n"), rules...))
	return hex.EncodeToString(sum[:16])
}

// CurrentDigest is the digest a validation would record now: Digest of the
// project's matrix, with the sources' password settings.
func (s *Service) CurrentDigest(ctx context.Context, projectID int64) (string, error) {
	m, err := s.matrix.LoadMatrix(ctx, projectID)
	if err != nil {
		return "", err
	}
	dropped, err := s.dropped.DroppedFields(ctx, projectID)
	if err != nil {
		return "", err
	}
	return s.DigestOf(ctx, projectID, m, dropped)
}

// DigestOf is CurrentDigest for a caller that has loaded the matrix.
func (s *Service) DigestOf(ctx context.Context, projectID int64, m *mapping.Matrix, dropped map[int64]bool) (string, error) {
	var readings map[int64]credentials.Reading
	if s.passwords != nil {
		var err error
		if readings, err = s.passwords.Readings(ctx, projectID); err != nil {
			return "", err
		}
	}
	return withPasswords(Digest(m, dropped), readings), nil
}

// withPasswords adds the sources' password settings (what validation
// checks of stored passwords) to a digest.
func withPasswords(digest string, readings map[int64]credentials.Reading) string {
	type setting struct {
		Configured          bool
		Attribute, SaltAttr string
		Source              hashes.Source
	}
	settings := make(map[int64]setting, len(readings))
	for id, r := range readings {
		st := setting{Configured: r.Settings != nil, Source: r.Source}
		if r.Settings != nil {
			st.Attribute, st.SaltAttr = r.Settings.Attribute, r.Settings.SaltAttribute
		}
		settings[id] = st
	}
	if len(settings) == 0 {
		return digest // as before password settings existed: old runs stay current
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return digest
	}
	sum := sha256.Sum256(append([]byte(digest+"\n"), b...))
	return hex.EncodeToString(sum[:16])
}

func newRuleSet(m *mapping.Matrix, dropped map[int64]bool) *ruleSet {
	rs := &ruleSet{profiler: m.Profiler(dropped), piiTargets: map[int64]map[string]bool{}}
	rs.digest = digestOf(rs.profiler, m.Attributes)
	for _, a := range m.Attributes {
		if _, err := schema.Compile(a); err == nil {
			rs.attrs = append(rs.attrs, a)
			if a.Name == "email" {
				rs.emailUnique = a.Unique
			}
		}
	}
	slices.SortFunc(rs.attrs, func(a, b schema.Attribute) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	// A value is shown in an occurrence only when every field feeding its
	// attribute is known not to be personal data; undecided fields count as
	// personal, as they do on the records page.
	notPII := map[int64]map[string]bool{} // source → fields decided not personal
	for _, f := range m.AllFields {
		if f.PII == mapping.PIINo {
			if notPII[f.SourceID] == nil {
				notPII[f.SourceID] = map[string]bool{}
			}
			notPII[f.SourceID][f.Name] = true
		}
	}
	for _, l := range m.Lines {
		if l.Row != nil && l.Row.Status == mapping.StatusMapped && !notPII[l.Field.SourceID][l.Field.Name] {
			if rs.piiTargets[l.Field.SourceID] == nil {
				rs.piiTargets[l.Field.SourceID] = map[string]bool{}
			}
			rs.piiTargets[l.Field.SourceID][l.Row.TargetAttribute] = true
		}
	}
	return rs
}

// arenaChunk is the size of the chunks profiles are copied into.
const arenaChunk = 1 << 20

// checker is one worker's compiled rules (a worker's own, so that workers
// never contend for the format memos).
type checker struct {
	rules    *ruleSet
	checkers []*schema.Checker // parallel to rules.attrs
	buf      []byte
	arena    []byte // chunk the profiles written are copied into
	decoder  staging.AttributeDecoder
	profile  map[string]string  // reused record after record
	sorted   map[int64][]string // per source, the attributes profiles have, sorted
	checks   map[int64][]int    // per source, see checked
}

// checked returns the indexes in rules.attrs of the attributes a profile
// of the source may have an issue with: those it maps, and the required
// ones (an attribute neither mapped nor required is never checked).
func (c *checker) checked(sourceID int64) []int {
	idx, ok := c.checks[sourceID]
	if !ok {
		targets := map[string]bool{}
		for _, t := range c.targets(sourceID) {
			targets[t] = true
		}
		idx = []int{}
		for i, a := range c.rules.attrs {
			if a.Required || targets[a.Name] {
				idx = append(idx, i)
			}
		}
		c.checks[sourceID] = idx
	}
	return idx
}

func (c *checker) targets(sourceID int64) []string {
	t, ok := c.sorted[sourceID]
	if !ok {
		t = c.rules.profiler.Targets(sourceID)
		c.sorted[sourceID] = t
	}
	return t
}

func (rs *ruleSet) newChecker() *checker {
	c := &checker{rules: rs, checkers: make([]*schema.Checker, len(rs.attrs)), profile: map[string]string{}, sorted: map[int64][]string{},
		checks: map[int64][]int{}}
	for i, a := range rs.attrs {
		c.checkers[i], _ = schema.Compile(a) // compiled once already in newRuleSet
	}
	return c
}

type pageTask struct {
	runID   int64
	extract *staging.Extract
	records []staging.ValidationInput
	result  chan pageResult
}

type pageResult struct {
	profiles []staging.ProfileWrite
	// removeKeys and addKeys are the changes of uniqueness keys, written
	// once every profile is (sorted, see staging.ReplaceKeys); addKeys is
	// sorted by the worker, so that the writer has only runs to merge.
	removeKeys, addKeys []staging.KeyEntry
	occurrences         []Occurrence
	records             int64
	excluded            int64
	// sourceID and passwords: the page's source and its password counts.
	sourceID  int64
	passwords passwordTally
	err       error
}

// checkPages reads every record of the extracts page by page, checks the
// pages on worker goroutines and hands each page's result to write, in page
// order, on the calling goroutine. It stops at the first error.
func (s *Service) checkPages(ctx context.Context, runID int64, extracts []staging.Extract, rules *ruleSet, write func(pageResult) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	tasks := make(chan pageTask, workers)
	ordered := make(chan chan pageResult, workers+1)
	readErr := make(chan error, 1)
	go func() {
		defer close(tasks)
		defer close(ordered)
		readErr <- s.readPages(ctx, runID, extracts, tasks, ordered)
	}()
	for range workers {
		go func() {
			c := rules.newChecker()
			for t := range tasks {
				t.result <- c.checkPage(t)
			}
		}()
	}
	var writeErr error
	for results := range ordered {
		res := <-results
		if writeErr != nil {
			continue // drain, so that every goroutine can finish
		}
		if res.err == nil {
			res.err = write(res)
		}
		if res.err != nil {
			writeErr = res.err
			cancel()
		}
	}
	if err := <-readErr; err != nil && (writeErr == nil || !errors.Is(err, context.Canceled)) {
		return err
	}
	if writeErr != nil {
		return writeErr
	}
	return ctx.Err()
}

func (s *Service) readPages(ctx context.Context, runID int64, extracts []staging.Extract, tasks chan<- pageTask, ordered chan<- chan pageResult) error {
	for i := range extracts {
		ex := &extracts[i]
		var after int64
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			page, err := s.records.ReadForValidation(ctx, ex.ID, after, pageSize)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			after = page[len(page)-1].RecordID
			t := pageTask{runID: runID, extract: ex, records: page, result: make(chan pageResult, 1)}
			// The writer learns the order before a worker can take the task.
			select {
			case ordered <- t.result:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case tasks <- t:
			case <-ctx.Done():
				t.result <- pageResult{err: ctx.Err()}
				return ctx.Err()
			}
		}
	}
	return nil
}

// checkPage computes and checks the profiles of one page of records.
func (c *checker) checkPage(t pageTask) pageResult {
	rs := c.rules
	src := t.extract.SourceID
	mask := rs.piiTargets[src]
	res := pageResult{records: int64(len(t.records)), sourceID: src}
	pw, checkPasswords := rs.passwords[src]
	checkPasswords = checkPasswords && pw.Settings != nil
	for _, in := range t.records {
		rec, err := c.decodeRecord(in)
		if err != nil {
			res.err = fmt.Errorf("record %d cannot be read: %w", in.RecordID, err)
			return res
		}
		// An excluded record gets its profile and keys too (so that they are
		// right when it is included again), but no issues.
		profile, terrs := rs.profiler.ProfileInto(c.profile, src, rec)
		if in.Excluded {
			res.excluded++
		} else {
			res.occurrences = c.check(res.occurrences, t.runID, src, in, profile, terrs, mask)
			if checkPasswords {
				res.occurrences = c.checkPassword(res.occurrences, &res.passwords, pw, t.runID, src, recordRef{in.RecordID, in.Position}, rec)
			}
		}
		w := staging.ProfileWrite{RecordID: in.RecordID}
		if login := profile["login"]; login != "" {
			w.LoginKey = schema.LoginKey(login)
		}
		if email := profile["email"]; email != "" && rs.emailUnique {
			w.EmailKey = schema.LoginKey(email)
		}
		st := in.Stored
		if rs.rebuildKeys {
			st.LoginKey, st.EmailKey = "", "" // every key is written again
		}
		res.removeKeys, res.addKeys = keyChange(res.removeKeys, res.addKeys, t.extract.ID, in.RecordID, staging.KeyLogin, st.LoginKey, w.LoginKey)
		res.removeKeys, res.addKeys = keyChange(res.removeKeys, res.addKeys, t.extract.ID, in.RecordID, staging.KeyEmail, st.EmailKey, w.EmailKey)
		c.buf = staging.AppendProfile(c.buf[:0], c.targets(src), profile)
		if st.Present && in.Stored.LoginKey == w.LoginKey && in.Stored.EmailKey == w.EmailKey && st.JSON == string(c.buf) {
			continue // unchanged: a re-validation rewrites only what changed
		}
		// Copied into a shared chunk: one allocation for many profiles.
		if cap(c.arena)-len(c.arena) < len(c.buf) {
			c.arena = make([]byte, 0, max(arenaChunk, len(c.buf)))
		}
		start := len(c.arena)
		c.arena = append(c.arena, c.buf...)
		w.JSON = c.arena[start:len(c.arena):len(c.arena)]
		res.profiles = append(res.profiles, w)
	}
	staging.SortKeys(res.addKeys)
	return res
}

// keyChange adds to the lists what changing a record's key from old to new
// takes: the old one removed, the new one added (an empty key is none).
func keyChange(remove, add []staging.KeyEntry, extractID, recordID int64, kind, old, new string) ([]staging.KeyEntry, []staging.KeyEntry) {
	if old == new {
		return remove, add
	}
	if old != "" {
		remove = append(remove, staging.KeyEntry{ExtractID: extractID, Kind: kind, Key: old, RecordID: recordID})
	}
	if new != "" {
		// A copy: the key may share the decoded record's memory, which the
		// list would otherwise keep alive until the end of the run.
		add = append(add, staging.KeyEntry{ExtractID: extractID, Kind: kind, Key: strings.Clone(new), RecordID: recordID})
	}
	return remove, add
}

// check appends the issues of one record's profile to occ.
func (c *checker) check(occ []Occurrence, runID, src int64, in staging.ValidationInput, profile map[string]string, terrs []mapping.TransformError, mask map[string]bool) []Occurrence {
	for _, te := range terrs {
		occ = append(occ, Occurrence{RunID: runID, RecordID: in.RecordID, SourceID: src, Position: in.Position,
			Code: IssueTransformFailed, Severity: SeverityBlocking, Attribute: te.Target, Message: te.Message})
	}
	for _, i := range c.checked(src) {
		a := c.rules.attrs[i]
		v, mapped := profile[a.Name]
		if !mapped && !a.Required {
			continue
		}
		err := c.checkers[i].Check(v)
		if err == nil {
			continue
		}
		var ve *schema.ValueError
		if !errors.As(err, &ve) {
			continue
		}
		shown := v
		if mask[a.Name] {
			shown = mapping.MaskValue(v)
		}
		occ = append(occ, Occurrence{RunID: runID, RecordID: in.RecordID, SourceID: src, Position: in.Position,
			Code: issueCode(a, ve.Rule), Severity: SeverityBlocking, Attribute: a.Name, Value: truncate(shown, 200),
			Message: a.Name + " " + ve.Message})
	}
	return occ
}

// stagedRecord presents a staged record to the transformations: Ferry's
// edits over the source's values, the first value of each attribute.
type stagedRecord struct {
	attrs, edits map[string][]string
}

func (r stagedRecord) Get(name string) (string, bool) {
	if v, ok := r.edits[name]; ok {
		if len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	if v := r.attrs[name]; len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// decodeRecord decodes a record; the result is valid until the next call.
func (c *checker) decodeRecord(in staging.ValidationInput) (stagedRecord, error) {
	attrs, err := c.decoder.Decode(in.Attributes)
	if err != nil {
		return stagedRecord{}, err
	}
	var edits map[string][]string
	if len(in.Edits) > 2 { // "{}": no edits, the usual case
		if edits, err = staging.DecodeAttributes(in.Edits); err != nil {
			return stagedRecord{}, err
		}
	}
	return stagedRecord{attrs: attrs, edits: edits}, nil
}
