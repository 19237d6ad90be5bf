// Package docs renders a project's plan documents — the migration plan, the
// test plan and the rollback plan — from the portable plan (internal/plandoc)
// and the facts of the project's data (Facts), in Markdown, printable HTML and
// PDF; the matrix, the PII register and the defect log as XLSX workbooks; and
// the Okta configuration the plan needs as Terraform. The documents are made
// from the data every time, never retyped.
//
// What no document holds: staged values, sample values, password hashes,
// salts, peppers and tokens. The PII register lists fields and decisions,
// never values; the org appears by its host name only.
package docs

import (
	"time"

	"github.com/ferry-migrate/ferry/internal/plandoc"
)

// Kind is one of the three plan documents.
type Kind string

// The plan documents.
const (
	Migration Kind = "migration"
	Rollback  Kind = "rollback"
	Test      Kind = "test"
)

// Kinds lists the documents in the order pages show them.
func Kinds() []Kind { return []Kind{Migration, Test, Rollback} }

// Title is the document's name for people: "Migration plan".
func (k Kind) Title() string {
	switch k {
	case Rollback:
		return "Rollback plan"
	case Test:
		return "Test plan"
	}
	return "Migration plan"
}

// Valid reports whether k is one of the documents.
func (k Kind) Valid() bool { return k == Migration || k == Rollback || k == Test }

// Sheet is one of the XLSX workbooks.
type Sheet string

// The workbooks.
const (
	SheetMatrix  Sheet = "matrix"
	SheetPII     Sheet = "pii"
	SheetDefects Sheet = "defects"
)

// Sheets lists the workbooks.
func Sheets() []Sheet { return []Sheet{SheetMatrix, SheetPII, SheetDefects} }

// Version is a frozen plan version as the documents state it.
type Version struct {
	Number   int       `json:"number"`
	Note     string    `json:"note"`
	FrozenBy string    `json:"frozenBy"`
	FrozenAt time.Time `json:"frozenAt"`
}

// Signature roles.
const (
	RoleLead  = "lead"
	RoleLegal = "legal"
)

// Signature is a person's signature of a plan version.
type Signature struct {
	Role     string    `json:"role"` // RoleLead or RoleLegal
	Name     string    `json:"name"`
	SignedAt time.Time `json:"signedAt"`
	// Version is the plan version signed (0: not said).
	Version int `json:"version"`
	// Current: the signed version is the plan as it is now.
	Current bool `json:"current"`
}

// Document is what a rendered document is made of.
type Document struct {
	Plan  *plandoc.Plan
	Facts *Facts
	// Version is the frozen version shown; nil: the live plan.
	Version    *Version
	Signatures []Signature
	// Generated is when the document was made (shown, and the PDF's date).
	Generated time.Time
}
