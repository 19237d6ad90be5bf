package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/ferry-migrate/ferry/templates"
)

func (s *Server) renderPrivacy(c echo.Context, status int, forms map[int64]templates.Form) error {
	ctx := c.Request().Context()
	p := project(c)
	reg, err := s.privacy.LoadRegister(ctx, p.ID)
	if err != nil {
		return err
	}
	gate, err := s.privacy.LoadGate(ctx, p.ID, false)
	if err != nil {
		return err
	}
	return s.render(c, status, templates.PrivacyPage(s.chrome(c, "Personal data", "privacy"),
		templates.PrivacyView{Register: reg, CanReview: can(c, auth.PermPrivacyReview), Gate: gate.Reasons, Forms: forms}))
}

func (s *Server) privacyPage(c echo.Context) error {
	return s.renderPrivacy(c, http.StatusOK, nil)
}

// decide saves a reviewer's decision on one field. The form's fields are
// prefixed with the field id, so that every entry on the page has its own.
func (s *Server) decide(c echo.Context) error {
	p := project(c)
	fieldID, err := pathID(c, "id", "personal-data field")
	if err != nil {
		return err
	}
	prefix := strconv.FormatInt(fieldID, 10) + "-"
	in := privacy.DecisionInput{
		Status: c.FormValue(prefix + "status"), Decision: c.FormValue(prefix + "decision"), TransformMethod: c.FormValue(prefix + "transform_method"),
		LawfulBasis: c.FormValue(prefix + "lawful_basis"), RetentionNote: c.FormValue(prefix + "retention_note"), Comment: c.FormValue(prefix + "comment"),
	}
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if _, err := s.privacy.Decide(c.Request().Context(), p.ID, fieldID, version, in); err != nil {
		ae := apperr.As(err)
		if ae.Code != apperr.CodeInvalid && ae.Code != apperr.CodeConflict {
			return err
		}
		form := templates.NewForm()
		for k, v := range map[string]string{"status": in.Status, "decision": in.Decision, "transform_method": in.TransformMethod,
			"lawful_basis": in.LawfulBasis, "retention_note": in.RetentionNote, "comment": in.Comment, "version": c.FormValue("version")} {
			form.Values[k] = v
		}
		form = form.WithError(ae)
		return s.renderPrivacy(c, statusForForm(err), map[int64]templates.Form{fieldID: form})
	}
	return s.redirectWithFlash(c, projectURL(p, fmt.Sprintf("/privacy#pii-%d", fieldID)), "Decision saved.")
}

func (s *Server) signOff(c echo.Context) error {
	p := project(c)
	so, err := s.privacy.SignOffRegister(c.Request().Context(), p.ID)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeInvalid {
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, projectURL(p, "/privacy"))
		}
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/privacy"), fmt.Sprintf("PII register signed off: %d field(s).", so.FieldCount))
}

// classifyField confirms or rejects Ferry's suggestion that a field is personal data.
func (s *Server) classifyField(c echo.Context) error {
	p := project(c)
	fieldID, err := pathID(c, "id", "source field")
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	pii := c.FormValue("pii")
	in := mapping.FieldInput{PII: &pii}
	if pii == mapping.PIIYes {
		category := c.FormValue("category")
		in.PIICategory = &category
	}
	if _, err := s.mapping.UpdateField(c.Request().Context(), p.ID, fieldID, version, in); err != nil {
		ae := apperr.As(err)
		if ae.Code != apperr.CodeInvalid && ae.Code != apperr.CodeConflict {
			return err
		}
		s.setFlash(c, "error", ae.Detail())
		return c.Redirect(http.StatusSeeOther, projectURL(p, "/privacy"))
	}
	return s.redirectWithFlash(c, projectURL(p, "/privacy"), "Classification saved.")
}

// registerTable is the PII register as a spreadsheet for the legal file.
func registerTable(reg *privacy.Register) sheet.Table {
	t := sheet.Table{Sheet: "PII register", Header: []string{"Source", "Field", "Category", "Mapped to", "Status", "Decision",
		"Transformation", "Lawful basis", "Retention", "Comment", "Decided by", "Decided at"}}
	for _, e := range reg.Entries {
		row := []string{e.SourceName, e.Field.Name, mapping.LabelOf(mapping.PIICategories(), e.Field.PIICategory), strings.Join(e.Targets, "; "), e.Status}
		if r := e.Review; r != nil {
			at := ""
			if r.DecidedAt != nil {
				at = r.DecidedAt.UTC().Format("2006-01-02 15:04 UTC")
			}
			row = append(row, privacy.LabelOf(privacy.Decisions(), r.Decision), r.TransformMethod, privacy.LabelOf(privacy.LawfulBases(), r.LawfulBasis),
				r.RetentionNote, r.Comment, r.DecidedByName, at)
		} else {
			row = append(row, "", "", "", "", "", "", "")
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (s *Server) exportRegister(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		reg, err := s.privacy.LoadRegister(c.Request().Context(), project(c).ID)
		if err != nil {
			return err
		}
		return s.sendTable(c, registerTable(reg), "pii-register", format)
	}
}
