// Package transform is the attribute-mapping matrix's transformation language:
// a small, declarative, safe set of operations that turns the values of one
// source record into the value of one Okta profile attribute.
//
// A transformation is a [Pipeline]: a list of steps applied in order to the
// value of the mapped field. It is stored and exchanged as JSON, for example
//
//	[{"op":"trim"},{"op":"lower"}]
//
// An empty pipeline (nil, [] or JSON null) copies the mapped field as it is.
//
// # Operations
//
// Every step is an object with "op" and the parameters of that op, and nothing
// else: an unknown op or parameter, a missing required parameter, a duplicate
// key or a value of the wrong type is refused by [Parse].
//
//	{"op":"trim"}                         remove leading and trailing white space
//	{"op":"lower"}                        lower case (Unicode)
//	{"op":"upper"}                        upper case (Unicode: "straße" becomes "STRASSE")
//	{"op":"title"}                        title case (Unicode: "élodie DUPONT" becomes "Élodie Dupont")
//	{"op":"concat","fields":["givenName","sn"],"separator":" ","skipEmpty":true}
//	                                      join fields of the record; skipEmpty (optional)
//	                                      leaves out empty ones
//	{"op":"template","template":"{givenName}.{sn}@example.com"}
//	                                      fill placeholders with fields of the record;
//	                                      {value} is the current value; {{ and }} are literal braces
//	{"op":"split","separator":";","index":0}
//	                                      take one part; a negative index counts from the end;
//	                                      a part that does not exist is empty
//	{"op":"regex_replace","pattern":"^(\\d{3})(\\d+)$","replacement":"$1-$2"}
//	                                      replace every match (Go RE2 syntax, linear time);
//	                                      $1, ${1}, $name and ${name} refer to groups, $$ is a dollar
//	{"op":"default","value":"Unknown"}    use value when the current value is empty or white space
//	{"op":"lookup","table":{"FIN":"Finance"},"fallback":"keep","caseInsensitive":true}
//	                                      replace by the table's entry; fallback says what to do
//	                                      with a value not in the table: keep, empty or error
//	{"op":"date","from":"dd/mm/yyyy","to":"yyyy-mm-dd"}
//	                                      reformat a date; from and to are names from
//	                                      [DateLayouts] or Go layouts such as "2006-01-02"
//	{"op":"phone_e164","defaultRegion":"DE"}
//	                                      a phone number in national or international notation
//	                                      to E.164 (+4930123456); defaultRegion (optional, one
//	                                      of [PhoneRegions]) is the country of national numbers
//	{"op":"country_alpha2"}               a country name (English and common variants and
//	                                      translations), ISO 3166-1 alpha-2, alpha-3 or numeric
//	                                      code to the alpha-2 code
//	{"op":"email_domain","from":"old.example.com","to":"new.example.com"}
//	                                      rewrite the domain of an email address (ignoring case);
//	                                      other values are left as they are
//
// The value ops (date, phone_e164, country_alpha2, email_domain, lookup) pass an
// empty value through untouched, so that a following default step can fill it;
// date, phone_e164 and country_alpha2 ignore surrounding white space. Fields
// that a record does not have read as empty. A record field named "value"
// cannot be read by concat or template, where value is the current value.
//
// # Safety
//
// No op runs arbitrary code, and none takes unbounded time or memory: a
// definition is at most [MaxDefinitionBytes] with at most [MaxSteps] steps,
// values in and out are at most [MaxValueBytes], regular expressions are RE2
// (linear time) with a bounded size, and lookup tables are bounded. Applying a
// pipeline never panics: a value that cannot be transformed yields a
// [*ValueError], whose message never repeats the value (values are personal
// data and errors end up in logs).
package transform
