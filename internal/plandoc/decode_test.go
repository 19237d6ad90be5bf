package plandoc_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/plandoc"
)

const minimal = `{"format":"ferry-plan","version":1,"project":{"name":"P","description":"","migrationType":"one_time","userCreationRateLimit":600,"loadRateSharePercent":80},
"userTypes":[{"name":"Staff","kind":"full_time_employee","userCount":1,"notes":"","subgroups":[]}],
"sources":[{"name":"HR","kind":"hr_system","userTypes":["Staff"],"fields":[{"name":"mail","dataType":"string","pii":"no"}]}],
"matrix":[{"source":"HR","field":"mail","status":"mapped","target":"email","priority":1}]}`

func TestDecodeRefusesBadFilesWithAClearMessage(t *testing.T) {
	if _, err := plandoc.Decode(strings.NewReader(minimal)); err != nil {
		t.Fatalf("the minimal file: %v", err)
	}
	repl := func(old, new string) string { return strings.Replace(minimal, old, new, 1) }
	tests := []struct {
		name, file, want string
	}{
		{"a newer version", repl(`"version":1`, `"version":2`), "this file was written by a newer Ferry (plan format 2); this console reads up to 1: upgrade Ferry"},
		{"another format", repl(`"ferry-plan"`, `"terraform"`), `format: this is not a Ferry plan file (format must be "ferry-plan", found "terraform")`},
		{"no format", `{"version":1}`, "this is not a Ferry plan file"},
		{"a version that is not a number", repl(`"version":1`, `"version":"1"`), "version: the plan format version must be a whole number"},
		{"an unknown field", repl(`"pii":"no"`, `"pii":"no","colour":"red"`), "sources[0].fields[0].colour: unknown field"},
		{"a field in the wrong case", repl(`"notes":""`, `"Notes":""`), `userTypes[0].Notes: unknown field (did you mean "notes"?)`},
		{"broken JSON", repl(`"name":"P",`, `"name":"P",,`), "line 1, column"},
		{"a cut-off file", minimal[:40], "ends in the middle"},
		{"trailing data", minimal + "{}", "more data after"},
		{"not an object", `[1]`, "one JSON object"},
		{"empty", "  \n", "the file is empty"},
		{"Latin-1 text", repl(`"name":"P"`, "\"name\":\"Caf\xe9\""), "line 1, column 58: the text is not UTF-8"},
		{"UTF-16", "\xff\xfe{", "UTF-16"},
		{"a wrong type", repl(`"userCount":1`, `"userCount":"many"`), "userTypes.userCount: expected a number"},
		{"duplicate user types", repl(`"subgroups":[]}]`, `"subgroups":[]},{"name":"staff","kind":"other"}]`), `userTypes[1].name: user type "staff" appears twice`},
		{"duplicate fields", repl(`"pii":"no"}]`, `"pii":"no"},{"name":"MAIL"}]`), `sources[0].fields[1].name: field of source "HR" "MAIL" appears twice`},
		{"a dangling user type", repl(`"userTypes":["Staff"]`, `"userTypes":["Partners"]`), `sources[0].userTypes[0]: names the user type "Partners", which the file does not define`},
		{"a row naming an unknown source", repl(`"source":"HR"`, `"source":"AD"`), `matrix[0].source: names the source "AD"`},
		{"a row naming an unknown field", repl(`"field":"mail"`, `"field":"email"`), `matrix[0].field: names the field "email", which source "HR" does not have`},
		{"a row to an unknown attribute", repl(`"target":"email"`, `"target":"shoeSize"`), `matrix[0].target: maps to "shoeSize"`},
		{"a decision on a field that is not PII", repl(`"matrix"`, `"privacy":{"decisions":[{"source":"HR","field":"mail","status":"approved"}]},"matrix"`), "privacy.decisions[0]: decides on HR.mail, which the file does not mark as personal data"},
		{"a sign-off over open decisions", strings.TrimSuffix(repl(`"pii":"no"`, `"pii":"yes","piiCategory":"contact"`), "}") + `,"privacy":{"decisions":[],"signOff":{"signedBy":"L","signedAt":"2026-01-01T00:00:00Z","fieldCount":1}}}`, "privacy.signOff: the register is signed off for 1 field(s)"},
		{"a bad time", repl(`"matrix"`, `"privacy":{"signOff":{"signedAt":"yesterday"}},"matrix"`), "RFC 3339"},
		{"defect numbers with a gap", repl(`"matrix"`, `"defects":[{"number":2}],"matrix"`), "defects[0].number: defects are numbered 1, 2, 3… without gaps or repeats; expected 1, found 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := plandoc.Decode(strings.NewReader(tt.file))
			var fe *plandoc.FileError
			if err == nil || !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FileError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodeRefusesAnOversizedFile(t *testing.T) {
	big := bytes.Repeat([]byte(" "), plandoc.MaxFileSize+1)
	_, err := plandoc.Decode(bytes.NewReader(big))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v", err)
	}
}

func TestAFileThatTheServicesRefuseLeavesNothingBehind(t *testing.T) {
	w := newWorld(t)
	p, err := plandoc.Decode(strings.NewReader(strings.Replace(minimal, `"kind":"hr_system"`, `"kind":"spreadsheet"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = plandoc.Import(w.ctx, w.svc, p, w.admin.ID, "")
	if err == nil || !strings.Contains(err.Error(), "sources[0] (HR)") || !strings.Contains(err.Error(), "the half-imported project was deleted") {
		t.Fatalf("err = %v", err)
	}
	if ps := must(w.plan.FindProjects(w.ctx, nil)); len(ps) != 0 {
		t.Errorf("%d project(s) left behind", len(ps))
	}
}
