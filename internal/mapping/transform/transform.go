package transform

import "fmt"

// Limits that keep every transformation bounded in time and memory.
const (
	// MaxDefinitionBytes is the largest JSON definition Parse accepts.
	MaxDefinitionBytes = 64 << 10
	// MaxSteps is the most steps one pipeline may have.
	MaxSteps = 20
	// MaxValueBytes is the longest value a pipeline reads or produces.
	MaxValueBytes = 64 << 10
	// MaxPatternBytes is the longest regular expression regex_replace accepts.
	MaxPatternBytes = 1000
	// MaxReplacementBytes is the longest replacement regex_replace accepts.
	MaxReplacementBytes = 1000
	// MaxLookupEntries is the most entries a lookup table may have.
	MaxLookupEntries = 10000
	// MaxFieldRefs is the most fields a concat or template step may read.
	MaxFieldRefs = 50
)

// Op names an operation.
type Op string

// The operations, in the order [Ops] lists them.
const (
	OpTrim          Op = "trim"
	OpLower         Op = "lower"
	OpUpper         Op = "upper"
	OpTitle         Op = "title"
	OpConcat        Op = "concat"
	OpTemplate      Op = "template"
	OpSplit         Op = "split"
	OpRegexReplace  Op = "regex_replace"
	OpDefault       Op = "default"
	OpLookup        Op = "lookup"
	OpDate          Op = "date"
	OpPhoneE164     Op = "phone_e164"
	OpCountryAlpha2 Op = "country_alpha2"
	OpEmailDomain   Op = "email_domain"
)

// Ops lists every operation, for a person choosing one.
func Ops() []Op {
	return []Op{OpTrim, OpLower, OpUpper, OpTitle, OpConcat, OpTemplate, OpSplit, OpRegexReplace,
		OpDefault, OpLookup, OpDate, OpPhoneE164, OpCountryAlpha2, OpEmailDomain}
}

// Fallback says what a lookup step does with a value that is not in its table.
type Fallback string

// The lookup fallbacks.
const (
	FallbackKeep  Fallback = "keep"  // keep the value as it is
	FallbackEmpty Fallback = "empty" // replace it by the empty string
	FallbackError Fallback = "error" // refuse it with a per-value error
)

// ValueParam is the name that stands for the current value in a template
// placeholder ({value}) and in a concat step's fields; a record field of that
// name cannot be read by those steps.
const ValueParam = "value"

// Step is one operation of a pipeline with its parameters. Only the
// parameters of its Op may be set; the others stay at their zero value.
type Step struct {
	Op Op

	// Fields are the fields a concat step joins (concat).
	Fields []string
	// Separator joins the fields (concat) or splits the value (split).
	Separator string
	// SkipEmpty leaves empty fields out of a concat.
	SkipEmpty bool
	// Template is the text with {field} placeholders (template).
	Template string
	// Index is the part a split takes: 0 the first, -1 the last (split).
	Index int
	// Pattern is the RE2 regular expression (regex_replace).
	Pattern string
	// Replacement replaces each match; $1 and ${name} refer to groups (regex_replace).
	Replacement string
	// Value is the value to use when the current one is empty (default).
	Value string
	// Table maps values to their replacement (lookup).
	Table map[string]string
	// Fallback is what to do with a value not in the table (lookup).
	Fallback Fallback
	// CaseInsensitive makes the lookup ignore case (lookup).
	CaseInsensitive bool
	// From is the input layout (date) or the domain to rewrite (email_domain).
	From string
	// To is the output layout (date) or the new domain (email_domain).
	To string
	// DefaultRegion is the ISO country code of numbers written without one (phone_e164).
	DefaultRegion string
}

// Pipeline is a transformation: steps applied in order to the value of the
// mapped field. A nil or empty pipeline copies the value as it is.
type Pipeline []Step

// Record is one source record, as a transformation sees it.
type Record interface {
	// Get returns the value of a field, and whether the record has it.
	Get(name string) (string, bool)
}

// MapRecord is a Record held in a map of field names to values.
type MapRecord map[string]string

// Get returns the value of a field, and whether the record has it.
func (m MapRecord) Get(name string) (string, bool) {
	v, ok := m[name]
	return v, ok
}

// DefinitionError says what is wrong with a pipeline's definition, in words
// that a person editing it can act on.
type DefinitionError struct {
	// Step is the 1-based number of the step at fault, 0 for the pipeline as a whole.
	Step int
	// Op is the operation of that step, when known.
	Op Op
	// Param is the JSON name of the parameter at fault, "" for the step as a whole.
	Param string
	// Message says what is wrong; it names the parameter.
	Message string
}

// Error returns the message with the step it concerns, such as
// `step 2 (split): "separator" must not be empty`.
func (e *DefinitionError) Error() string {
	switch {
	case e.Step == 0 && e.Op != "":
		return fmt.Sprintf("%s: %s", e.Op, e.Message)
	case e.Step == 0:
		return e.Message
	case e.Op == "":
		return fmt.Sprintf("step %d: %s", e.Step, e.Message)
	default:
		return fmt.Sprintf("step %d (%s): %s", e.Step, e.Op, e.Message)
	}
}

// ValueError says why one value could not be transformed. Its message never
// contains the value itself.
type ValueError struct {
	// Step is the 1-based number of the step that failed, 0 when the value
	// was refused before any step (too long, not UTF-8).
	Step int
	// Op is the operation of that step.
	Op Op
	// Message says what is wrong with the value.
	Message string
}

// Error returns the message with the step that failed, such as
// "step 3 (date): not a date in the form dd/mm/yyyy".
func (e *ValueError) Error() string {
	if e.Step == 0 {
		return e.Message
	}
	return fmt.Sprintf("step %d (%s): %s", e.Step, e.Op, e.Message)
}
