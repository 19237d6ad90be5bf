package defects

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// RunFailure is what a run reports of the users that failed with one error
// code: the code (an Okta error code such as E0000001, or Ferry's own), the
// error's summary (Okta's errorSummary, with its causes), how many users
// failed with it, and the category of the cause ("okta" or "other"; empty
// means other). Summary must name no user: RecordRunFailures removes what
// looks like an email address or a login anyway.
type RunFailure struct {
	Code     string
	Summary  string
	Count    int
	Category string
}

// The priority a run's new defect gets. A code that stops every user of
// the run (Okta refusing the token or its permissions) is critical: the run
// cannot succeed until it is fixed. Otherwise a code that failed
// HighPriorityAffected users or more is high, and fewer is medium. People
// change it as they triage; a later call for the same run never does.
const HighPriorityAffected = 10

// blockingCodes are the Okta error codes that fail a whole run.
var blockingCodes = map[string]bool{
	"E0000005": true, // invalid session
	"E0000006": true, // the token's admin lacks the permission
	"E0000011": true, // invalid token
	"E0000015": true, // the feature is not enabled for the org
}

// Priority is the priority RecordRunFailures gives a new defect of code that
// failed count users.
func Priority(code string, count int) string {
	switch {
	case blockingCodes[strings.ToUpper(code)]:
		return PriorityCritical
	case count >= HighPriorityAffected:
		return PriorityHigh
	}
	return PriorityMedium
}

// RunCreatorName is the name recorded as having added a run's defects.
const RunCreatorName = "Ferry (run failures)"

// Limits of what a run reports.
const (
	maxCodeLen    = 64
	maxSummaryLen = 500
	maxRunLabel   = 200
	maxFailures   = 1000
)

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)

// RecordRunFailures records the failed items of a run as defects, one per
// (run, error code), and returns them in the order of failures. A new
// defect is failed, open, of the priority Priority gives and of the failure's
// category, and says how many users failed, in which run, with which code
// and error ("42 users failed in Test batch 2 with E0000001: Api validation
// failed: login"). Called again for the same run and code — a resumed run —
// it updates that defect's count and description and keeps what people set:
// test and ticket status, priority, category, use case and notes. The same
// code repeated in failures counts once, with the counts added.
func (s *Service) RecordRunFailures(ctx context.Context, projectID, runID int64, runLabel string, failures []RunFailure) ([]Defect, error) {
	merged, err := mergeFailures(runID, failures)
	if err != nil {
		return nil, err
	}
	runLabel = cleanLine(redactPersonal(runLabel), maxRunLabel)
	if runLabel == "" {
		runLabel = fmt.Sprintf("run %d", runID)
	}
	var out []Defect
	err = s.withNumberRetry(ctx, func(tx *gorm.DB) error {
		out = out[:0]
		for _, f := range merged {
			d, err := s.recordOne(ctx, tx, projectID, runID, runLabel, f)
			if err != nil {
				return err
			}
			out = append(out, *d)
		}
		return nil
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

func (s *Service) recordOne(ctx context.Context, tx *gorm.DB, projectID, runID int64, runLabel string, f RunFailure) (*Defect, error) {
	desc := runDescription(f, runLabel)
	var stored Defect
	err := tx.Where("project_id = ? AND load_run_id = ? AND error_code = ?", projectID, runID, f.Code).First(&stored).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		rid := runID
		d := Defect{ProjectID: projectID, Description: desc, TestStatus: TestFailed, TicketStatus: TicketOpen,
			Priority: Priority(f.Code, f.Count), Category: f.Category, ErrorCode: f.Code, LoadRunID: &rid,
			Affected: int64(f.Count), CreatedByName: RunCreatorName, Version: 1}
		if err := s.insert(ctx, tx, &d); err != nil {
			return nil, err
		}
		return &d, audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: entityType,
			EntityID: d.ID, Label: label(&d), After: d})
	case err != nil:
		return nil, err
	}
	if stored.Description == desc && stored.Affected == int64(f.Count) {
		return &stored, nil // nothing new: no version, no audit entry
	}
	next := stored
	next.Description, next.Affected = desc, int64(f.Count)
	// The version moves, so that a person editing the defect meanwhile is
	// told that its description changed rather than overwriting it unseen.
	next.Version++
	res := tx.Model(&next).Where("id = ? AND version = ?", stored.ID, stored.Version).
		Select("description", "affected", "version", "updated_at").Updates(&next)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, apperr.Conflict("A defect of this run changed while the run's failures were recorded; record them again.")
	}
	return &next, audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: entityType,
		EntityID: next.ID, Label: label(&next), Before: stored, After: next})
}

// mergeFailures checks what the run reported, cleans it and adds up the
// counts of a code reported twice, keeping the first order.
func mergeFailures(runID int64, failures []RunFailure) ([]RunFailure, error) {
	c := apperr.NewCheck()
	if runID <= 0 {
		c.Add("run", "The run is missing.")
	}
	if len(failures) > maxFailures {
		c.Add("failures", fmt.Sprintf("A run reports at most %d error codes; this one reported %d.", maxFailures, len(failures)))
	}
	index := map[string]int{}
	var out []RunFailure
	for i, f := range failures {
		field := fmt.Sprintf("failures[%d]", i)
		f.Code = strings.TrimSpace(f.Code)
		switch {
		case f.Code == "":
			c.Add(field, "The error code is missing.")
		case len(f.Code) > maxCodeLen || !codePattern.MatchString(f.Code):
			c.Add(field, "The error code must be letters, digits and . _ : - only, at most 64 characters (an Okta code looks like E0000001).")
		}
		if f.Count < 0 {
			c.Add(field, "The count of failed users cannot be negative.")
		}
		if f.Category == "" {
			f.Category = CategoryOther
		}
		oneOf(c, field, "Error category", f.Category, Categories(), false)
		f.Summary = cleanLine(redactPersonal(f.Summary), maxSummaryLen)
		if j, ok := index[f.Code]; ok {
			out[j].Count += f.Count
			if out[j].Summary == "" {
				out[j].Summary = f.Summary
			}
			continue
		}
		index[f.Code] = len(out)
		out = append(out, f)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// runDescription says what failed: "42 users failed in Test batch 2 with
// E0000001: Api validation failed: login".
func runDescription(f RunFailure, runLabel string) string {
	users := fmt.Sprintf("%d users", f.Count)
	if f.Count == 1 {
		users = "1 user"
	}
	s := fmt.Sprintf("%s failed in %s with %s", users, runLabel, f.Code)
	if f.Summary != "" {
		s += ": " + f.Summary
	}
	return truncate(s, MaxDescriptionLen)
}

// emailLike matches what looks like an email address or a user@domain
// login, which a run's error summary must not carry into the log.
var emailLike = regexp.MustCompile(`[^\s@:;,'"<>()\[\]]+@[^\s@:;,'"<>()\[\]]+\.[^\s@:;,'"<>()\[\]]+`)

// redactPersonal replaces what looks like a login or an email address.
func redactPersonal(s string) string {
	return emailLike.ReplaceAllString(s, "[login]")
}

// cleanLine makes s safe to store as one line: valid UTF-8, control
// characters turned to spaces, runs of white space collapsed, at most max
// characters.
func cleanLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return truncate(strings.Join(strings.Fields(s), " "), max)
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}
