package okta

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// The wire types below are written from Okta's management OpenAPI document
// (release 2026.06.3); the schema each one follows is named in its comment.
// They are shared with internal/oktasim, Ferry's local stand-in for an org,
// so they carry no client state.

// User statuses (UserStatus).
const (
	StatusActive          = "ACTIVE"
	StatusDeprovisioned   = "DEPROVISIONED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusProvisioned     = "PROVISIONED"
	StatusRecovery        = "RECOVERY"
	StatusStaged          = "STAGED"
	StatusSuspended       = "SUSPENDED"
)

// Authentication provider types (AuthenticationProviderType).
const (
	ProviderActiveDirectory = "ACTIVE_DIRECTORY"
	ProviderFederation      = "FEDERATION"
	ProviderImport          = "IMPORT"
	ProviderLDAP            = "LDAP"
	ProviderOkta            = "OKTA"
	ProviderSocial          = "SOCIAL"
)

// PasswordHookDefault is the only PasswordCredentialHook type Okta accepts.
const PasswordHookDefault = "default"

// NextLoginChangePassword is createUser's only nextLogin value (UserNextLogin).
const NextLoginChangePassword = "changePassword"

// Group types (GroupType).
const (
	GroupTypeOkta    = "OKTA_GROUP"
	GroupTypeApp     = "APP_GROUP"
	GroupTypeBuiltIn = "BUILT_IN"
)

// Inline hooks (InlineHookType, InlineHookStatus, InlineHookChannelType).
const (
	InlineHookTypePasswordImport = "com.okta.user.credential.password.import"
	InlineHookStatusActive       = "ACTIVE"
	InlineHookStatusInactive     = "INACTIVE"
	InlineHookChannelHTTP        = "HTTP"
	InlineHookChannelOAuth       = "OAUTH"
	InlineHookAuthHeader         = "HEADER"
	// OAuth client authentication of an OAUTH channel (authType).
	InlineHookOAuthClientSecretPost = "client_secret_post"
	InlineHookOAuthPrivateKeyJWT    = "private_key_jwt"
)

// The response headers Okta sends with every answer (NOTES §3).
const (
	HeaderRateLimitLimit     = "X-Rate-Limit-Limit"
	HeaderRateLimitRemaining = "X-Rate-Limit-Remaining"
	HeaderRateLimitReset     = "X-Rate-Limit-Reset"
	HeaderRequestID          = "X-Okta-Request-Id"
	// HeaderFerrySandbox marks the answers of Ferry's own Okta sandbox
	// (internal/oktasim), never Okta's: the legal gate on loads applies to
	// every org that does not send it.
	HeaderFerrySandbox = "X-Ferry-Sandbox"
)

// Okta error codes Ferry classifies (DOCS data/error-codes.json).
const (
	CodeValidation      = "E0000001" // 400: any validation failure, duplicate login included
	CodeMalformedBody   = "E0000003" // 400
	CodeAuthFailed      = "E0000004" // 401
	CodeForbidden       = "E0000006" // 403
	CodeNotFound        = "E0000007" // 404
	CodeInternal        = "E0000009" // 500
	CodeReadOnly        = "E0000010" // 503
	CodeInvalidToken    = "E0000011" // 401
	CodeAlreadyActive   = "E0000016" // 403
	CodeWrongStatus     = "E0000038" // 403
	CodeRateLimited     = "E0000047" // 429, rate or concurrency limit
	CodePasswordPolicy  = "E0000080" // 403
	CodeTooManyGroups   = "E0000093" // 400: more than 20 groupIds
	CodeStillActivating = "E0000112" // 409
	CodeConflict        = "E0000195" // 409
)

// DuplicateLoginCause is the errorCauses summary of E0000001 when the login
// is taken.
const DuplicateLoginCause = "login: An object with this field already exists in the current organization"

// UserProfile is a user's profile (UserProfile): the 31 base attributes plus
// any custom ones, so a map; values are strings, numbers, booleans, arrays or
// null (JSON null clears an attribute on update).
type UserProfile map[string]any

// String returns the profile attribute name as a string, "" when it is
// missing, null or not a string.
func (p UserProfile) String(name string) string {
	s, _ := p[name].(string)
	return s
}

// Login is profile.login.
func (p UserProfile) Login() string { return p.String("login") }

// Email is profile.email.
func (p UserProfile) Email() string { return p.String("email") }

// UserTypeRef names a user type by id ({"id": "oty…"}).
type UserTypeRef struct {
	ID string `json:"id,omitempty"`
}

// CreateUserRequest is the body of POST /api/v1/users (CreateUserRequest).
type CreateUserRequest struct {
	Profile     UserProfile      `json:"profile"`
	Credentials *UserCredentials `json:"credentials,omitempty"`
	// GroupIDs: at most 20 (E0000093 otherwise); more memberships afterwards
	// with AddGroupMember.
	GroupIDs []string     `json:"groupIds,omitempty"`
	Type     *UserTypeRef `json:"type,omitempty"`
	RealmID  string       `json:"realmId,omitempty"`
}

// UserCredentials is a user's credentials (UserCredentialsWritable in
// requests, UserCredentials in responses, where password is always {}).
type UserCredentials struct {
	Password         *PasswordCredential         `json:"password,omitempty"`
	Provider         *AuthenticationProvider     `json:"provider,omitempty"`
	RecoveryQuestion *RecoveryQuestionCredential `json:"recovery_question,omitempty"`
}

// PasswordCredential is credentials.password (PasswordCredential): exactly one
// of an imported Hash, a Hook (the password import inline hook) or a plaintext
// Value. Its fmt and slog forms hide the hash and the value.
type PasswordCredential struct {
	Hash  *PasswordHash           `json:"hash,omitempty"`
	Hook  *PasswordCredentialHook `json:"hook,omitempty"`
	Value string                  `json:"value,omitempty"`
}

// PasswordCredentialHook asks Okta to call the password import inline hook at
// the user's first sign-in. Type must be PasswordHookDefault.
type PasswordCredentialHook struct {
	Type string `json:"type"`
}

// AuthenticationProvider is credentials.provider: IMPORT after a hash or hook
// import, OKTA once Okta holds the password.
type AuthenticationProvider struct {
	Type string `json:"type,omitempty"`
	Name string `json:"name,omitempty"`
}

// RecoveryQuestionCredential is credentials.recovery_question.
type RecoveryQuestionCredential struct {
	Question string `json:"question,omitempty"`
	Answer   string `json:"answer,omitempty"`
}

// User is an Okta user (User).
type User struct {
	ID                    string                     `json:"id"`
	Status                string                     `json:"status,omitempty"`
	TransitioningToStatus string                     `json:"transitioningToStatus,omitempty"`
	Created               time.Time                  `json:"created,omitzero"`
	Activated             time.Time                  `json:"activated,omitzero"`
	StatusChanged         time.Time                  `json:"statusChanged,omitzero"`
	LastLogin             time.Time                  `json:"lastLogin,omitzero"`
	LastUpdated           time.Time                  `json:"lastUpdated,omitzero"`
	PasswordChanged       time.Time                  `json:"passwordChanged,omitzero"`
	RealmID               string                     `json:"realmId,omitempty"`
	Type                  *UserTypeRef               `json:"type,omitempty"`
	Profile               UserProfile                `json:"profile"`
	Credentials           *UserCredentials           `json:"credentials,omitempty"`
	Embedded              map[string]json.RawMessage `json:"_embedded,omitempty"`
	Links                 map[string]json.RawMessage `json:"_links,omitempty"`
}

// UserActivationToken is the answer of activateUser (UserActivationToken):
// with sendEmail=false, the one-time activation link. Ferry does not send it
// to users who have an imported password or a hook. Its fmt and slog forms hide
// the token.
type UserActivationToken struct {
	ActivationToken string `json:"activationToken,omitempty"`
	ActivationURL   string `json:"activationUrl,omitempty"`
}

// GroupProfile is an OKTA_GROUP's profile (OktaUserGroupProfile).
type GroupProfile struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// CreateGroupRequest is the body of POST /api/v1/groups (addGroup).
type CreateGroupRequest struct {
	Profile GroupProfile `json:"profile"`
}

// Group is an Okta group (Group).
type Group struct {
	ID                    string                     `json:"id"`
	Type                  string                     `json:"type,omitempty"`
	Created               time.Time                  `json:"created,omitzero"`
	LastUpdated           time.Time                  `json:"lastUpdated,omitzero"`
	LastMembershipUpdated time.Time                  `json:"lastMembershipUpdated,omitzero"`
	ObjectClass           []string                   `json:"objectClass,omitempty"`
	Profile               GroupProfile               `json:"profile"`
	Embedded              map[string]json.RawMessage `json:"_embedded,omitempty"`
	Links                 map[string]json.RawMessage `json:"_links,omitempty"`
}

// UserSchema is a user type's profile schema (UserSchema), JSON Schema
// draft-04 style: definitions.base holds the 31 base attributes,
// definitions.custom the org's own.
type UserSchema struct {
	ID          string                     `json:"id,omitempty"`
	Schema      string                     `json:"$schema,omitempty"`
	Name        string                     `json:"name,omitempty"`
	Title       string                     `json:"title,omitempty"`
	Type        string                     `json:"type,omitempty"`
	Created     string                     `json:"created,omitempty"`
	LastUpdated string                     `json:"lastUpdated,omitempty"`
	Definitions UserSchemaDefinitions      `json:"definitions"`
	Properties  json.RawMessage            `json:"properties,omitempty"`
	Links       map[string]json.RawMessage `json:"_links,omitempty"`
}

// UserSchemaDefinitions is UserSchema.definitions.
type UserSchemaDefinitions struct {
	Base   *UserSchemaSection `json:"base,omitempty"`
	Custom *UserSchemaSection `json:"custom,omitempty"`
}

// UserSchemaSection is definitions.base (UserSchemaBase) or definitions.custom
// (UserSchemaPublic). In an update a nil attribute is sent as null, which
// removes that custom attribute.
type UserSchemaSection struct {
	ID         string                          `json:"id,omitempty"`
	Type       string                          `json:"type,omitempty"`
	Properties map[string]*UserSchemaAttribute `json:"properties"`
	Required   []string                        `json:"required,omitempty"`
}

// Schema attribute types, formats, permission actions and mutability.
const (
	AttrString  = "string"
	AttrBoolean = "boolean"
	AttrInteger = "integer"
	AttrNumber  = "number"
	AttrArray   = "array"

	PermissionReadWrite = "READ_WRITE"
	PermissionReadOnly  = "READ_ONLY"
	PermissionHide      = "HIDE"
	PrincipalSelf       = "SELF"
)

// UserSchemaAttribute is one profile attribute (UserSchemaAttribute).
type UserSchemaAttribute struct {
	Title             string                          `json:"title,omitempty"`
	Description       string                          `json:"description,omitempty"`
	Type              string                          `json:"type,omitempty"`
	Required          *bool                           `json:"required,omitempty"`
	Unique            *Uniqueness                     `json:"unique,omitempty"`
	MinLength         *int                            `json:"minLength,omitempty"`
	MaxLength         *int                            `json:"maxLength,omitempty"`
	Pattern           string                          `json:"pattern,omitempty"`
	Enum              []any                           `json:"enum,omitempty"`
	OneOf             []UserSchemaAttributeEnum       `json:"oneOf,omitempty"`
	Format            string                          `json:"format,omitempty"`
	Items             *UserSchemaAttributeItems       `json:"items,omitempty"`
	Permissions       []UserSchemaAttributePermission `json:"permissions,omitempty"`
	Master            *UserSchemaAttributeMaster      `json:"master,omitempty"`
	Mutability        string                          `json:"mutability,omitempty"`
	Scope             string                          `json:"scope,omitempty"`
	Default           any                             `json:"default,omitempty"`
	ExternalName      string                          `json:"externalName,omitempty"`
	ExternalNamespace string                          `json:"externalNamespace,omitempty"`
}

// Uniqueness is an attribute's "unique" flag. A request sends a boolean
// ("unique": true asks Okta to enforce uniqueness); Okta answers with a
// status string (UNIQUE_VALIDATED, or PENDING_UNIQUENESS while it checks the
// existing users) or a boolean. Both forms decode.
type Uniqueness struct {
	Unique bool
	// Status is Okta's status string when it sent one.
	Status string
}

// Uniqueness statuses Okta reports.
const (
	UniqueValidated   = "UNIQUE_VALIDATED"
	PendingUniqueness = "PENDING_UNIQUENESS"
	NotUnique         = "NOT_UNIQUE"
)

// MarshalJSON sends the boolean the spec documents.
func (u Uniqueness) MarshalJSON() ([]byte, error) { return json.Marshal(u.Unique) }

// UnmarshalJSON accepts a boolean or a status string.
func (u *Uniqueness) UnmarshalJSON(b []byte) error {
	var flag bool
	if err := json.Unmarshal(b, &flag); err == nil {
		*u = Uniqueness{Unique: flag}
		return nil
	}
	var status string
	if err := json.Unmarshal(b, &status); err != nil {
		return fmt.Errorf("unique: want a boolean or a status string, got %s", b)
	}
	*u = Uniqueness{Unique: status != NotUnique && status != "", Status: status}
	return nil
}

// UserSchemaAttributeEnum is one display name of an enum value (oneOf).
type UserSchemaAttributeEnum struct {
	Const any    `json:"const"`
	Title string `json:"title"`
}

// UserSchemaAttributeItems describes an array attribute's elements.
type UserSchemaAttributeItems struct {
	Type  string                    `json:"type,omitempty"`
	Enum  []any                     `json:"enum,omitempty"`
	OneOf []UserSchemaAttributeEnum `json:"oneOf,omitempty"`
}

// UserSchemaAttributePermission is one permission (principal SELF, action
// READ_WRITE, READ_ONLY or HIDE).
type UserSchemaAttributePermission struct {
	Principal string `json:"principal"`
	Action    string `json:"action"`
}

// UserSchemaAttributeMaster is the attribute's profile source settings.
type UserSchemaAttributeMaster struct {
	Type     string                              `json:"type,omitempty"`
	Priority []UserSchemaAttributeMasterPriority `json:"priority,omitempty"`
}

// UserSchemaAttributeMasterPriority is one entry of master.priority.
type UserSchemaAttributeMasterPriority struct {
	Type  string `json:"type,omitempty"`
	Value string `json:"value,omitempty"`
}

// InlineHookCreate is the body of POST /api/v1/inlineHooks (InlineHookCreate).
type InlineHookCreate struct {
	Name    string            `json:"name"`
	Type    string            `json:"type"`
	Version string            `json:"version"`
	Channel InlineHookChannel `json:"channel"`
}

// InlineHookChannel is how Okta reaches the hook (InlineHookChannelHttp /
// InlineHookChannelHttpCreate, or with Type OAUTH InlineHookChannelOAuth /
// InlineHookChannelOAuthCreate).
type InlineHookChannel struct {
	Type    string                   `json:"type"`
	Version string                   `json:"version"`
	Config  *InlineHookChannelConfig `json:"config,omitempty"`
	// OAuth is the OAUTH channel's client settings: they travel in
	// channel.config beside Config's uri, method and headers (see
	// MarshalJSON), Config's AuthScheme staying nil.
	OAuth *InlineHookOAuthConfig `json:"-"`
}

// InlineHookChannelConfig is channel.config for the HTTP channel, and the
// part of the OAUTH channel's config the two share (URI, Method, Headers).
type InlineHookChannelConfig struct {
	// URI must begin with https:// and be reachable by Okta (max 1024).
	URI        string                `json:"uri"`
	Method     string                `json:"method,omitempty"`
	Headers    []InlineHookHeader    `json:"headers,omitempty"`
	AuthScheme *InlineHookAuthScheme `json:"authScheme,omitempty"`
}

// InlineHookHeader is an extra header Okta sends to the hook.
type InlineHookHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// InlineHookAuthScheme is channel.config.authScheme: with Type HEADER, Okta
// sends "Key: Value" to the hook. Value is a shared secret (not an Okta
// token); Okta never returns it, and its fmt and slog forms hide it.
type InlineHookAuthScheme struct {
	Type  string `json:"type"`
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

// InlineHook is a registered inline hook (InlineHook, InlineHookCreateResponse).
type InlineHook struct {
	ID          string                     `json:"id"`
	Name        string                     `json:"name"`
	Type        string                     `json:"type"`
	Version     string                     `json:"version,omitempty"`
	Status      string                     `json:"status,omitempty"`
	Created     time.Time                  `json:"created,omitzero"`
	LastUpdated time.Time                  `json:"lastUpdated,omitzero"`
	Channel     InlineHookChannel          `json:"channel"`
	Links       map[string]json.RawMessage `json:"_links,omitempty"`
}

// ErrorBody is Okta's error document (Error).
type ErrorBody struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink,omitempty"`
	ErrorID      string       `json:"errorId,omitempty"`
	ErrorCauses  []ErrorCause `json:"errorCauses,omitempty"`
}

// ErrorCause is one entry of errorCauses (ErrorCause).
type ErrorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

// Redaction. The secrets a request can carry keep out of fmt's verbs
// (%v, %+v, %#v, %s, %q) and out of slog.

const redacted = "[REDACTED]"

// Format prints the algorithm and parameters, never the salt or the value.
func (h PasswordHash) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Algorithm:%s WorkFactor:%d SaltOrder:%s DigestAlgorithm:%s IterationCount:%d KeySize:%d Salt:%s Value:%s}",
		h.Algorithm, h.WorkFactor, h.SaltOrder, h.DigestAlgorithm, h.IterationCount, h.KeySize, redacted, redacted)
}

// LogValue keeps the salt and the value out of slog.
func (h PasswordHash) LogValue() slog.Value {
	return slog.GroupValue(slog.String("algorithm", h.Algorithm), slog.String("value", redacted))
}

// Format names which kind of password the credential carries, not the secret.
func (p PasswordCredential) Format(f fmt.State, _ rune) {
	fmt.Fprint(f, p.kind())
}

// LogValue keeps the password out of slog.
func (p PasswordCredential) LogValue() slog.Value { return slog.StringValue(p.kind()) }

func (p PasswordCredential) kind() string {
	switch {
	case p.Hash != nil:
		return "{hash:" + p.Hash.Algorithm + " " + redacted + "}"
	case p.Hook != nil:
		return "{hook:" + p.Hook.Type + "}"
	case p.Value != "":
		return "{value:" + redacted + "}"
	}
	return "{}"
}

// Format hides the answer.
func (r RecoveryQuestionCredential) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Question:%s Answer:%s}", r.Question, redacted)
}

// LogValue hides the answer.
func (r RecoveryQuestionCredential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("question", r.Question), slog.String("answer", redacted))
}

// Format hides the shared secret.
func (a InlineHookAuthScheme) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Type:%s Key:%s Value:%s}", a.Type, a.Key, redacted)
}

// LogValue hides the shared secret.
func (a InlineHookAuthScheme) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", a.Type), slog.String("key", a.Key), slog.String("value", redacted))
}

// Format hides the activation token and link.
func (t UserActivationToken) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{ActivationToken:%s ActivationURL:%s}", redacted, redacted)
}

// LogValue hides the activation token and link.
func (t UserActivationToken) LogValue() slog.Value { return slog.StringValue(redacted) }

// LogValue keeps credentials and the profile (PII) out of slog: only the
// shape of the request is logged.
func (r CreateUserRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("profile_attributes", len(r.Profile)), slog.Int("group_ids", len(r.GroupIDs)),
		slog.Any("credentials", r.credentials()))
}

func (r CreateUserRequest) credentials() any {
	if r.Credentials == nil {
		return "none"
	}
	return *r.Credentials
}

// Format names the kinds of credentials, never their secrets.
func (c UserCredentials) Format(f fmt.State, _ rune) {
	fmt.Fprint(f, "{Password:")
	if c.Password != nil {
		fmt.Fprint(f, c.Password.kind())
	} else {
		fmt.Fprint(f, "none")
	}
	if c.Provider != nil {
		fmt.Fprintf(f, " Provider:%s/%s", c.Provider.Type, c.Provider.Name)
	}
	if c.RecoveryQuestion != nil {
		fmt.Fprint(f, " RecoveryQuestion:"+redacted)
	}
	fmt.Fprint(f, "}")
}

// Format shows the URI and header names, never the secret or header values.
func (c InlineHookChannelConfig) Format(f fmt.State, _ rune) {
	keys := make([]string, 0, len(c.Headers))
	for _, h := range c.Headers {
		keys = append(keys, h.Key)
	}
	fmt.Fprintf(f, "{URI:%s Method:%s Headers:%v", c.URI, c.Method, keys)
	if c.AuthScheme != nil {
		fmt.Fprintf(f, " AuthScheme:{Type:%s Key:%s Value:%s}", c.AuthScheme.Type, c.AuthScheme.Key, redacted)
	}
	fmt.Fprint(f, "}")
}

// LogValue keeps the password and the recovery answer out of slog.
func (c UserCredentials) LogValue() slog.Value {
	var attrs []slog.Attr
	if c.Password != nil {
		attrs = append(attrs, slog.String("password", c.Password.kind()))
	}
	if c.Provider != nil {
		attrs = append(attrs, slog.String("provider", c.Provider.Type))
	}
	if c.RecoveryQuestion != nil {
		attrs = append(attrs, slog.String("recovery_question", redacted))
	}
	return slog.GroupValue(attrs...)
}

// LogValue keeps the hook's secrets out of slog.
func (h InlineHookCreate) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", h.Name), slog.String("type", h.Type), slog.Any("channel", h.Channel))
}

// LogValue keeps the hook's secrets out of slog.
func (ch InlineHookChannel) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("type", ch.Type)}
	if ch.Config != nil {
		attrs = append(attrs, slog.Any("config", *ch.Config))
	}
	if ch.OAuth != nil {
		attrs = append(attrs, slog.Any("oauth", *ch.OAuth))
	}
	return slog.GroupValue(attrs...)
}

// LogValue keeps the auth secret and the header values out of slog.
func (c InlineHookChannelConfig) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("uri", c.URI), slog.Int("headers", len(c.Headers))}
	if c.AuthScheme != nil {
		attrs = append(attrs, slog.Any("auth_scheme", *c.AuthScheme))
	}
	return slog.GroupValue(attrs...)
}

// Format hides the values of the extra headers, which often carry secrets.
func (h InlineHookHeader) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Key:%s Value:%s}", h.Key, redacted)
}
