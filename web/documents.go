package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plandoc"
	"github.com/ferry-migrate/ferry/internal/plandoc/docs"
	"github.com/ferry-migrate/ferry/templates"
)

// VersionService is what the web layer needs of the frozen plan versions
// (plandoc.VersionService).
type VersionService interface {
	LivePlan(ctx context.Context, projectID int64) (*plandoc.Plan, []byte, string, error)
	Freeze(ctx context.Context, projectID int64, note string) (*plandoc.PlanVersion, error)
	List(ctx context.Context, projectID int64) ([]plandoc.PlanVersion, error)
	Find(ctx context.Context, projectID int64, number int) (*plandoc.PlanVersion, error)
	Sign(ctx context.Context, projectID int64, number int, role string) (*plandoc.PlanSignature, error)
}

// Documents are what the Documents page is made from: the plan versions
// and the facts of the live data (docs.GatherFacts over the app's services).
type Documents struct {
	Versions VersionService
	Facts    func(ctx context.Context, projectID int64) (*docs.Facts, error)
	// Now dates the documents (time.Now when nil).
	Now func() time.Time
}

func (d Documents) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

// docFile is one downloadable document: its name in URLs and file names,
// and how it is made.
type docFile struct {
	// Name is the URL segment and the file name's end: migration-plan.pdf.
	Name  string
	Label string
	ctype string
	write func(w io.Writer, d *docs.Document) error
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// docFiles lists the downloads, in the order the page shows them.
func docFiles() []docFile {
	var out []docFile
	for _, k := range docs.Kinds() {
		base := string(k) + "-plan"
		out = append(out,
			docFile{base + ".pdf", k.Title() + " (PDF)", "application/pdf", func(w io.Writer, d *docs.Document) error { return docs.PDF(w, d, k) }},
			docFile{base + ".html", k.Title() + " (HTML)", "text/html; charset=utf-8", func(w io.Writer, d *docs.Document) error { return docs.HTML(w, d, k) }},
			docFile{base + ".md", k.Title() + " (Markdown)", "text/markdown; charset=utf-8", func(w io.Writer, d *docs.Document) error { return docs.Markdown(w, d, k) }},
		)
	}
	sheet := func(name, label string, s docs.Sheet) docFile {
		return docFile{name, label, xlsxType, func(w io.Writer, d *docs.Document) error { return docs.XLSX(w, d, s) }}
	}
	out = append(out,
		sheet("matrix.xlsx", "Attribute-mapping matrix (XLSX)", docs.SheetMatrix),
		sheet("pii-register.xlsx", "PII register (XLSX)", docs.SheetPII),
		sheet("defect-log.xlsx", "Defect log (XLSX)", docs.SheetDefects),
		docFile{"plan.json", "Plan file (JSON)", "application/json", func(w io.Writer, d *docs.Document) error { return plandoc.Encode(w, d.Plan) }},
		docFile{"okta.tf", "Okta configuration (Terraform)", "text/plain; charset=utf-8", func(w io.Writer, d *docs.Document) error {
			return docs.Terraform(w, d.Plan)
		}},
	)
	return out
}

func findDocFile(name string) (docFile, bool) {
	for _, f := range docFiles() {
		if f.Name == name {
			return f, true
		}
	}
	return docFile{}, false
}

// downloadName is the file name of a download: acme-migration-plan-v3.pdf,
// acme-migration-plan.pdf for the live plan.
func downloadName(projectName, file string, number int) string {
	base, ext, _ := strings.Cut(file, ".")
	if number > 0 {
		base += "-v" + strconv.Itoa(number)
	}
	return slug(projectName) + "-" + base + "." + ext
}

// documentLinks are the page's download links for the live plan (number 0)
// or a version.
func documentLinks(base string, number int) []templates.DocumentLink {
	prefix := base + "/documents/live/"
	if number > 0 {
		prefix = fmt.Sprintf("%s/documents/versions/%d/", base, number)
	}
	var out []templates.DocumentLink
	for _, f := range docFiles() {
		out = append(out, templates.DocumentLink{Label: f.Label, URL: prefix + f.Name, Name: f.Name})
	}
	return out
}

// signRoleOf is the signing role the person holds in the project, "" when none.
func signRoleOf(c echo.Context) string {
	switch role(c) {
	case auth.RoleProjectLead:
		return plandoc.RoleLead
	case auth.RoleLegalReviewer:
		return plandoc.RoleLegal
	}
	return ""
}

// documentsReady refuses the Documents routes of a server built without
// the plan versions (a console wired without them has no such page).
func (s *Server) documentsReady() error {
	if s.documents.Versions == nil {
		return apperr.NotFound("documents")
	}
	return nil
}

func (s *Server) documentsPage(c echo.Context) error {
	if err := s.documentsReady(); err != nil {
		return err
	}
	return s.renderDocumentsPage(c, http.StatusOK, templates.NewForm())
}

// renderDocumentsPage shows the live plan's downloads, the versions with
// their signatures and downloads, the freeze form and the compare form.
func (s *Server) renderDocumentsPage(c echo.Context, status int, form templates.Form) error {
	p := project(c)
	ctx := c.Request().Context()
	_, _, digest, err := s.documents.Versions.LivePlan(ctx, p.ID)
	if err != nil {
		return err
	}
	versions, err := s.documents.Versions.List(ctx, p.ID)
	if err != nil {
		return err
	}
	base := projectURL(p, "")
	v := templates.DocumentsView{Live: documentLinks(base, 0), Status: plandoc.StatusOf(versions, digest), FreezeForm: form,
		CanFreeze: can(c, auth.PermRun), SignRole: signRoleOf(c)}
	for i := range versions {
		v.Versions = append(v.Versions, templates.VersionRow{Version: &versions[i], Links: documentLinks(base, versions[i].Number),
			Current: versions[i].Digest == digest})
	}
	return s.render(c, status, templates.DocumentsPage(s.chrome(c, "Documents", "documents"), v))
}

// freezeVersion freezes the live plan as the next version. It is PermRun:
// the engineers export and hand out the plan documents, and a version is
// what they hand out; the lead and the legal reviewer then sign it (the
// one who freezes is not the one who signs).
func (s *Server) freezeVersion(c echo.Context) error {
	if err := s.documentsReady(); err != nil {
		return err
	}
	p := project(c)
	f := newFormReader(c)
	note := f.text("note")
	v, err := s.documents.Versions.Freeze(c.Request().Context(), p.ID, *note)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderDocumentsPage(c, statusForForm(err), *form)
	}
	return s.redirectWithFlash(c, projectURL(p, "/documents#version-"+strconv.Itoa(v.Number)),
		fmt.Sprintf("Version %d frozen. The project lead and the legal reviewer can now sign it.", v.Number))
}

// pathVersion is the :number version of the project.
func (s *Server) pathVersion(c echo.Context) (*plandoc.PlanVersion, error) {
	n, err := strconv.Atoi(c.Param("number"))
	if err != nil || n <= 0 {
		return nil, apperr.NotFound("plan version")
	}
	return s.documents.Versions.Find(c.Request().Context(), project(c).ID, n)
}

// signVersion signs a version as role. The route admits only the role's
// holders (the lead's PermPlanEdit, the legal reviewer's
// PermPrivacyReview); the role itself is checked again here, because
// signing is personal: an admin or another role never signs for them.
func (s *Server) signVersion(signRole string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.documentsReady(); err != nil {
			return err
		}
		if signRoleOf(c) != signRole {
			return apperr.Forbidden(fmt.Sprintf("Only the %s signs as %s.", strings.ToLower(plandoc.SignRoleLabel(signRole)),
				strings.ToLower(plandoc.SignRoleLabel(signRole))))
		}
		p := project(c)
		ctx := c.Request().Context()
		v, err := s.pathVersion(c)
		if err != nil {
			return err
		}
		if _, err := s.documents.Versions.Sign(ctx, p.ID, v.Number, signRole); err != nil {
			return err
		}
		msg := fmt.Sprintf("You signed version %d as %s.", v.Number, strings.ToLower(plandoc.SignRoleLabel(signRole)))
		if list, err := s.documents.Versions.List(ctx, p.ID); err == nil && len(list) > 0 && list[0].Number > v.Number {
			msg += fmt.Sprintf(" Note: it is not the newest version (version %d is).", list[0].Number)
		}
		return s.redirectWithFlash(c, projectURL(p, "/documents#version-"+strconv.Itoa(v.Number)), msg)
	}
}

// liveDocument is the document of the live plan: its latest signatures,
// each saying whether the plan is still the version signed.
func (s *Server) liveDocument(ctx context.Context, projectID int64) (*docs.Document, error) {
	plan, _, digest, err := s.documents.Versions.LivePlan(ctx, projectID)
	if err != nil {
		return nil, err
	}
	facts := &docs.Facts{}
	if s.documents.Facts != nil {
		if facts, err = s.documents.Facts(ctx, projectID); err != nil {
			return nil, err
		}
	}
	versions, err := s.documents.Versions.List(ctx, projectID)
	if err != nil {
		return nil, err
	}
	d := &docs.Document{Plan: plan, Facts: facts, Generated: s.documents.now()}
	for _, rs := range plandoc.StatusOf(versions, digest).Roles {
		if rs.Signature != nil {
			d.Signatures = append(d.Signatures, docSignature(rs.Signature, rs.Version, digest))
		}
	}
	return d, nil
}

func docSignature(sig *plandoc.PlanSignature, v *plandoc.PlanVersion, liveDigest string) docs.Signature {
	return docs.Signature{Role: sig.Role, Name: sig.SignedByName, SignedAt: sig.SignedAt, Version: v.Number, Current: v.Digest == liveDigest}
}

// versionDocument is the document of a frozen version: its plan, its facts
// as they were, and its own signatures.
func (s *Server) versionDocument(ctx context.Context, projectID int64, v *plandoc.PlanVersion) (*docs.Document, error) {
	plan, err := v.Plan()
	if err != nil {
		return nil, apperr.Internal(err)
	}
	facts := &docs.Facts{}
	if strings.TrimSpace(v.FactsJSON) != "" {
		if err := json.Unmarshal([]byte(v.FactsJSON), facts); err != nil {
			return nil, apperr.Internal(fmt.Errorf("plan version %d: facts: %w", v.Number, err))
		}
	}
	_, _, digest, err := s.documents.Versions.LivePlan(ctx, projectID)
	if err != nil {
		return nil, err
	}
	d := &docs.Document{Plan: plan, Facts: facts, Generated: s.documents.now(),
		Version: &docs.Version{Number: v.Number, Note: v.Note, FrozenBy: v.FrozenByName, FrozenAt: v.FrozenAt}}
	for i := range v.Signatures {
		d.Signatures = append(d.Signatures, docSignature(&v.Signatures[i], v, digest))
	}
	return d, nil
}

// downloadLive sends one document of the live plan.
func (s *Server) downloadLive(c echo.Context) error {
	if err := s.documentsReady(); err != nil {
		return err
	}
	f, ok := findDocFile(c.Param("doc"))
	if !ok {
		return apperr.NotFound("document")
	}
	p := project(c)
	d, err := s.liveDocument(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	return sendDocument(c, f, d, downloadName(p.Name, f.Name, 0))
}

// downloadVersion sends one document of a frozen version.
func (s *Server) downloadVersion(c echo.Context) error {
	if err := s.documentsReady(); err != nil {
		return err
	}
	f, ok := findDocFile(c.Param("doc"))
	if !ok {
		return apperr.NotFound("document")
	}
	p := project(c)
	v, err := s.pathVersion(c)
	if err != nil {
		return err
	}
	d, err := s.versionDocument(c.Request().Context(), p.ID, v)
	if err != nil {
		return err
	}
	return sendDocument(c, f, d, downloadName(p.Name, f.Name, v.Number))
}

// sendDocument renders the document into memory first, so that a failure
// is an error page rather than half a file.
func sendDocument(c echo.Context, f docFile, d *docs.Document, filename string) error {
	var buf bytes.Buffer
	if err := f.write(&buf, d); err != nil {
		return fmt.Errorf("render %s: %w", f.Name, err)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, filename))
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, f.ctype, buf.Bytes())
}

// liveChoice is the compare form's value for the live plan.
const liveChoice = "live"

// comparePage compares two versions, or a version and the live plan,
// section by section.
func (s *Server) comparePage(c echo.Context) error {
	if err := s.documentsReady(); err != nil {
		return err
	}
	p := project(c)
	ctx := c.Request().Context()
	versions, err := s.documents.Versions.List(ctx, p.ID)
	if err != nil {
		return err
	}
	v := templates.CompareView{Versions: versions, From: c.QueryParam("from"), To: c.QueryParam("to")}
	if v.From == "" && v.To == "" && len(versions) > 0 {
		// The first visit compares the newest version with the live plan.
		v.From, v.To = strconv.Itoa(versions[0].Number), liveChoice
	}
	load := func(choice, field string) (*plandoc.Plan, string) {
		if choice == liveChoice {
			plan, _, _, err := s.documents.Versions.LivePlan(ctx, p.ID)
			if err != nil {
				v.Message = "The live plan could not be read."
				return nil, ""
			}
			return plan, "the live plan"
		}
		n, err := strconv.Atoi(choice)
		if err != nil || n <= 0 {
			v.Errors = append(v.Errors, templates.FieldMessage{Field: field, Message: "Choose a version or the live plan."})
			return nil, ""
		}
		ver, err := s.documents.Versions.Find(ctx, p.ID, n)
		if apperr.Is(err, apperr.CodeNotFound) {
			v.Errors = append(v.Errors, templates.FieldMessage{Field: field, Message: fmt.Sprintf("There is no version %d.", n)})
			return nil, ""
		}
		if err != nil {
			v.Message = err.Error()
			return nil, ""
		}
		plan, err := ver.Plan()
		if err != nil {
			v.Message = "Version " + strconv.Itoa(n) + " could not be read."
			return nil, ""
		}
		return plan, "version " + strconv.Itoa(n)
	}
	status := http.StatusOK
	if v.From != "" || v.To != "" {
		a, aLabel := load(v.From, "from")
		b, bLabel := load(v.To, "to")
		if a != nil && b != nil {
			v.FromLabel, v.ToLabel = aLabel, bLabel
			v.Diffs = plandoc.Compare(a, b)
			v.Compared = true
		} else {
			status = http.StatusUnprocessableEntity
		}
	}
	return s.render(c, status, templates.ComparePage(s.chrome(c, "Compare plan versions", "documents"), v))
}
