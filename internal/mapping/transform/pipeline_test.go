package transform_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/mapping/transform"
)

// oneOfEach is a valid definition of every op, as MarshalJSON writes it.
var oneOfEach = []string{
	`{"op":"trim"}`,
	`{"op":"lower"}`,
	`{"op":"upper"}`,
	`{"op":"title"}`,
	`{"op":"concat","fields":["givenName","sn"],"separator":" "}`,
	`{"op":"concat","fields":["givenName","middleName","sn"],"separator":"","skipEmpty":true}`,
	`{"op":"template","template":"{givenName}.{sn}@example.com"}`,
	`{"op":"split","separator":";","index":0}`,
	`{"op":"split","separator":", ","index":-1}`,
	`{"op":"regex_replace","pattern":"^(\\d{3})(\\d+)$","replacement":"$1-$2"}`,
	`{"op":"regex_replace","pattern":"\\s+","replacement":""}`,
	`{"op":"default","value":"Unknown"}`,
	`{"op":"lookup","table":{"FIN":"Finance","HR":"Human Resources"},"fallback":"keep"}`,
	`{"op":"lookup","table":{"a<b":"c&d"},"fallback":"error","caseInsensitive":true}`,
	`{"op":"date","from":"dd/mm/yyyy","to":"yyyy-mm-dd"}`,
	`{"op":"date","from":"ad_filetime","to":"2006-01-02T15:04:05Z07:00"}`,
	`{"op":"phone_e164","defaultRegion":"DE"}`,
	`{"op":"phone_e164"}`,
	`{"op":"country_alpha2"}`,
	`{"op":"email_domain","from":"old.example.com","to":"new.example.com"}`,
}

func TestEveryOpRoundTripsThroughJSON(t *testing.T) {
	for _, step := range oneOfEach {
		def := "[" + step + "]"
		p := mustParse(t, def)
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		// json.Marshal escapes <, > and & for HTML; compare the decoded text.
		var canon any
		_ = json.Unmarshal([]byte(def), &canon)
		want, _ := json.Marshal(canon)
		if string(b) != def && !sameJSON(b, want) {
			t.Errorf("Marshal(Parse(%s)) = %s", def, b)
		}
		again, err := transform.Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(%s)): %v", def, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Errorf("round trip of %s = %#v; want %#v", def, again, p)
		}
	}
	// A whole pipeline, and a pipeline inside a larger document.
	all := mustParse(t, "["+strings.Join(oneOfEach[:transform.MaxSteps], ",")+"]")
	doc := struct {
		Transform transform.Pipeline `json:"transform"`
	}{all}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Transform transform.Pipeline `json:"transform"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Transform, all) {
		t.Errorf("embedded round trip differs:\n%#v\n%#v", back.Transform, all)
	}
	// The empty pipeline is written as [].
	if b, _ := json.Marshal(transform.Pipeline(nil)); string(b) != "[]" {
		t.Errorf("Marshal(nil) = %s; want []", b)
	}
	// Unmarshalling an embedded pipeline is as strict as Parse.
	if err := json.Unmarshal([]byte(`{"transform":[{"op":"trim","x":1}]}`), &back); err == nil {
		t.Error("an unknown parameter inside a document was accepted")
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func TestBadDefinitionsAreRefusedWithAPlainMessage(t *testing.T) {
	cases := []struct {
		name, def string
		step      int
		param     string
		msg       string
	}{
		{"not JSON", `[{"op":"trim"}`, 0, "", "the transformation is not valid JSON"},
		{"not a list", `{"op":"trim"}`, 0, "", `the transformation must be a JSON list of steps, such as [{"op":"trim"}]`},
		{"text after the list", `[{"op":"trim"}] [{"op":"lower"}]`, 0, "", "the transformation has text after its list of steps"},
		{"not UTF-8", "[{\"op\":\"default\",\"value\":\"\xff\"}]", 0, "", "the transformation is not valid UTF-8 text"},
		{"too many steps", "[" + strings.Repeat(`{"op":"trim"},`, 20) + `{"op":"trim"}]`, 0, "", "the transformation has more than 20 steps"},
		{"too large", `[{"op":"default","value":"` + strings.Repeat("x", 64<<10) + `"}]`, 0, "", "the transformation is larger than 64 KiB"},
		{"step not an object", `["trim"]`, 1, "", `step 1: must be an object such as {"op":"trim"}`},
		{"no op", `[{"op":"trim"},{}]`, 2, "op", `step 2: has no "op": say which operation it is, such as "trim"`},
		{"op not a string", `[{"op":7}]`, 1, "op", `step 1: "op" must be the name of an operation, such as "trim"`},
		{"unknown op", `[{"op":"shout"}]`, 1, "op", `step 1: "shout" is not an operation; the operations are trim, lower, upper, title, concat, template, split, regex_replace, default, lookup, date, phone_e164, country_alpha2, email_domain`},
		{"misspelt op", `[{"op":"lowercase"}]`, 1, "op", `step 1: "lowercase" is not an operation (did you mean "lower"?)`},
		{"op in the wrong case", `[{"op":"Trim"}]`, 1, "op", `step 1: "Trim" is not an operation (did you mean "trim"?)`},
		{"parameter for an op without any", `[{"op":"trim","chars":" "}]`, 1, "chars", `step 1 (trim): "chars" is not a parameter of trim, which takes none`},
		{"unknown parameter", `[{"op":"concat","fields":["a"],"separator":" ","sep":"-"}]`, 1, "sep", `step 1 (concat): "sep" is not a parameter of concat; its parameters are "fields", "separator", "skipEmpty"`},
		{"parameter of another op", `[{"op":"split","separator":",","index":0,"template":"x"}]`, 1, "template", `step 1 (split): "template" is not a parameter of split; its parameters are "separator", "index"`},
		{"parameter in the wrong case", `[{"op":"split","Separator":",","index":0}]`, 1, "Separator", `"Separator" is not a parameter of split`},
		{"duplicate key", `[{"op":"trim","op":"lower"}]`, 1, "op", `step 1: has the key "op" twice`},
		{"concat without separator", `[{"op":"concat","fields":["a","b"]}]`, 1, "separator", `step 1 (concat): "separator" is missing: give "" to join the fields without one`},
		{"concat without fields", `[{"op":"concat","separator":" "}]`, 1, "fields", `step 1 (concat): "fields" is missing: list the fields to join, such as ["givenName","sn"]`},
		{"concat fields not a list", `[{"op":"concat","fields":"givenName","separator":" "}]`, 1, "fields", `step 1 (concat): "fields" must be a list of field names, such as ["givenName","sn"]`},
		{"concat no fields", `[{"op":"concat","fields":[],"separator":" "}]`, 1, "fields", `step 1 (concat): "fields" must list at least one field`},
		{"concat empty field name", `[{"op":"concat","fields":["a",""],"separator":" "}]`, 1, "fields", `step 1 (concat): "fields" has an empty field name`},
		{"concat separator not a string", `[{"op":"concat","fields":["a"],"separator":1}]`, 1, "separator", `step 1 (concat): "separator" must be a string`},
		{"concat skipEmpty not a bool", `[{"op":"concat","fields":["a"],"separator":"","skipEmpty":"yes"}]`, 1, "skipEmpty", `step 1 (concat): "skipEmpty" must be true or false`},
		{"concat too many fields", `[{"op":"concat","fields":[` + strings.TrimSuffix(strings.Repeat(`"a",`, 51), ",") + `],"separator":""}]`, 1, "fields", `"fields" lists more than 50 fields`},
		{"template missing", `[{"op":"template"}]`, 1, "template", `step 1 (template): "template" is missing: such as "{givenName}.{sn}@example.com"`},
		{"template empty", `[{"op":"template","template":""}]`, 1, "template", `step 1 (template): "template" is empty`},
		{"template unclosed", `[{"op":"template","template":"{givenName.{sn}"}]`, 1, "template", `step 1 (template): "template" has a { that is not closed; write {{ for a literal brace`},
		{"template unclosed at end", `[{"op":"template","template":"x{sn"}]`, 1, "template", `"template" has a { that is not closed`},
		{"template lone closing brace", `[{"op":"template","template":"a}b"}]`, 1, "template", `step 1 (template): "template" has a } without its {; write }} for a literal brace`},
		{"template empty placeholder", `[{"op":"template","template":"a{}b"}]`, 1, "template", `step 1 (template): "template" has an empty placeholder {}; write {{}} for literal braces`},
		{"split without index", `[{"op":"split","separator":","}]`, 1, "index", `step 1 (split): "index" is missing: 0 takes the first part, -1 the last`},
		{"split empty separator", `[{"op":"split","separator":"","index":0}]`, 1, "separator", `step 1 (split): "separator" must not be empty`},
		{"split index not a number", `[{"op":"split","separator":",","index":"1"}]`, 1, "index", `step 1 (split): "index" must be a whole number (0 takes the first part, -1 the last)`},
		{"split index a fraction", `[{"op":"split","separator":",","index":1.5}]`, 1, "index", `step 1 (split): "index" must be a whole number between -1000 and 1000`},
		{"split index too large", `[{"op":"split","separator":",","index":100000}]`, 1, "index", `"index" must be a whole number between -1000 and 1000`},
		{"regex invalid", `[{"op":"regex_replace","pattern":"(a","replacement":""}]`, 1, "pattern", `step 1 (regex_replace): "pattern" is not a valid regular expression: missing closing ) in "(a"`},
		{"regex look-ahead", `[{"op":"regex_replace","pattern":"a(?=b)","replacement":""}]`, 1, "pattern", `invalid or unsupported Perl syntax in "(?=" (Go's RE2 syntax has no look-ahead, look-behind or back-references)`},
		{"regex back-reference", `[{"op":"regex_replace","pattern":"(a)\\1","replacement":""}]`, 1, "pattern", `invalid escape sequence in "\\1" (Go's RE2 syntax has no look-ahead`},
		{"regex empty", `[{"op":"regex_replace","pattern":"","replacement":"x"}]`, 1, "pattern", `step 1 (regex_replace): "pattern" is empty`},
		{"regex too long", `[{"op":"regex_replace","pattern":"` + strings.Repeat("a", 1001) + `","replacement":""}]`, 1, "pattern", `"pattern" is longer than 1000 characters`},
		{"regex too complex", `[{"op":"regex_replace","pattern":"(?:[\\p{L}\\d]?){600}z","replacement":""}]`, 1, "pattern", `"pattern" is too complex`},
		{"regexes too complex together", "[" + strings.TrimSuffix(strings.Repeat(`{"op":"regex_replace","pattern":"(?:[\\p{L}\\d]?){400}z","replacement":""},`, 3), ",") + "]", 3, "pattern", `step 3 (regex_replace): "pattern" makes the transformation too complex: its regular expressions together are too large`},
		{"regex repeat count too large", `[{"op":"regex_replace","pattern":"a{1001}","replacement":""}]`, 1, "pattern", `invalid repeat count`},
		{"regex too many groups", `[{"op":"regex_replace","pattern":"` + strings.Repeat("(a)", 21) + `","replacement":""}]`, 1, "pattern", `"pattern" has more than 20 groups in parentheses`},
		{"regex without replacement", `[{"op":"regex_replace","pattern":"a"}]`, 1, "replacement", `"replacement" is missing: give "" to delete what the pattern finds`},
		{"replacement refers to a missing group", `[{"op":"regex_replace","pattern":"(a)","replacement":"$2"}]`, 1, "replacement", `step 1 (regex_replace): "replacement" refers to group "2", which the pattern does not have (it has 1)`},
		{"replacement group followed by text", `[{"op":"regex_replace","pattern":"(a)","replacement":"$1x"}]`, 1, "replacement", `"replacement" refers to group "1x", which the pattern does not have (it has 1); to follow group 1 by text, write ${1}x`},
		{"replacement unknown name", `[{"op":"regex_replace","pattern":"(?P<first>a)","replacement":"${frist}"}]`, 1, "replacement", `refers to group "frist"`},
		{"replacement lone dollar", `[{"op":"regex_replace","pattern":"a","replacement":"5 $"}]`, 1, "replacement", `"replacement" has a $ that is not followed by a group such as $1 or ${name}; write $$ for a dollar sign`},
		{"replacement empty braces", `[{"op":"regex_replace","pattern":"a","replacement":"${}"}]`, 1, "replacement", `has a $ that is not followed by a group`},
		{"default without value", `[{"op":"default"}]`, 1, "value", `step 1 (default): "value" is missing: give the value to use when the field is empty`},
		{"default null", `[{"op":"default","value":null}]`, 1, "value", `step 1 (default): "value" must be a string`},
		{"default empty", `[{"op":"default","value":""}]`, 1, "value", `step 1 (default): "value" is empty, so the step would change nothing`},
		{"lookup without fallback", `[{"op":"lookup","table":{"a":"b"}}]`, 1, "fallback", `step 1 (lookup): "fallback" is missing: say what to do with a value not in the table: keep, empty or error`},
		{"lookup bad fallback", `[{"op":"lookup","table":{"a":"b"},"fallback":"skip"}]`, 1, "fallback", `step 1 (lookup): "fallback" must be keep, empty or error, not "skip"`},
		{"lookup empty table", `[{"op":"lookup","table":{},"fallback":"keep"}]`, 1, "table", `step 1 (lookup): "table" has no entries`},
		{"lookup table not an object", `[{"op":"lookup","table":[["a","b"]],"fallback":"keep"}]`, 1, "table", `step 1 (lookup): "table" must be an object that maps values to their replacement, such as {"FIN":"Finance"}`},
		{"lookup value not a string", `[{"op":"lookup","table":{"a":1},"fallback":"keep"}]`, 1, "table", `step 1 (lookup): "table" maps "a" to something that is not a string`},
		{"lookup duplicate key", `[{"op":"lookup","table":{"FIN":"Finance","FIN":"Fin"},"fallback":"keep"}]`, 1, "table", `step 1 (lookup): "table" has the value "FIN" twice`},
		{"lookup keys equal ignoring case", `[{"op":"lookup","table":{"FIN":"Finance","fin":"Fishing"},"fallback":"keep","caseInsensitive":true}]`, 1, "table", `step 1 (lookup): "table" has "FIN" and "fin", which are the same when case is ignored but map to different values`},
		{"date unknown layout", `[{"op":"date","from":"dd/mm/yy","to":"yyyy-mm-dd"}]`, 1, "from", `step 1 (date): "from" must be a layout such as yyyy-mm-dd, yyyy/mm/dd, dd/mm/yyyy, mm/dd/yyyy, dd.mm.yyyy, dd-mm-yyyy, yyyymmdd, rfc3339, ad_generalized, ad_filetime, unix, unix_ms, or a Go layout such as 2006-01-02`},
		{"date empty to", `[{"op":"date","from":"unix","to":""}]`, 1, "to", `step 1 (date): "to" must be a layout such as`},
		{"date without to", `[{"op":"date","from":"unix"}]`, 1, "to", `step 1 (date): "to" is missing: give the layout to write, such as yyyy-mm-dd`},
		{"phone unknown region", `[{"op":"phone_e164","defaultRegion":"XX"}]`, 1, "defaultRegion", `step 1 (phone_e164): "defaultRegion" "XX" is not a region whose phone numbers this step knows; use one of AE, AR, AT`},
		{"phone lower-case region", `[{"op":"phone_e164","defaultRegion":"de"}]`, 1, "defaultRegion", `step 1 (phone_e164): "defaultRegion" must be an upper-case country code: "DE"`},
		{"country with a parameter", `[{"op":"country_alpha2","to":"alpha3"}]`, 1, "to", `step 1 (country_alpha2): "to" is not a parameter of country_alpha2, which takes none`},
		{"email domain with @", `[{"op":"email_domain","from":"@old.example.com","to":"new.example.com"}]`, 1, "from", `step 1 (email_domain): "from" must be a domain name without @, such as example.com`},
		{"email domain with a space", `[{"op":"email_domain","from":"old.example.com","to":"new example.com"}]`, 1, "to", `step 1 (email_domain): "to" must be a domain name, such as example.com (it contains ' ')`},
		{"email domain empty label", `[{"op":"email_domain","from":"old..example.com","to":"new.example.com"}]`, 1, "from", `"from" must be a domain name, such as example.com (it has an empty part between dots)`},
		{"email domain hyphen", `[{"op":"email_domain","from":"-old.example.com","to":"new.example.com"}]`, 1, "from", `"from" has a part that starts or ends with a hyphen`},
		{"email domain unchanged", `[{"op":"email_domain","from":"Example.com","to":"example.COM"}]`, 1, "to", `step 1 (email_domain): "to" is the same domain as "from", so nothing would change`},
		{"email domain missing", `[{"op":"email_domain","to":"new.example.com"}]`, 1, "from", `step 1 (email_domain): "from" is missing: give the domain to rewrite, such as old.example.com`},
		{"second step at fault", `[{"op":"trim"},{"op":"split","separator":"","index":0}]`, 2, "separator", `step 2 (split): "separator" must not be empty`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := transform.Parse([]byte(c.def))
			if err == nil {
				t.Fatalf("Parse accepted it: %#v", p)
			}
			if p != nil {
				t.Errorf("Parse returned a pipeline with its error")
			}
			var de *transform.DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DefinitionError", err, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error = %q\nwant it to contain %q", err, c.msg)
			}
			if de.Step != c.step || de.Param != c.param {
				t.Errorf("error names step %d parameter %q; want step %d parameter %q", de.Step, de.Param, c.step, c.param)
			}
		})
	}
}

func TestValidateChecksTheFieldsAPipelineReads(t *testing.T) {
	known := []string{"givenName", "sn", "mail"}
	p := mustParse(t, `[{"op":"template","template":"{givenNme}.{sn}.{value}"},{"op":"concat","fields":["value","department"],"separator":" "}]`)
	err := p.Validate(known)
	if err == nil {
		t.Fatal("unknown fields accepted")
	}
	want := `step 1 (template): "template" reads the field "givenNme", which this source does not have (did you mean "givenName"?); ` +
		`step 2 (concat): "fields" reads the field "department", which this source does not have`
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	var de *transform.DefinitionError
	if !errors.As(err, &de) || de.Step != 1 || de.Param != "template" {
		t.Errorf("first problem = %+v; want step 1, template", de)
	}
	if err := p.Validate(nil); err != nil {
		t.Errorf("Validate(nil) checks no fields, yet: %v", err)
	}
	if err := p.Validate([]string{"givenNme", "sn", "department"}); err != nil {
		t.Errorf("Validate with the fields = %v", err)
	}
	if err := transform.Pipeline(nil).Validate(known); err != nil {
		t.Errorf("empty pipeline: %v", err)
	}
}

func TestValidateRefusesPipelinesBuiltInCodeThatParseWouldRefuse(t *testing.T) {
	bigTable := map[string]string{}
	for i := range transform.MaxLookupEntries + 1 {
		bigTable[fmt.Sprint(i)] = "x"
	}
	cases := []struct {
		name string
		p    transform.Pipeline
		msg  string
	}{
		{"no op", transform.Pipeline{{}}, `step 1: has no "op"`},
		{"unknown op", transform.Pipeline{{Op: "shout"}}, `step 1: "shout" is not an operation`},
		{"parameter of another op", transform.Pipeline{{Op: transform.OpTrim, Separator: ","}}, `step 1 (trim): "separator" is not a parameter of trim`},
		{"table too large", transform.Pipeline{{Op: transform.OpLookup, Table: bigTable, Fallback: transform.FallbackKeep}}, `step 1 (lookup): "table" has more than 10000 entries`},
		{"no fallback", transform.Pipeline{{Op: transform.OpLookup, Table: map[string]string{"a": "b"}}}, `"fallback" is missing`},
		{"too many steps", make(transform.Pipeline, transform.MaxSteps+1), "the transformation has more than 20 steps"},
		{"two bad steps", transform.Pipeline{{Op: transform.OpSplit}, {Op: transform.OpTrim}, {Op: transform.OpDate, From: "x", To: "unix"}},
			`step 1 (split): "separator" must not be empty; step 3 (date): "from" must be a layout`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate(nil)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Validate = %v; want %q", err, c.msg)
			}
			// Apply refuses it the same way, without panicking.
			if _, aerr := c.p.Apply(transform.MapRecord{"f": "x"}, "f"); aerr == nil || aerr.Error() != err.Error() {
				t.Errorf("Apply error = %v; want %v", aerr, err)
			}
			if _, cerr := c.p.Compile(); cerr == nil {
				t.Error("Compile accepted it")
			}
		})
	}
}

func TestDescribeSummarisesInWords(t *testing.T) {
	table := map[string]string{}
	for i := range 12 {
		table[fmt.Sprint(i)] = "x"
	}
	lookup, _ := json.Marshal(table)
	cases := []struct{ def, want string }{
		{``, "copy as is"},
		{`[{"op":"trim"},{"op":"lower"},{"op":"lookup","table":` + string(lookup) + `,"fallback":"keep"}]`, "trim, then lower case, then lookup (12 entries)"},
		{`[{"op":"upper"},{"op":"title"}]`, "upper case, then title case"},
		{`[{"op":"concat","fields":["givenName","sn"],"separator":" ","skipEmpty":true}]`, `join givenName, sn with " " (skipping empty ones)`},
		{`[{"op":"concat","fields":["a","b","c","d","e","f"],"separator":""}]`, `join a, b, c, d and 2 more with ""`},
		{`[{"op":"template","template":"{givenName}.{sn}@example.com"}]`, `template "{givenName}.{sn}@example.com"`},
		{`[{"op":"split","separator":"@","index":0}]`, `split on "@" and take the first part`},
		{`[{"op":"split","separator":",","index":1}]`, `split on "," and take the 2nd part`},
		{`[{"op":"split","separator":",","index":-1}]`, `split on "," and take the last part`},
		{`[{"op":"split","separator":",","index":-3}]`, `split on "," and take the 3rd to last part`},
		{`[{"op":"split","separator":",","index":10}]`, `split on "," and take the 11th part`},
		{`[{"op":"regex_replace","pattern":"\\D","replacement":""}]`, `replace /\D/ with ""`},
		{`[{"op":"default","value":"Unknown"}]`, `default "Unknown" when empty`},
		{`[{"op":"lookup","table":{"a":"b"},"fallback":"error","caseInsensitive":true}]`, `lookup (1 entry), others refused, ignoring case`},
		{`[{"op":"lookup","table":{"a":"b"},"fallback":"empty"}]`, `lookup (1 entry), others emptied`},
		{`[{"op":"date","from":"ad_filetime","to":"yyyy-mm-dd"}]`, `date from ad_filetime to yyyy-mm-dd`},
		{`[{"op":"phone_e164","defaultRegion":"DE"}]`, `phone number to E.164 (national numbers from DE)`},
		{`[{"op":"phone_e164"}]`, `phone number to E.164`},
		{`[{"op":"country_alpha2"}]`, `country to ISO alpha-2 code`},
		{`[{"op":"email_domain","from":"old.example.com","to":"new.example.com"}]`, `email domain old.example.com to new.example.com`},
		{`[{"op":"default","value":"` + strings.Repeat("x", 50) + `"}]`, `default "` + strings.Repeat("x", 30) + `…" when empty`},
	}
	for _, c := range cases {
		if got := mustParse(t, c.def).Describe(); got != c.want {
			t.Errorf("Describe(%s) = %q; want %q", short(c.def), got, c.want)
		}
	}
}

func TestFieldsListsTheOtherFieldsRead(t *testing.T) {
	p := mustParse(t, `[{"op":"template","template":"{givenName}.{sn}{{x}}{value}"},{"op":"concat","fields":["value","sn","mail"],"separator":""},{"op":"trim"}]`)
	if got, want := p.Fields(), []string{"givenName", "sn", "mail"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fields = %q; want %q", got, want)
	}
	if got := mustParse(t, `[{"op":"trim"}]`).Fields(); len(got) != 0 {
		t.Errorf("Fields of trim = %q; want none", got)
	}
}

func TestPreviewShowsEachSample(t *testing.T) {
	p := mustParse(t, `[{"op":"trim"},{"op":"date","from":"dd/mm/yyyy","to":"yyyy-mm-dd"}]`)
	samples := []transform.Record{
		transform.MapRecord{"hired": " 31/12/2023 "},
		transform.MapRecord{"hired": "12/31/2023"},
		transform.MapRecord{},
		nil,
	}
	got := transform.Preview(p, samples, "hired")
	want := []transform.PreviewRow{
		{Input: " 31/12/2023 ", Output: "2023-12-31"},
		{Input: "12/31/2023", Err: "step 2 (date): not a date in the form dd/mm/yyyy"},
		{Input: "", Output: ""},
		{Input: "", Output: ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Preview =\n%+v\nwant\n%+v", got, want)
	}
	// No pipeline: the values as they are.
	if got := transform.Preview(nil, samples[:1], "hired"); got[0].Output != " 31/12/2023 " {
		t.Errorf("Preview(nil) = %+v", got)
	}
	// An invalid pipeline: every row says why.
	bad := transform.Pipeline{{Op: transform.OpSplit}}
	for _, row := range transform.Preview(bad, samples[:2], "hired") {
		if row.Err != `step 1 (split): "separator" must not be empty` {
			t.Errorf("Preview(invalid) row = %+v", row)
		}
	}
	if got := transform.Preview(p, nil, "hired"); len(got) != 0 {
		t.Errorf("Preview of no samples = %+v", got)
	}
}

func TestCompiledProgramIsSafeForConcurrentUse(t *testing.T) {
	prog, err := mustParse(t, `[{"op":"trim"},{"op":"title"},{"op":"lookup","table":{"Fin":"Finance"},"fallback":"keep","caseInsensitive":true},{"op":"regex_replace","pattern":"(\\w+)","replacement":"<$1>"}]`).Compile()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	for range 8 {
		go func() {
			var out string
			for range 200 {
				out, _ = prog.Apply(transform.MapRecord{"f": " fin "}, "f")
			}
			done <- out
		}()
	}
	for range 8 {
		if got := <-done; got != "<Finance>" {
			t.Errorf("concurrent Apply = %q", got)
		}
	}
}

func TestOpsAndLayoutsAreListed(t *testing.T) {
	if got := len(transform.Ops()); got != 14 {
		t.Errorf("Ops() has %d ops; want 14", got)
	}
	for _, op := range transform.Ops() {
		// Every op is known to Parse (each needs its own parameters, so only
		// check that the op name itself is not refused as unknown).
		_, err := transform.Parse([]byte(`[{"op":"` + string(op) + `"}]`))
		if err != nil && strings.Contains(err.Error(), "is not an operation") {
			t.Errorf("%s: %v", op, err)
		}
	}
	for _, l := range transform.DateLayouts() {
		mustParse(t, dateDef(l, l))
	}
}

func TestStepsUnmarshalAsStrictlyAsParse(t *testing.T) {
	var steps []transform.Step
	if err := json.Unmarshal([]byte(`[{"op":"split","separator":";","index":-1}]`), &steps); err != nil {
		t.Fatal(err)
	}
	if want := []transform.Step{{Op: transform.OpSplit, Separator: ";", Index: -1}}; !reflect.DeepEqual(steps, want) {
		t.Errorf("steps = %#v", steps)
	}
	for def, msg := range map[string]string{
		`[{"op":"split","separator":";"}]`:          `split: "index" is missing`,
		`[{"op":"split","separator":"","index":0}]`: `split: "separator" must not be empty`,
		`[{"op":"trim","x":true}]`:                  `trim: "x" is not a parameter of trim`,
	} {
		err := json.Unmarshal([]byte(def), &steps)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Unmarshal(%s) = %v; want %q", def, err, msg)
		}
	}
}
