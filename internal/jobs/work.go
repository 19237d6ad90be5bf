package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract"
)

// The kinds of job Ferry runs: staging a spooled upload, pulling users from
// a directory, validating the staged data; and how each is resumed after a
// crash.

// Stager is what staging jobs need of the staging area.
type Stager interface {
	Stage(ctx context.Context, projectID, sourceID int64, r extract.Reader, meta staging.Meta, progress staging.Progress) (*staging.Extract, error)
	CurrentExtracts(ctx context.Context, projectID int64) ([]staging.Extract, error)
}

// maxValidationAttempts bounds the runs of one validation job that the
// matrix keeps changing under.
const maxValidationAttempts = 3

// Validator is what validation jobs need.
type Validator interface {
	Validate(ctx context.Context, projectID int64, progress quality.Progress) (*quality.Run, error)
	// CurrentDigest fingerprints the matrix as it is now (see quality.Digest).
	CurrentDigest(ctx context.Context, projectID int64) (string, error)
}

// ImportConfirmer is what the read-back of the migration program's users
// needs (hook.Service): it reads, in the project's org, the hook users Okta
// has not confirmed yet and counts those whose provider turned OKTA as
// migrated, telling progress how many it has read of how many.
type ImportConfirmer interface {
	ConfirmWithOkta(ctx context.Context, projectID int64, opts hook.ConfirmOptions) (hook.ConfirmResult, error)
}

// DirectoryReader is a directory search being read.
type DirectoryReader interface {
	extract.Reader
	Close() error
}

// DirectoryOpener connects to a directory and starts the search.
type DirectoryOpener func(ctx context.Context, cfg ldapextract.Config) (DirectoryReader, error)

func openLDAP(ctx context.Context, cfg ldapextract.Config) (DirectoryReader, error) {
	r, err := ldapextract.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// FormatLDAP is the format recorded for an extract pulled from a directory.
const FormatLDAP = "ldap"

// MaxPageSize is the largest page of entries a directory pull asks for.
const MaxPageSize = 10000

// UploadDir is where uploads are spooled under the data directory.
func UploadDir(dataDir string) string { return filepath.Join(dataDir, "uploads") }

// SpoolPattern names spooled uploads (for os.CreateTemp), so that Recover
// can tell them from anything else in the directory.
const SpoolPattern = "extract-*.upload"

// StageFileInput is an uploaded extract, spooled to a file, to stage.
type StageFileInput struct {
	SourceID   int64
	SourceName string
	// Path is the spooled file. The job owns it: it is removed when the job
	// ends, or at once when the job is refused.
	Path string
	// FileName is the name the file was uploaded under.
	FileName string
	// Format forces a format ("" detects it); KeyAttribute names the record key ("" picks one).
	Format, KeyAttribute string
	// SizeBytes and Checksum (SHA-256, hex) were measured while the file was received.
	SizeBytes int64
	Checksum  string
}

// StageFile submits a job that stages a spooled upload into its source.
func (r *Runner) StageFile(ctx context.Context, projectID int64, in StageFileInput) (*Job, error) {
	if r.opts.Staging == nil {
		_ = os.Remove(in.Path)
		return nil, apperr.Internal(errors.New("jobs: no staging service"))
	}
	spec := Spec{ProjectID: projectID, SourceID: in.SourceID, Kind: KindStageFile, InputFile: in.Path, Params: Params{
		SourceName: in.SourceName, FileName: in.FileName, Format: in.Format, KeyAttribute: in.KeyAttribute,
		SizeBytes: in.SizeBytes, Checksum: in.Checksum}}
	sid := in.SourceID
	j, err := r.Submit(ctx, spec, r.stageFileWork(Job{ProjectID: projectID, SourceID: &sid, Kind: KindStageFile, Params: spec.Params, InputFile: in.Path}))
	if err != nil {
		_ = os.Remove(in.Path)
	}
	return j, err
}

// DirectoryInput is a pull of users from a directory into a source.
type DirectoryInput struct {
	SourceID   int64
	SourceName string
	// Config holds the bind password: it stays in memory, for the job's life only.
	Config ldapextract.Config
}

// DirectoryParams are the stored parameters of a directory pull (never the password).
func DirectoryParams(sourceName string, cfg ldapextract.Config) Params {
	return Params{SourceName: sourceName, URL: strings.TrimSpace(cfg.URL), StartTLS: cfg.StartTLS, InsecureSkipVerify: cfg.InsecureSkipVerify,
		BindDN: cfg.BindDN, BaseDN: cfg.BaseDN, Filter: cfg.Filter, Attributes: cfg.Attributes, PageSize: cfg.PageSize}
}

// StageDirectory submits a job that pulls users from a directory into a
// source. The settings are checked first, with a message per field (url,
// start_tls, bind_dn, bind_password, base_dn, filter, attributes, page_size).
func (r *Runner) StageDirectory(ctx context.Context, projectID int64, in DirectoryInput) (*Job, error) {
	if r.opts.Staging == nil {
		return nil, apperr.Internal(errors.New("jobs: no staging service"))
	}
	fields := map[string]string{}
	if err := in.Config.Validate(); err != nil {
		ae := apperr.As(err)
		if ae.Code != apperr.CodeInvalid {
			return nil, err
		}
		for k, v := range ae.Fields {
			fields[k] = v
		}
	}
	if in.Config.PageSize > MaxPageSize {
		fields["page_size"] = fmt.Sprintf("The page size is at most %s entries (Active Directory serves at most 1,000 a page).", plan.Thousands(MaxPageSize))
	}
	if len(fields) > 0 {
		return nil, apperr.Invalid("The directory settings are not complete.", fields)
	}
	cfg := in.Config
	return r.Submit(ctx, Spec{ProjectID: projectID, SourceID: in.SourceID, Kind: KindStageDirectory, Params: DirectoryParams(in.SourceName, cfg)},
		func(ctx context.Context, p *Progress) (Outcome, error) {
			return r.pullDirectory(ctx, p, projectID, in.SourceID, in.SourceName, cfg)
		})
}

// Validate submits a job that validates the project's staged data.
func (r *Runner) Validate(ctx context.Context, projectID int64) (*Job, error) {
	if r.opts.Staging == nil || r.opts.Quality == nil {
		return nil, apperr.Internal(errors.New("jobs: no validation service"))
	}
	extracts, err := r.opts.Staging.CurrentExtracts(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if len(extracts) == 0 {
		return nil, apperr.Invalid("Nothing to validate: stage an extract of a source first.", nil)
	}
	return r.Submit(ctx, Spec{ProjectID: projectID, Kind: KindValidate}, r.validateWork(projectID))
}

// ConfirmImports submits a job that reads the project's unconfirmed hook
// users back from Okta (paced at a quarter of the rate limit: minutes for
// thousands of users). Done counts the users read.
func (r *Runner) ConfirmImports(ctx context.Context, projectID int64) (*Job, error) {
	if r.opts.Confirmer == nil {
		return nil, apperr.Internal(errors.New("jobs: no password import hook service"))
	}
	return r.Submit(ctx, Spec{ProjectID: projectID, Kind: KindConfirmImports}, r.confirmImportsWork(projectID, Params{}))
}

func (r *Runner) confirmImportsWork(projectID int64, params Params) Work {
	return func(ctx context.Context, p *Progress) (Outcome, error) {
		p.Note("Counting the users Okta has not confirmed yet…")
		res, err := r.opts.Confirmer.ConfirmWithOkta(ctx, projectID, hook.ConfirmOptions{VerifiedOnly: params.VerifiedOnly, Progress: func(done, total int) {
			p.Set(int64(done), int64(total))
			p.Note(fmt.Sprintf("%s of %s user(s) read back from Okta.", plan.Thousands(int64(done)), plan.Thousands(int64(total))))
		}})
		if err != nil {
			return Outcome{}, err
		}
		msg := fmt.Sprintf("Read %s user(s) back from Okta: %s confirmed migrated, %s still waiting, %s no longer in Okta, %s could not be read.",
			plan.Thousands(int64(res.Checked+res.Gone+res.Failed)), plan.Thousands(int64(res.Confirmed)), plan.Thousands(int64(res.Pending)),
			plan.Thousands(int64(res.Gone)), plan.Thousands(int64(res.Failed)))
		if res.Checked+res.Gone+res.Failed == 0 {
			msg = "Every user the password import hook serves is confirmed already (or none has been created in Okta yet): nothing to read."
			if params.VerifiedOnly {
				msg = "Okta has confirmed every import the hook verified: nothing to read."
			}
		}
		if res.Failed > 0 {
			msg += " Check again later for those (Ferry's log names them)."
		}
		return Outcome{Message: msg}, nil
	}
}

// work returns what a recorded job does, or why it cannot be done again
// (after a crash): the error's message says what to do.
func (r *Runner) work(j Job) (Work, error) {
	switch j.Kind {
	case KindStageFile:
		if r.opts.Staging == nil {
			return nil, errors.New("Ferry cannot stage here: upload the file again.")
		}
		if _, err := os.Stat(j.InputFile); j.InputFile == "" || err != nil {
			return nil, errors.New("Ferry stopped before this upload was staged, and the uploaded file is gone: upload it again.")
		}
		return r.stageFileWork(j), nil
	case KindStageDirectory:
		return nil, errors.New(interruptedMessage(j))
	case KindValidate:
		if r.opts.Quality == nil || r.opts.Staging == nil {
			return nil, errors.New("Ferry cannot validate here: validate again.")
		}
		return r.validateWork(j.ProjectID), nil
	case KindConfirmImports:
		if r.opts.Confirmer == nil {
			return nil, errors.New("Ferry cannot reach the password import hook's settings here: check with Okta again.")
		}
		return r.confirmImportsWork(j.ProjectID, j.Params), nil
	}
	return nil, fmt.Errorf("Ferry does not know how to run a job of kind %q again: start it again.", j.Kind)
}

// resumable reports whether a job stopped by a shutdown can run again from
// the start at the next start-up.
func resumable(j Job) bool {
	switch j.Kind {
	case KindStageFile:
		_, err := os.Stat(j.InputFile)
		return j.InputFile != "" && err == nil
	case KindValidate, KindConfirmImports:
		return true
	}
	return false
}

// interruptedMessage says what to do about a job Ferry could not finish.
func interruptedMessage(j Job) string {
	switch j.Kind {
	case KindStageDirectory:
		return "Ferry stopped during this pull; nothing of it was kept. The bind password is never stored, so the pull cannot resume by itself: pull again from the data page."
	case KindStageFile:
		return "Ferry stopped before this upload was staged; nothing of it was kept: upload the file again."
	case KindValidate:
		return "Ferry stopped during this validation: validate again."
	case KindConfirmImports:
		return "Ferry stopped during this read-back; the users it confirmed stay confirmed: check with Okta again for the rest."
	}
	return "Ferry stopped before this job finished: start it again."
}

// cancelledMessage says what a cancellation left behind.
func cancelledMessage(j Job, by string) string {
	who := ""
	if by != "" {
		who = " by " + by
	}
	switch j.Kind {
	case KindStageFile, KindStageDirectory:
		return "Cancelled" + who + ": nothing of it was staged; the source's current extract stays current."
	case KindValidate:
		return "Cancelled" + who + ": the previous validation (if any) stays the newest."
	case KindConfirmImports:
		return "Cancelled" + who + ": the users read before stay confirmed; check with Okta again for the rest."
	}
	return "Cancelled" + who + "."
}

// countingReader counts the bytes read through it. Staging may read in
// one goroutine and report its progress from another: the count is atomic.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// stageFileWork stages the job's spooled file. Done counts the bytes read.
func (r *Runner) stageFileWork(j Job) Work {
	return func(ctx context.Context, p *Progress) (Outcome, error) {
		f, err := os.Open(j.InputFile)
		if err != nil {
			return Outcome{}, apperr.Invalid("The uploaded file is no longer on the server: upload it again.", nil)
		}
		defer f.Close()
		size := j.Params.SizeBytes
		if info, err := f.Stat(); err == nil {
			size = info.Size()
		}
		cr := &countingReader{r: f}
		p.Set(0, size)
		p.Note("Reading " + j.Params.FileName + "…")
		rd, format, err := staging.OpenReader(cr, j.Params.Format)
		if err != nil {
			return Outcome{}, err
		}
		meta := staging.Meta{FileName: j.Params.FileName, Format: format, Size: j.Params.SizeBytes, Checksum: j.Params.Checksum,
			KeyAttribute: j.Params.KeyAttribute}
		ex, err := r.opts.Staging.Stage(ctx, j.ProjectID, derefID(j.SourceID), rd, meta, func(records int64) {
			p.Set(min(cr.n.Load(), size), size)
			p.Note(fmt.Sprintf("%s record(s) staged so far.", plan.Thousands(records)))
		})
		warning, err := r.stagedWarning(ctx, ex, err)
		if err != nil {
			return Outcome{}, err
		}
		p.Set(size, size)
		if warning == "" && meta.KeyAttribute != "" && !hasColumn(ex, meta.KeyAttribute) {
			warning = fmt.Sprintf("No record has the record key %q: exclusions cannot follow these records to the next extract.", meta.KeyAttribute)
		}
		msg := fmt.Sprintf("Staged %s: %s record(s) from %s.", ex.FileName, plan.Thousands(ex.Records), j.Params.SourceName) + stagedDetails(ex)
		if warning != "" {
			msg += " " + warning
		}
		return Outcome{Message: msg, Result: Result{ExtractID: ex.ID}}, nil
	}
}

// stagedWarning tells a staging that failed from one that staged the
// extract but could not add its columns to the matrix (a warning).
func (r *Runner) stagedWarning(ctx context.Context, ex *staging.Extract, err error) (string, error) {
	if err == nil {
		return "", nil
	}
	if ex != nil && ex.Status == staging.StatusReady {
		r.log.WarnContext(ctx, "extract staged, discovery failed", slog.Int64("extract", ex.ID), slog.Any("error", err))
		return "Its columns could not be added to the matrix; add them on the source's fields page.", nil
	}
	return "", err
}

// stagedDetails adds the quarantined rows and the carried-over edits to a message.
func stagedDetails(ex *staging.Extract) string {
	msg := ""
	if ex.Quarantined > 0 {
		msg += fmt.Sprintf(" %s row(s) could not be read and are listed with their line.", plan.Thousands(ex.Quarantined))
	}
	if ex.CarriedOver+ex.LostEdits > 0 {
		msg += fmt.Sprintf(" %s exclusion(s) and fix(es) carried over, %s lost (their records are gone).", plan.Thousands(ex.CarriedOver), plan.Thousands(ex.LostEdits))
	}
	return msg + " Validate the data to see its issues."
}

func hasColumn(ex *staging.Extract, name string) bool {
	for _, c := range ex.Columns {
		if c.Name == name {
			return true
		}
	}
	return false
}

func derefID(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// DirectoryName is what a directory pull's extract is called: an LDAP URL
// of the search base (RFC 4516), such as ldap://dc1:389/ou=people,dc=example,dc=com.
func DirectoryName(cfg ldapextract.Config) string {
	return strings.TrimRight(strings.TrimSpace(cfg.URL), "/") + "/" + strings.TrimSpace(cfg.BaseDN)
}

// pullDirectory stages the users of a directory search. Done counts the entries read.
func (r *Runner) pullDirectory(ctx context.Context, p *Progress, projectID, sourceID int64, sourceName string, cfg ldapextract.Config) (Outcome, error) {
	p.Note("Connecting to " + strings.TrimSpace(cfg.URL) + "…")
	rd, err := r.opts.OpenDirectory(ctx, cfg)
	if err != nil {
		var ee *extract.Error
		switch {
		case errors.As(err, &ee):
			return Outcome{}, apperr.Invalid("The directory pull failed; nothing was staged: "+ee.Error()+".", nil)
		case ctx.Err() != nil:
			return Outcome{}, apperr.Invalid("The pull was stopped; nothing was staged.", nil)
		}
		return Outcome{}, err
	}
	defer rd.Close()
	p.Note("Connected: reading the users…")
	meta := staging.Meta{FileName: DirectoryName(cfg), Format: FormatLDAP}
	ex, err := r.opts.Staging.Stage(ctx, projectID, sourceID, rd, meta, func(records int64) {
		p.Set(records, 0)
		p.Note(fmt.Sprintf("%s user(s) read and staged so far.", plan.Thousands(records)))
	})
	warning, err := r.stagedWarning(ctx, ex, err)
	if err != nil {
		return Outcome{}, err
	}
	p.Set(ex.Records, ex.Records)
	msg := fmt.Sprintf("Pulled %s user(s) from %s into %s.", plan.Thousands(ex.Records), ex.FileName, sourceName) + stagedDetails(ex)
	if warning != "" {
		msg += " " + warning
	}
	return Outcome{Message: msg, Result: Result{ExtractID: ex.ID}}, nil
}

// validateWork validates the project's staged data. Done counts the records validated.
func (r *Runner) validateWork(projectID int64) Work {
	return func(ctx context.Context, p *Progress) (Outcome, error) {
		var run *quality.Run
		// The matrix may change while a validation runs (its changes start
		// no second one meanwhile): validate again until the run is current,
		// a few times at most.
		for attempt := 1; ; attempt++ {
			p.Note("Validating the staged records…")
			var err error
			run, err = r.opts.Quality.Validate(ctx, projectID, func(done, total int64) {
				p.Set(done, total)
				p.Note(fmt.Sprintf("%s of %s record(s) validated so far.", plan.Thousands(done), plan.Thousands(total)))
			})
			if err != nil {
				if ae := apperr.As(err); ae.Code == apperr.CodeInvalid && ctx.Err() == nil {
					return Outcome{}, apperr.Invalid("Validation did not finish: "+ae.Message, nil)
				}
				return Outcome{}, err
			}
			current, err := r.opts.Quality.CurrentDigest(ctx, projectID)
			if err != nil || current == run.MatrixDigest || attempt == maxValidationAttempts {
				break
			}
		}
		p.Set(run.Records, run.Records)
		return Outcome{Result: Result{ValidationRunID: run.ID}, Message: fmt.Sprintf("Validated %s record(s): %s valid, %s invalid, %s excluded; %s issue occurrence(s).",
			plan.Thousands(run.Records), plan.Thousands(run.Valid), plan.Thousands(run.Invalid), plan.Thousands(run.Excluded), plan.Thousands(run.Occurrences))}, nil
	}
}
