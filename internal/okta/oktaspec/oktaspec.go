// Package oktaspec loads Okta's management OpenAPI document
// (../shared/okta/management-openapi.yaml, or FERRY_OKTA_SPEC) for the
// contract tests of Ferry's Okta client and sandbox. The document is 3.4 MB
// and takes minutes to model on a busy machine; a test keeps the paths it
// exercises (Prune), which models in seconds.
package oktaspec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	yaml "github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/datamodel"
)

// Path is the document: FERRY_OKTA_SPEC, or the shared copy beside the
// checkout (seen from a package two levels down, such as internal/okta).
func Path() string {
	if p := os.Getenv("FERRY_OKTA_SPEC"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "..", "shared", "okta", "management-openapi.yaml")
}

// ErrMissing means the document is not there: the contract test skips.
var ErrMissing = errors.New("Okta's OpenAPI document is missing")

// Loaded is a validator of the kept part of the document.
type Loaded struct {
	Validator validator.Validator
	Path      string
	Took      time.Duration
	// BuildErr is what libopenapi could not resolve while building the
	// model (non-fatal leftovers, such as circular references).
	BuildErr error
}

// Load reads the document, keeps the paths given (and the components they
// reach), and builds a validator with opts. A missing document is
// ErrMissing.
func Load(keep []string, opts ...config.Option) (*Loaded, error) {
	l := &Loaded{Path: Path()}
	start := time.Now()
	raw, err := os.ReadFile(l.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, fmt.Errorf("%w at %s (set FERRY_OKTA_SPEC to its path)", ErrMissing, l.Path)
	}
	if err != nil {
		return l, err
	}
	// Pruning also drops release 2026.06.3's one dangling $ref (an example
	// under the System Log API), which libopenapi treats as fatal.
	if raw, err = Prune(raw, keep); err != nil {
		return l, fmt.Errorf("%s: %w", l.Path, err)
	}
	// The document's examples hold JSON Schema text with $refs of their own
	// (#/definitions/base), which libopenapi would log as unresolved.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	doc, err := libopenapi.NewDocumentWithConfiguration(raw, &datamodel.DocumentConfiguration{Logger: quiet})
	if err != nil {
		return l, fmt.Errorf("libopenapi cannot read %s: %w", l.Path, err)
	}
	m, err := doc.BuildV3Model()
	if m == nil {
		return l, fmt.Errorf("%s does not build into a model: %v", l.Path, err)
	}
	l.BuildErr = err
	l.Validator = validator.NewValidatorFromV3Model(&m.Model, opts...)
	l.Took = time.Since(start)
	return l, nil
}

// Describe lists validation errors, one per line, for a test's message.
func Describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s (%s)", f.Reason, f.FieldPath, f.KeywordLocation)
		}
	}
	return b.String()
}

// Prune keeps only the given paths of an OpenAPI document and the
// components they reach through $ref (all security schemes are kept).
func Prune(raw []byte, keep []string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a YAML mapping")
	}
	root := doc.Content[0]
	paths, components := mapGet(root, "paths"), mapGet(root, "components")
	if paths == nil || components == nil {
		return nil, fmt.Errorf("no paths or components")
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(paths.Content); i += 2 {
		if slices.Contains(keep, paths.Content[i].Value) {
			kept = append(kept, paths.Content[i], paths.Content[i+1])
		}
	}
	if len(kept) != 2*len(keep) {
		return nil, fmt.Errorf("found %d of the %d paths asked for", len(kept)/2, len(keep))
	}
	paths.Content = kept
	mapDelete(root, "x-webhooks")

	// The closure of $refs from the kept paths and the security schemes.
	reached := map[string]bool{} // "schemas/User"
	var queue []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "$ref" && n.Content[i+1].Kind == yaml.ScalarNode {
					ref, ok := strings.CutPrefix(n.Content[i+1].Value, "#/components/")
					if ok && !reached[ref] {
						reached[ref] = true
						kind, name, _ := strings.Cut(ref, "/")
						if target := mapGet(mapGet(components, kind), name); target != nil {
							queue = append(queue, target)
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(paths)
	if ss := mapGet(components, "securitySchemes"); ss != nil {
		walk(ss)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		walk(n)
	}
	for i := 0; i+1 < len(components.Content); i += 2 {
		kind, entries := components.Content[i].Value, components.Content[i+1]
		if kind == "securitySchemes" || entries.Kind != yaml.MappingNode {
			continue
		}
		var out []*yaml.Node
		for j := 0; j+1 < len(entries.Content); j += 2 {
			if reached[kind+"/"+entries.Content[j].Value] {
				out = append(out, entries.Content[j], entries.Content[j+1])
			}
		}
		entries.Content = out
	}
	return yaml.Marshal(&doc)
}

func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func mapDelete(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
