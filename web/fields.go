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
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

// pathSource resolves the :sid source of the current project.
func (s *Server) pathSource(c echo.Context) (*plan.Source, error) {
	id, err := pathID(c, "sid", "source")
	if err != nil {
		return nil, err
	}
	return s.plan.FindSourceByID(c.Request().Context(), project(c).ID, id)
}

func fieldsURL(p *plan.Project, sourceID int64) string {
	return projectURL(p, fmt.Sprintf("/sources/%d/fields", sourceID))
}

func fieldForm(f *mapping.SourceField) templates.Form {
	form := templates.NewForm()
	form.Values["data_type"] = "string"
	form.Values["pii"] = mapping.PIIUnknown
	if f == nil {
		return form
	}
	form.Values["name"] = f.Name
	form.Values["data_type"] = f.DataType
	if f.MaxLength != nil {
		form.Values["max_length"] = strconv.Itoa(*f.MaxLength)
	}
	if f.MultiValued {
		form.Values["multi_valued"] = "true"
	}
	if f.KnownUnique {
		form.Values["known_unique"] = "true"
	}
	form.Values["samples"] = strings.Join(f.Samples, "\n")
	form.Values["pii"] = f.PII
	form.Values["pii_category"] = f.PIICategory
	form.Values["notes"] = f.Notes
	form.Values["version"] = strconv.FormatInt(f.Version, 10)
	return form
}

func readFieldForm(f *formReader) mapping.FieldInput {
	in := mapping.FieldInput{Name: f.text("name"), DataType: f.text("data_type"), MultiValued: f.bool("multi_valued"),
		KnownUnique: f.bool("known_unique"), PII: f.text("pii"), PIICategory: f.text("pii_category"), Notes: f.text("notes")}
	length := f.text("max_length")
	var lp *int
	if strings.TrimSpace(*length) != "" {
		if n := f.int("max_length", "Data length"); n != nil {
			lp = n
		}
	}
	in.MaxLength = &lp
	samples := strings.Split(strings.ReplaceAll(*f.text("samples"), "\r\n", "\n"), "\n")
	in.Samples = &samples
	return in
}

func (s *Server) renderFields(c echo.Context, status int, src *plan.Source, form templates.Form) error {
	fields, err := s.mapping.FindFields(c.Request().Context(), project(c).ID, src.ID)
	if err != nil {
		return err
	}
	return s.render(c, status, templates.FieldsPage(s.chrome(c, "Fields of "+src.Name, "sources"),
		templates.FieldsView{SourceID: src.ID, SourceName: src.Name, Fields: fields, Form: form, CanEdit: can(c, auth.PermPlanEdit)}))
}

func (s *Server) fieldsPage(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	return s.renderFields(c, http.StatusOK, src, fieldForm(nil))
}

func (s *Server) createField(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := readFieldForm(f)
	err = f.parseErr()
	var field *mapping.SourceField
	if err == nil {
		field, err = s.mapping.CreateField(c.Request().Context(), project(c).ID, src.ID, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderFields(c, statusForForm(err), src, *form)
	}
	msg := fmt.Sprintf("Field %q added.", field.Name)
	if field.PIISuggestion != "" && field.PII == mapping.PIIUnknown {
		msg += fmt.Sprintf(" It looks like personal data (%s): confirm it when you can.", mapping.LabelOf(mapping.PIICategories(), field.PIISuggestion))
	}
	return s.redirectWithFlash(c, fieldsURL(project(c), src.ID), msg)
}

func (s *Server) findField(c echo.Context, src *plan.Source) (*mapping.SourceField, error) {
	id, err := pathID(c, "id", "source field")
	if err != nil {
		return nil, err
	}
	f, err := s.mapping.FindFieldByID(c.Request().Context(), project(c).ID, id)
	if err != nil {
		return nil, err
	}
	if f.SourceID != src.ID {
		return nil, apperr.NotFound("source field")
	}
	return f, nil
}

func (s *Server) fieldEditForm(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	f, err := s.findField(c, src)
	if err != nil {
		return err
	}
	return s.renderPage(c, templates.FieldFormPage(s.chrome(c, "Edit "+f.Name, "sources"),
		templates.FieldFormView{SourceID: src.ID, SourceName: src.Name, FieldID: f.ID, Form: fieldForm(f)}))
}

func (s *Server) updateField(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	field, err := s.findField(c, src)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := readFieldForm(f)
	version := f.version()
	err = f.parseErr()
	if err == nil {
		_, err = s.mapping.UpdateField(c.Request().Context(), project(c).ID, field.ID, version, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.render(c, statusForForm(err), templates.FieldFormPage(s.chrome(c, "Edit "+field.Name, "sources"),
			templates.FieldFormView{SourceID: src.ID, SourceName: src.Name, FieldID: field.ID, Form: *form}))
	}
	return s.redirectWithFlash(c, fieldsURL(project(c), src.ID), fmt.Sprintf("Field %q saved.", *in.Name))
}

func (s *Server) deleteFieldConfirm(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	f, err := s.findField(c, src)
	if err != nil {
		return err
	}
	p := project(c)
	return s.confirmDelete(c, "sources", fmt.Sprintf("Delete the field %s.%s?", src.Name, f.Name),
		[]string{"delete the field with its samples and personal-data classification", "delete every matrix row that maps it, and its legal decision"},
		fmt.Sprintf("%s/%d/delete", fieldsURL(p, src.ID), f.ID), fieldsURL(p, src.ID))
}

func (s *Server) deleteField(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	f, err := s.findField(c, src)
	if err != nil {
		return err
	}
	if err := s.mapping.DeleteField(c.Request().Context(), project(c).ID, f.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, fieldsURL(project(c), src.ID), fmt.Sprintf("Field %q deleted.", f.Name))
}
