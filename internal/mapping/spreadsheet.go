package mapping

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/sheet"
)

// The matrix's spreadsheet columns: the guidance's, in its order, with the
// source named first and Ferry's priority and notes last.
const (
	colSource      = "Source"
	colField       = "Source field"
	colTarget      = "Target field"
	colDataType    = "Data type"
	colDataLength  = "Data length"
	colPII         = "PII or sensitive"
	colPIICategory = "PII category"
	colRequired    = "Required"
	colUnique      = "Unique"
	colTransform   = "Transformation"
	colMapping     = "Mapping required"
	colPriority    = "Priority"
	colNotes       = "Notes"
)

// MatrixColumns lists the spreadsheet columns in order.
func MatrixColumns() []string {
	return []string{colSource, colField, colTarget, colDataType, colDataLength, colPII, colPIICategory, colRequired, colUnique,
		colTransform, colMapping, colPriority, colNotes}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// MatrixTable turns the matrix into a spreadsheet table (one line per row;
// fields without a row are listed with an empty target and mapping).
func MatrixTable(m *Matrix) sheet.Table {
	t := sheet.Table{Sheet: "Attribute mapping", Header: MatrixColumns()}
	for _, l := range m.Lines {
		length := ""
		if l.Field.MaxLength != nil {
			length = strconv.Itoa(*l.Field.MaxLength)
		}
		target, transformDef, mappingReq, priority, notes, required, unique := "", "", "", "", "", "", ""
		if l.Row != nil {
			target, transformDef, notes = l.Row.TargetAttribute, l.Row.Transform, l.Row.Notes
			priority = strconv.Itoa(l.Row.Priority)
			mappingReq = yesNo(l.Row.Status == StatusMapped)
		}
		if l.Target != nil {
			required, unique = yesNo(l.Target.Required), yesNo(l.Target.Unique)
		}
		t.Rows = append(t.Rows, []string{l.SourceName, l.Field.Name, target, l.Field.DataType, length, l.Field.PII,
			l.Field.PIICategory, required, unique, transformDef, mappingReq, priority, notes})
	}
	return t
}

// ImportChange is one change an import would make.
type ImportChange struct {
	Line int    // spreadsheet row number (the header is row 1)
	Kind string // "new field", "field updated", "new row", "row updated", "unchanged"
	What string
}

// ImportError is one problem of one spreadsheet row.
type ImportError struct {
	Line    int
	Column  string
	Message string
}

// ImportPlan is what importing a spreadsheet would change. It is applied
// only when it has no errors, and only if the matrix has not changed since
// the plan was shown (Digest).
type ImportPlan struct {
	Changes []ImportChange
	Errors  []ImportError
	// Kept counts the matrix rows that the file does not mention: they stay as they are.
	Kept   int
	Digest string
	// steps are the writes, in order.
	steps []importStep
}

// KindCount is how many changes of one kind a plan holds.
type KindCount struct {
	Kind  string
	Count int
}

// Counts returns how many changes of each kind the plan holds, in a fixed order.
func (p *ImportPlan) Counts() []KindCount {
	var out []KindCount
	for _, kind := range []string{"new field", "field updated", "new row", "row updated", "unchanged"} {
		n := 0
		for _, c := range p.Changes {
			if c.Kind == kind {
				n++
			}
		}
		if n > 0 {
			out = append(out, KindCount{kind, n})
		}
	}
	return out
}

type importStep struct {
	line     int
	field    *SourceField // to create (ID 0) or update
	fieldNew bool
	row      *Row // to create (ID 0) or update; SourceFieldID resolved after the field
	rowNew   bool
}

// PlanImport reads a spreadsheet of the matrix and works out what it would
// change, with every row's errors.
func (s *Service) PlanImport(ctx context.Context, projectID int64, t sheet.Table) (*ImportPlan, error) {
	if err := sheet.RequireColumns(t, colSource, colField, colTarget, colMapping); err != nil {
		return nil, apperr.Invalid(err.Error(), nil)
	}
	fields, err := s.FindFields(ctx, projectID, 0)
	if err != nil {
		return nil, err
	}
	rows, err := s.FindRows(ctx, projectID)
	if err != nil {
		return nil, err
	}
	attrs, err := s.schema.Attributes(ctx, projectID)
	if err != nil {
		return nil, err
	}
	names, err := s.sources.SourceNames(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return planImport(t, fields, rows, attrs, names), nil
}

func planImport(t sheet.Table, fields []SourceField, rows []Row, attrs []schema.Attribute, sourceNames map[int64]string) *ImportPlan {
	p := &ImportPlan{}
	col := func(rec []string, name string) string {
		if i, ok := t.Column(name); ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	has := func(name string) bool { _, ok := t.Column(name); return ok }
	sourceByName := map[string]int64{}
	for id, n := range sourceNames {
		sourceByName[strings.ToLower(n)] = id
	}
	fieldByKey := map[string]*SourceField{}
	for i := range fields {
		fieldByKey[fmt.Sprintf("%d/%s", fields[i].SourceID, fields[i].NameKey)] = &fields[i]
	}
	rowByKey := map[string]*Row{}
	for i := range rows {
		rowByKey[fmt.Sprintf("%d/%s", rows[i].SourceFieldID, rows[i].TargetAttribute)] = &rows[i]
	}
	// The new fields the file names per source, so that a transformation may
	// read a field that a later line of the file adds.
	fileFields := map[int64][]string{}
	for _, rec := range t.Rows {
		id, ok := sourceByName[strings.ToLower(col(rec, colSource))]
		name := col(rec, colField)
		if _, exists := fieldByKey[fmt.Sprintf("%d/%s", id, strings.ToLower(name))]; ok && name != "" && !exists {
			fileFields[id] = append(fileFields[id], name)
		}
	}
	seen := map[string]int{}
	touchedRows := map[int64]bool{}
	newFields := map[string]*SourceField{}
	var digest strings.Builder
	for i, rec := range t.Rows {
		line := i + 2
		bad := func(column, msg string) {
			p.Errors = append(p.Errors, ImportError{Line: line, Column: column, Message: msg})
		}
		srcName, fieldName, target := col(rec, colSource), col(rec, colField), col(rec, colTarget)
		if srcName == "" && fieldName == "" && target == "" {
			continue // blank line
		}
		srcID, ok := sourceByName[strings.ToLower(srcName)]
		if !ok {
			bad(colSource, fmt.Sprintf("No source system is called %q in this project; add it on the Sources page first.", truncate(srcName, 80)))
			continue
		}
		if fieldName == "" {
			bad(colField, "The source field is empty.")
			continue
		}
		mappingReq := strings.ToLower(col(rec, colMapping))
		status := StatusMapped
		fieldOnly := false
		switch mappingReq {
		case "":
			if target != "" {
				bad(colMapping, "Empty: write yes (mapped) or no (deliberately not migrated).")
				continue
			}
			// A field listed without a decision, as Ferry exports undecided fields.
			fieldOnly = true
		case "yes", "y", "mapped", "true", "required":
		case "no", "n", "ignored", "false", "not migrated", "no (ignored)":
			status, target = StatusIgnored, ""
		default:
			bad(colMapping, fmt.Sprintf("%q: write yes (mapped) or no (deliberately not migrated).", truncate(mappingReq, 40)))
			continue
		}
		key := fmt.Sprintf("%d/%s/%s", srcID, strings.ToLower(fieldName), target)
		if fieldOnly {
			key += "/undecided"
		}
		if first, dup := seen[key]; dup {
			bad(colField, fmt.Sprintf("Duplicate of row %d: the same field and target appear twice.", first))
			continue
		}
		seen[key] = line

		// The field: found, or created from this row.
		fkey := fmt.Sprintf("%d/%s", srcID, strings.ToLower(fieldName))
		f, existed := fieldByKey[fkey]
		isNew := false
		if !existed {
			if nf, ok := newFields[fkey]; ok {
				f = nf
			} else {
				f = &SourceField{SourceID: srcID, DataType: "string", PII: PIIUnknown, Samples: []string{}, Version: 1}
				f.apply(FieldInput{Name: &fieldName})
				isNew = true
			}
		}
		upd := FieldInput{}
		if has(colDataType) {
			if v := strings.ToLower(col(rec, colDataType)); v != "" {
				upd.DataType = &v
			}
		}
		if has(colDataLength) {
			if v := col(rec, colDataLength); v != "" {
				n, err := strconv.Atoi(strings.ReplaceAll(v, ",", ""))
				if err != nil {
					bad(colDataLength, fmt.Sprintf("%q is not a whole number.", truncate(v, 40)))
					continue
				}
				np := &n
				upd.MaxLength = &np
			}
		}
		if has(colPII) {
			switch v := strings.ToLower(col(rec, colPII)); v {
			case "":
			case "yes", "y", "true", "pii":
				yes := PIIYes
				upd.PII = &yes
			case "no", "n", "false":
				no := PIINo
				upd.PII = &no
			case "unknown":
				u := PIIUnknown
				upd.PII = &u
			default:
				bad(colPII, fmt.Sprintf("%q: write yes, no or unknown.", truncate(v, 40)))
				continue
			}
		}
		if has(colPIICategory) {
			if v := strings.ToLower(col(rec, colPIICategory)); v != "" {
				upd.PIICategory = &v
			}
		}
		candidate := *f
		candidate.apply(upd)
		if err := candidate.validate(); err != nil {
			for field, msg := range apperr.As(err).Fields {
				bad(columnFor(field), msg)
			}
			continue
		}
		fieldChanged := isNew || fieldDiffers(f, &candidate)

		if fieldOnly {
			label := srcName + "." + candidate.Name
			switch {
			case isNew:
				newFields[fkey] = &candidate
				p.steps = append(p.steps, importStep{line: line, field: &candidate, fieldNew: true})
				p.Changes = append(p.Changes, ImportChange{Line: line, Kind: "new field", What: label})
			case fieldChanged:
				*f = candidate
				if existed { // a field this file creates takes the values at its creation
					cp := candidate
					p.steps = append(p.steps, importStep{line: line, field: &cp})
				}
				p.Changes = append(p.Changes, ImportChange{Line: line, Kind: "field updated", What: label})
			default:
				p.Changes = append(p.Changes, ImportChange{Line: line, Kind: "unchanged", What: label})
			}
			fmt.Fprintf(&digest, "%d|%s|field|%s|%s;", line, key, candidate.DataType, candidate.PII)
			continue
		}

		// The row.
		r := &Row{Status: status, TargetAttribute: target, Priority: 1, Version: 1}
		existing := (*Row)(nil)
		if existed {
			existing = rowByKey[fmt.Sprintf("%d/%s", f.ID, target)]
		}
		if existing != nil {
			cp := *existing
			r = &cp
			r.Status = status
		}
		if has(colPriority) {
			if v := col(rec, colPriority); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					bad(colPriority, fmt.Sprintf("%q is not a whole number.", truncate(v, 40)))
					continue
				}
				r.Priority = n
			}
		}
		if has(colTransform) {
			def, err := CanonicalTransform(col(rec, colTransform))
			if err != nil {
				bad(colTransform, "Not a transformation Ferry understands ("+err.Error()+"). Leave it empty and describe it in Notes, or use Ferry's format as exported.")
				continue
			}
			r.Transform = def
		}
		if has(colNotes) {
			r.Notes = col(rec, colNotes)
		}
		siblings := []string{candidate.Name}
		for _, other := range fields {
			if other.SourceID == srcID && other.ID != f.ID {
				siblings = append(siblings, other.Name)
			}
		}
		siblings = append(siblings, fileFields[srcID]...)
		if err := r.validate(rowContext{field: &candidate, siblings: siblings, attributes: attrs}); err != nil {
			for field, msg := range apperr.As(err).Fields {
				bad(columnFor(field), msg)
			}
			continue
		}
		rowChanged := existing == nil || existing.Status != r.Status || existing.Priority != r.Priority || existing.Transform != r.Transform || existing.Notes != r.Notes
		if existing != nil {
			touchedRows[existing.ID] = true
		}
		label := srcName + "." + candidate.Name
		step := importStep{line: line}
		switch {
		case isNew:
			newFields[fkey] = &candidate
			step.field, step.fieldNew = &candidate, true
			p.Changes = append(p.Changes, ImportChange{Line: line, Kind: "new field", What: label})
		case fieldChanged:
			cp := candidate
			step.field = &cp
			*f = candidate // later rows of the same field see the update
			if !existed {
				// A field an earlier line creates: its creation takes these
				// values, and this line's row goes to that same field.
				step.field = f
			}
			p.Changes = append(p.Changes, ImportChange{Line: line, Kind: "field updated", What: label})
		default:
			if nf, ok := newFields[fkey]; ok {
				step.field = nf
			}
		}
		if rowChanged {
			step.row, step.rowNew = r, existing == nil
			kind := "row updated"
			if existing == nil {
				kind = "new row"
			}
			what := label + " → " + target
			if status == StatusIgnored {
				what = label + " (not migrated)"
			}
			p.Changes = append(p.Changes, ImportChange{Line: line, Kind: kind, What: what})
		} else if !fieldChanged && !isNew {
			p.Changes = append(p.Changes, ImportChange{Line: line, Kind: "unchanged", What: label})
		}
		if step.field != nil || step.row != nil {
			if step.row != nil && step.field == nil {
				step.field = f
			}
			p.steps = append(p.steps, step)
		}
		fmt.Fprintf(&digest, "%d|%s|%s|%s|%d|%s|%s;", line, key, r.Status, r.Transform, r.Priority, candidate.DataType, candidate.PII)
	}
	for _, r := range rows {
		if !touchedRows[r.ID] {
			p.Kept++
		}
	}
	// The digest covers the file's effect and the matrix it was planned on.
	for _, r := range rows {
		fmt.Fprintf(&digest, "r%d.%d;", r.ID, r.Version)
	}
	for _, f := range fields {
		fmt.Fprintf(&digest, "f%d.%d;", f.ID, f.Version)
	}
	sum := sha256.Sum256([]byte(digest.String()))
	p.Digest = hex.EncodeToString(sum[:12])
	return p
}

func fieldDiffers(a, b *SourceField) bool {
	la, lb := -1, -1
	if a.MaxLength != nil {
		la = *a.MaxLength
	}
	if b.MaxLength != nil {
		lb = *b.MaxLength
	}
	return a.DataType != b.DataType || la != lb || a.PII != b.PII || a.PIICategory != b.PIICategory
}

// columnFor names the spreadsheet column of a service field.
func columnFor(field string) string {
	switch field {
	case "name":
		return colField
	case "data_type":
		return colDataType
	case "max_length":
		return colDataLength
	case "pii":
		return colPII
	case "pii_category":
		return colPIICategory
	case "target_attribute":
		return colTarget
	case "priority":
		return colPriority
	case "transform":
		return colTransform
	case "notes":
		return colNotes
	case "status":
		return colMapping
	}
	return field
}

// ApplyImport imports a spreadsheet all-or-nothing. digest must be the
// digest of the plan the person confirmed: if the file or the matrix changed
// since, nothing is written and a fresh preview is needed.
func (s *Service) ApplyImport(ctx context.Context, projectID int64, t sheet.Table, digest string) (*ImportPlan, error) {
	var plan *ImportPlan
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var err error
		plan, err = s.PlanImport(ctx, projectID, t)
		if err != nil {
			return err
		}
		if len(plan.Errors) > 0 {
			return apperr.Invalid(fmt.Sprintf("The file has %d problem(s); nothing was imported.", len(plan.Errors)), nil)
		}
		if plan.Digest != digest {
			return apperr.Conflict("The matrix or the file changed since the preview; nothing was imported. Review the new preview and confirm again.")
		}
		names, err := s.sources.SourceNames(ctx, projectID)
		if err != nil {
			return err
		}
		// The plan was read outside this transaction: a record saved by
		// someone else since then refuses the import rather than being
		// overwritten (on PostgreSQL nothing else keeps writers out meanwhile).
		stale := apperr.Conflict("The matrix changed while the file was being imported; nothing was imported. Review the new preview and confirm again.")
		fieldVersions := map[int64]int64{} // the version each field is at, as this import moves it
		for _, st := range plan.steps {
			f := st.field
			f.ProjectID = projectID
			if st.fieldNew && f.ID == 0 {
				f.PIISuggestion = SuggestPII(f.Name, f.Samples)
				if err := createField(ctx, tx, f, names[f.SourceID]); err != nil {
					return lineError(st.line, err)
				}
			} else if f.ID != 0 {
				// An existing field: written only when the file changes it.
				before, err := findField(tx, projectID, f.ID)
				if err != nil {
					return err
				}
				want, ok := fieldVersions[f.ID]
				if !ok {
					want = f.Version
				}
				if before.Version != want {
					return stale
				}
				if fieldDiffers(before, f) {
					f.Version = before.Version + 1
					res := tx.Model(f).Where("version = ?", before.Version).Select("data_type", "max_length", "pii", "pii_category", "version", "updated_at").Updates(f)
					if res.Error != nil {
						return lineError(st.line, res.Error)
					}
					if res.RowsAffected == 0 {
						return stale
					}
					fieldVersions[f.ID] = f.Version
					if err := audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "source_field",
						EntityID: f.ID, Label: f.label(names[f.SourceID]), Before: before, After: f}); err != nil {
						return err
					}
				}
			}
			if st.row == nil {
				continue
			}
			r := st.row
			r.ProjectID, r.SourceFieldID = projectID, f.ID
			if st.rowNew {
				r.ID, r.Version = 0, 1
				if err := tx.Create(r).Error; err != nil {
					return lineError(st.line, duplicateRow(err))
				}
				if err := audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "mapping_row",
					EntityID: r.ID, Label: rowLabel(f, r), After: r}); err != nil {
					return err
				}
				continue
			}
			before, err := findRow(tx, projectID, r.ID)
			if err != nil {
				return err
			}
			if before.Version != r.Version {
				return stale
			}
			r.Version = before.Version + 1
			res := tx.Model(r).Where("version = ?", before.Version).Select("status", "priority", "transform_json", "notes", "version", "updated_at").Updates(r)
			if res.Error != nil {
				return lineError(st.line, res.Error)
			}
			if res.RowsAffected == 0 {
				return stale
			}
			if err := audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "mapping_row",
				EntityID: r.ID, Label: rowLabel(f, r), Before: before, After: r}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return plan, wrap(err)
	}
	return plan, nil
}

func lineError(line int, err error) error {
	ae := apperr.As(err)
	if ae.Code == apperr.CodeInternal {
		return err
	}
	return apperr.Invalid(fmt.Sprintf("Row %d: %s Nothing was imported.", line, ae.Detail()), nil)
}
