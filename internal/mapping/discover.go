package mapping

import (
	"context"
	"strings"
	"unicode"

	"gorm.io/gorm"
)

// ObservedField is a column as staging saw it in an extract.
type ObservedField struct {
	Name        string
	DataType    string
	MaxLength   int
	MultiValued bool
	Samples     []string
}

// EnsureFields makes every observed column a field of the source: missing
// fields are created with the observed type, length and samples (masked when
// the field looks like personal data); existing fields are left as people
// described them. It returns how many fields it created.
func (s *Service) EnsureFields(ctx context.Context, projectID, sourceID int64, observed []ObservedField) (int, error) {
	srcName, err := s.sourceName(ctx, projectID, sourceID)
	if err != nil {
		return 0, err
	}
	existing, err := s.FindFields(ctx, projectID, sourceID)
	if err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, f := range existing {
		have[f.NameKey] = true
	}
	created := 0
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		for _, o := range observed {
			name := strings.TrimSpace(o.Name)
			if name == "" || have[strings.ToLower(name)] {
				continue
			}
			have[strings.ToLower(name)] = true
			f := &SourceField{ProjectID: projectID, SourceID: sourceID, Name: name, NameKey: strings.ToLower(name), DataType: o.DataType,
				MultiValued: o.MultiValued, PII: PIIUnknown, Notes: "Discovered from a staged extract.", Version: 1}
			if o.MaxLength > 0 {
				n := min(o.MaxLength, MaxFieldLength)
				f.MaxLength = &n
			}
			if f.DataType == "" {
				f.DataType = "string"
			}
			f.PIISuggestion = SuggestPII(f.Name, o.Samples)
			f.Samples = []string{}
			for _, v := range o.Samples {
				if len(f.Samples) == MaxSamples {
					break
				}
				if f.PIISuggestion != "" {
					v = MaskValue(v)
				}
				f.Samples = append(f.Samples, truncate(v, MaxSampleLen))
			}
			if err := f.validate(); err != nil {
				continue // a column name Ferry cannot hold as a field (control characters…): left out, visible on the extract
			}
			if err := createField(ctx, tx, f, srcName); err != nil {
				return err
			}
			created++
		}
		return nil
	})
	if err != nil {
		return 0, wrap(err)
	}
	return created, nil
}

// MaskValue hides a value's letters and digits but its first character and
// its shape, so that a sample still shows the format ("a**@e******.***").
func MaskValue(v string) string {
	var b strings.Builder
	first := true
	for _, r := range v {
		switch {
		case first && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			first = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune('*')
		default:
			b.WriteRune(r)
			if r == '@' || r == ' ' {
				first = true
			}
		}
	}
	return b.String()
}
