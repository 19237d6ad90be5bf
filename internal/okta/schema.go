package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
)

// DefaultSchemaID is the schema of the default user type.
const DefaultSchemaID = "default"

// GetUserSchema reads a user type's profile schema, base and custom
// attributes (GET /api/v1/meta/schemas/user/{schemaId}, getUserSchema);
// schemaID "" means DefaultSchemaID.
func (c *Client) GetUserSchema(ctx context.Context, schemaID string) (*UserSchema, Response, error) {
	if schemaID == "" {
		schemaID = DefaultSchemaID
	}
	if err := needID("getUserSchema", "schema", schemaID); err != nil {
		return nil, Response{}, err
	}
	var s UserSchema
	res, _, err := c.do(ctx, call{op: "getUserSchema", method: http.MethodGet, tmpl: "/api/v1/meta/schemas/user/{schemaId}",
		path: "/api/v1/meta/schemas/user/" + url.PathEscape(schemaID)}, &s)
	if err != nil {
		return nil, res, err
	}
	return &s, res, nil
}

// customName is what Okta accepts as a custom attribute's variable name.
var customName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// UpdateCustomProperties adds, changes or (with a nil attribute) removes
// custom attributes of a user type with a partial schema
// (POST /api/v1/meta/schemas/user/{schemaId}, updateUserProfile), and returns
// the whole schema as Okta now has it. schemaID "" means DefaultSchemaID.
func (c *Client) UpdateCustomProperties(ctx context.Context, schemaID string, props map[string]*UserSchemaAttribute) (*UserSchema, Response, error) {
	if schemaID == "" {
		schemaID = DefaultSchemaID
	}
	if err := needID("updateUserProfile", "schema", schemaID); err != nil {
		return nil, Response{}, err
	}
	if len(props) == 0 {
		return nil, Response{}, errors.New("okta: updateUserProfile: no properties")
	}
	for name := range props {
		if !customName.MatchString(name) {
			return nil, Response{}, fmt.Errorf("okta: updateUserProfile: %q is not a valid attribute name (a letter, then letters, digits or _)", name)
		}
	}
	body := UserSchema{Definitions: UserSchemaDefinitions{Custom: &UserSchemaSection{ID: "#custom", Type: "object", Properties: props}}}
	var s UserSchema
	res, _, err := c.do(ctx, call{op: "updateUserProfile", method: http.MethodPost, tmpl: "/api/v1/meta/schemas/user/{schemaId}",
		path: "/api/v1/meta/schemas/user/" + url.PathEscape(schemaID), body: body}, &s)
	if err != nil {
		return nil, res, err
	}
	return &s, res, nil
}

// CreateCustomProperty adds one custom attribute to the default user type.
func (c *Client) CreateCustomProperty(ctx context.Context, name string, attr UserSchemaAttribute) (*UserSchema, Response, error) {
	return c.UpdateCustomProperties(ctx, DefaultSchemaID, map[string]*UserSchemaAttribute{name: &attr})
}
