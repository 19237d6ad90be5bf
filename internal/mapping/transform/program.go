package transform

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Program is a compiled pipeline, ready to be applied to many records:
// regular expressions, templates, tables and layouts are prepared once.
// A Program is immutable and safe for concurrent use.
type Program struct {
	steps []compiledStep
}

// compiledStep is one step ready to run.
type compiledStep struct {
	n   int
	op  Op
	run stepFunc
}

// stepFunc transforms the current value; rec is the record for steps that
// read other fields. Its error is a plain message about the value.
type stepFunc func(rec Record, v string) (string, error)

// Compile checks the pipeline (as Validate(nil) does) and prepares it for
// applying to many records.
func (p Pipeline) Compile() (*Program, error) {
	if len(p) > MaxSteps {
		return nil, &DefinitionError{Message: fmt.Sprintf("the transformation has more than %d steps", MaxSteps)}
	}
	prog := &Program{steps: make([]compiledStep, 0, len(p))}
	var errs []error
	regexTotal := 0
	for i, s := range p {
		run, derr := compileStep(s, i+1)
		if derr != nil {
			errs = append(errs, derr)
			continue
		}
		if s.Op == OpRegexReplace {
			// Each pattern is bounded; so is their sum, so that twenty
			// large patterns cannot add up to seconds per value.
			if regexTotal += regexSize(s.Pattern); regexTotal > maxPipelineInsts {
				errs = append(errs, &DefinitionError{Step: i + 1, Op: s.Op, Param: "pattern",
					Message: `"pattern" makes the transformation too complex: its regular expressions together are too large; simplify them`})
				continue
			}
		}
		prog.steps = append(prog.steps, compiledStep{n: i + 1, op: s.Op, run: run})
	}
	if len(errs) > 0 {
		return nil, joinDefinitionErrors(errs)
	}
	return prog, nil
}

// check is Validate without the cost of keeping the compiled program.
func (p Pipeline) check(knownFields []string) error {
	_, err := p.Compile()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if knownFields != nil {
		errs = append(errs, p.checkFields(knownFields)...)
	}
	if len(errs) == 0 {
		return nil
	}
	return joinDefinitionErrors(errs)
}

// Validate reports every problem of the pipeline's definition: invalid
// parameters (as Parse does, for pipelines built in code) and, when
// knownFields is not nil, fields read by concat or template steps that are
// not among knownFields. Each problem is a *DefinitionError naming the step
// and the parameter; several are joined (errors.As finds the first).
func (p Pipeline) Validate(knownFields []string) error {
	return p.check(knownFields)
}

func (p Pipeline) checkFields(knownFields []string) []error {
	if len(p.Fields()) == 0 {
		return nil // most pipelines read only their own field: no set to build
	}
	known := make(map[string]bool, len(knownFields))
	for _, f := range knownFields {
		known[f] = true
	}
	var errs []error
	for i, s := range p {
		param := "fields"
		if s.Op == OpTemplate {
			param = "template"
		}
		for _, f := range stepFields(s) {
			if known[f] {
				continue
			}
			msg := fmt.Sprintf("%q reads the field %q, which this source does not have", param, truncate(f, 60))
			if sug := suggest(f, knownFields); sug != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", sug)
			}
			errs = append(errs, &DefinitionError{Step: i + 1, Op: s.Op, Param: param, Message: msg})
		}
	}
	return errs
}

// definitionErrors is several definition problems; its message lists them.
type definitionErrors []error

func (e definitionErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e definitionErrors) Unwrap() []error { return e }

func joinDefinitionErrors(errs []error) error {
	var flat []error
	for _, err := range errs {
		var many definitionErrors
		if errors.As(err, &many) {
			flat = append(flat, many...)
		} else {
			flat = append(flat, err)
		}
	}
	if len(flat) == 1 {
		return flat[0]
	}
	return definitionErrors(flat)
}

// Apply transforms the value of field in rec (empty when rec lacks it) with
// the pipeline. An invalid pipeline returns its *DefinitionError; a value
// that cannot be transformed returns a *ValueError. To apply one pipeline to
// many records, Compile it once.
func (p Pipeline) Apply(rec Record, field string) (string, error) {
	prog, err := p.Compile()
	if err != nil {
		return "", err
	}
	return prog.Apply(rec, field)
}

// Apply transforms the value of field in rec (empty when rec lacks it).
// A value that cannot be transformed returns a *ValueError. A nil Program
// copies the value.
func (prog *Program) Apply(rec Record, field string) (string, error) {
	v, err := readField(rec, field)
	if err != nil {
		return "", &ValueError{Message: err.Error()}
	}
	if prog == nil {
		return v, nil
	}
	for _, s := range prog.steps {
		out, err := s.run(rec, v)
		if err != nil {
			return "", &ValueError{Step: s.n, Op: s.op, Message: err.Error()}
		}
		if len(out) > MaxValueBytes {
			return "", &ValueError{Step: s.n, Op: s.op, Message: errTooLong.Error()}
		}
		v = out
	}
	return v, nil
}

var errTooLong = fmt.Errorf("the result is longer than %d KiB", MaxValueBytes>>10)

// readField returns a field's value, refusing values too long or not UTF-8.
func readField(rec Record, name string) (string, error) {
	if rec == nil {
		return "", nil
	}
	v, _ := rec.Get(name)
	if len(v) > MaxValueBytes {
		return "", fmt.Errorf("the field %s is longer than %d KiB", strconv.Quote(truncate(name, 60)), MaxValueBytes>>10)
	}
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("the field %s is not valid UTF-8 text", strconv.Quote(truncate(name, 60)))
	}
	return v, nil
}

// PreviewRow is one sample value and what the pipeline makes of it.
type PreviewRow struct {
	// Input is the field's value in the sample ("" when it lacks the field).
	Input string
	// Output is what the pipeline makes of it, "" when it fails.
	Output string
	// Err is why the value could not be transformed, "" when it could.
	Err string
}

// Preview applies the pipeline to the field of each sample record, for
// showing a transformation on a field's sample values while it is edited.
// An invalid pipeline gives every row its definition error.
func Preview(p Pipeline, samples []Record, field string) []PreviewRow {
	rows := make([]PreviewRow, len(samples))
	prog, perr := p.Compile()
	for i, rec := range samples {
		in := ""
		if rec != nil {
			in, _ = rec.Get(field)
		}
		rows[i].Input = in
		if perr != nil {
			rows[i].Err = perr.Error()
			continue
		}
		out, err := prog.Apply(rec, field)
		if err != nil {
			rows[i].Err = err.Error()
			continue
		}
		rows[i].Output = out
	}
	return rows
}

// limitedBuilder builds a string of at most MaxValueBytes.
type limitedBuilder struct {
	b    strings.Builder
	over bool
}

func (l *limitedBuilder) WriteString(s string) {
	if l.over {
		return
	}
	if l.b.Len()+len(s) > MaxValueBytes {
		l.over = true
		return
	}
	l.b.WriteString(s)
}

func (l *limitedBuilder) result() (string, error) {
	if l.over {
		return "", errTooLong
	}
	return l.b.String(), nil
}
