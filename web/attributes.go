package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/templates"
)

func settingsForm(st *schema.Settings) templates.Form {
	form := templates.NewForm()
	form.Values["login_pattern"] = st.LoginPattern
	if st.EmailUnique {
		form.Values["email_unique"] = "true"
	}
	if st.SecondEmailUnique {
		form.Values["second_email_unique"] = "true"
	}
	form.Values["version"] = strconv.FormatInt(st.Version, 10)
	return form
}

func (s *Server) renderAttributes(c echo.Context, status int, form *templates.Form) error {
	ctx := c.Request().Context()
	p := project(c)
	attrs, err := s.schema.Attributes(ctx, p.ID)
	if err != nil {
		return err
	}
	custom, err := s.schema.FindCustomAttributes(ctx, p.ID)
	if err != nil {
		return err
	}
	if form == nil {
		st, err := s.schema.FindSettings(ctx, p.ID)
		if err != nil {
			return err
		}
		f := settingsForm(st)
		form = &f
	}
	return s.render(c, status, templates.AttributesPage(s.chrome(c, "Okta profile attributes", "matrix"),
		templates.AttributesView{Attributes: attrs, Custom: custom, SettingsForm: *form, CanEdit: can(c, auth.PermPlanEdit)}))
}

func (s *Server) attributesPage(c echo.Context) error {
	return s.renderAttributes(c, http.StatusOK, nil)
}

func (s *Server) updateProfileSettings(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in := schema.SettingsInput{LoginPattern: f.text("login_pattern"), EmailUnique: f.bool("email_unique"), SecondEmailUnique: f.bool("second_email_unique")}
	if _, err := s.schema.UpdateSettings(c.Request().Context(), p.ID, f.version(), in); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderAttributes(c, statusForForm(err), form)
	}
	return s.redirectWithFlash(c, projectURL(p, "/attributes"), "Profile settings saved.")
}

func customForm(a *schema.CustomAttribute) templates.Form {
	form := templates.NewForm()
	form.Values["type"] = "string"
	if a == nil {
		return form
	}
	form.Values["name"], form.Values["title"], form.Values["description"], form.Values["type"] = a.Name, a.Title, a.Description, a.Type
	if a.MinLength != nil {
		form.Values["min_length"] = strconv.Itoa(*a.MinLength)
	}
	if a.MaxLength != nil {
		form.Values["max_length"] = strconv.Itoa(*a.MaxLength)
	}
	form.Values["pattern"] = a.Pattern
	form.Values["enum"] = strings.Join(a.Enum, "\n")
	if a.Required {
		form.Values["required"] = "true"
	}
	if a.Unique {
		form.Values["unique"] = "true"
	}
	form.Values["version"] = strconv.FormatInt(a.Version, 10)
	return form
}

func readCustomForm(f *formReader) schema.CustomAttributeInput {
	in := schema.CustomAttributeInput{Name: f.text("name"), Title: f.text("title"), Description: f.text("description"), Type: f.text("type"),
		Pattern: f.text("pattern"), Required: f.bool("required"), Unique: f.bool("unique")}
	optional := func(name, label string) schema.OptionalInt {
		if strings.TrimSpace(*f.text(name)) == "" {
			return schema.ClearInt()
		}
		if n := f.int(name, label); n != nil {
			return schema.SetInt(*n)
		}
		return schema.OptionalInt{}
	}
	in.MinLength = optional("min_length", "Minimum length")
	in.MaxLength = optional("max_length", "Maximum length")
	enum := []string{}
	for _, v := range strings.Split(strings.ReplaceAll(*f.text("enum"), "\r\n", "\n"), "\n") {
		if v = strings.TrimSpace(v); v != "" {
			enum = append(enum, v)
		}
	}
	in.Enum = &enum
	return in
}

func (s *Server) renderCustomForm(c echo.Context, status int, form templates.Form, a *schema.CustomAttribute) error {
	p := project(c)
	v := templates.CustomAttributeFormView{Form: form, IsNew: a == nil, Action: projectURL(p, "/attributes/custom")}
	if a != nil {
		v.Action = projectURL(p, fmt.Sprintf("/attributes/custom/%d", a.ID))
	}
	return s.render(c, status, templates.CustomAttributeFormPage(s.chrome(c, "Custom attribute", "matrix"), v))
}

func (s *Server) customNewForm(c echo.Context) error {
	return s.renderCustomForm(c, http.StatusOK, customForm(nil), nil)
}

func (s *Server) createCustom(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in := readCustomForm(f)
	err := f.parseErr()
	var a *schema.CustomAttribute
	if err == nil {
		a, err = s.schema.CreateCustomAttribute(c.Request().Context(), p.ID, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderCustomForm(c, statusForForm(err), *form, nil)
	}
	return s.redirectWithFlash(c, projectURL(p, "/attributes"), fmt.Sprintf("Custom attribute %s added.", a.Name))
}

func (s *Server) findCustom(c echo.Context) (*schema.CustomAttribute, error) {
	id, err := pathID(c, "id", "custom attribute")
	if err != nil {
		return nil, err
	}
	return s.schema.FindCustomAttributeByID(c.Request().Context(), project(c).ID, id)
}

func (s *Server) customEditForm(c echo.Context) error {
	a, err := s.findCustom(c)
	if err != nil {
		return err
	}
	return s.renderCustomForm(c, http.StatusOK, customForm(a), a)
}

func (s *Server) updateCustom(c echo.Context) error {
	p := project(c)
	a, err := s.findCustom(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := readCustomForm(f)
	version := f.version()
	err = f.parseErr()
	if err == nil {
		_, err = s.schema.UpdateCustomAttribute(c.Request().Context(), p.ID, a.ID, version, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderCustomForm(c, statusForForm(err), *form, a)
	}
	return s.redirectWithFlash(c, projectURL(p, "/attributes"), fmt.Sprintf("Custom attribute %s saved.", a.Name))
}

func (s *Server) deleteCustomConfirm(c echo.Context) error {
	a, err := s.findCustom(c)
	if err != nil {
		return err
	}
	p := project(c)
	return s.confirmDelete(c, "matrix", fmt.Sprintf("Delete the custom attribute %s?", a.Name),
		[]string{"remove it from the project's Okta profile", "leave the matrix rows that map to it with an error until they are changed"},
		projectURL(p, fmt.Sprintf("/attributes/custom/%d/delete", a.ID)), projectURL(p, "/attributes"))
}

func (s *Server) deleteCustom(c echo.Context) error {
	a, err := s.findCustom(c)
	if err != nil {
		return err
	}
	p := project(c)
	if err := s.schema.DeleteCustomAttribute(c.Request().Context(), p.ID, a.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/attributes"), fmt.Sprintf("Custom attribute %s deleted.", a.Name))
}
