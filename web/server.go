// Package web is Ferry's HTTP layer: the echo server, every route (in
// routes.go), one handler file per resource, the middleware for sessions,
// CSRF, access control and request logging, the render helper and the central
// error handler. It knows HTTP, not SQL: it calls the domain services.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/static"
)

// AuthService is what the web layer needs of accounts, sessions and tokens.
type AuthService interface {
	CountAccounts(ctx context.Context) (int64, error)
	CreateAccount(ctx context.Context, in auth.AccountInput) (*auth.Account, error)
	FindAccountByID(ctx context.Context, id int64) (*auth.Account, error)
	FindAccounts(ctx context.Context) ([]auth.Account, error)
	UpdateAccount(ctx context.Context, id, version int64, upd auth.AccountUpdate) (*auth.Account, error)
	ResetPassword(ctx context.Context, id int64, password string) error
	ChangePassword(ctx context.Context, id int64, current, password string) error
	SetupSecretValid(secret string) bool
	CreateFirstAdmin(ctx context.Context, secret string, in auth.AccountInput) (*auth.Account, error)
	SignIn(ctx context.Context, email, password, userAgent, remoteIP string) (string, *auth.Account, error)
	FindSession(ctx context.Context, token string) (*auth.Account, *auth.Session, error)
	SignOut(ctx context.Context, token string) error
	CreateAPIToken(ctx context.Context, accountID int64, name string) (string, *auth.APIToken, error)
	FindAPITokens(ctx context.Context, accountID int64) ([]auth.APIToken, error)
	RevokeAPIToken(ctx context.Context, accountID, tokenID int64) error
	AuthenticateToken(ctx context.Context, value string) (*auth.Account, error)
	RoleIn(ctx context.Context, accountID, projectID int64) (auth.Role, error)
	RolesOf(ctx context.Context, accountID int64) (map[int64]auth.Role, error)
	FindMembers(ctx context.Context, projectID int64) ([]auth.Membership, error)
	AddMember(ctx context.Context, projectID int64, email string, role auth.Role) (*auth.Membership, error)
	UpdateMemberRole(ctx context.Context, projectID, membershipID, version int64, role auth.Role) error
	RemoveMember(ctx context.Context, projectID, membershipID int64) error
	IsMember(ctx context.Context, projectID, accountID int64) (bool, error)
}

// PlanService is what the web layer needs of the project inventory.
type PlanService interface {
	CreateProject(ctx context.Context, leadID int64, in plan.ProjectInput) (*plan.Project, error)
	FindProjectByID(ctx context.Context, id int64) (*plan.Project, error)
	FindProjects(ctx context.Context, ids []int64) ([]plan.Project, error)
	UpdateProject(ctx context.Context, id, version int64, in plan.ProjectInput) (*plan.Project, error)
	DeleteProject(ctx context.Context, id int64, confirmName string) error
	FindInventory(ctx context.Context, projectID int64) (*plan.Inventory, error)

	CreateUserType(ctx context.Context, projectID int64, in plan.UserTypeInput) (*plan.UserType, error)
	FindUserTypeByID(ctx context.Context, projectID, id int64) (*plan.UserType, error)
	FindUserTypes(ctx context.Context, projectID int64) ([]plan.UserType, error)
	UpdateUserType(ctx context.Context, projectID, id, version int64, in plan.UserTypeInput) (*plan.UserType, error)
	DeleteUserType(ctx context.Context, projectID, id int64) error

	CreateSource(ctx context.Context, projectID int64, in plan.SourceInput) (*plan.Source, error)
	FindSourceByID(ctx context.Context, projectID, id int64) (*plan.Source, error)
	FindSources(ctx context.Context, projectID int64) ([]plan.Source, error)
	SourceNames(ctx context.Context, projectID int64) (map[int64]string, error)
	UpdateSource(ctx context.Context, projectID, id, version int64, in plan.SourceInput) (*plan.Source, error)
	DeleteSource(ctx context.Context, projectID, id int64) error

	CreateApplication(ctx context.Context, projectID int64, in plan.ApplicationInput) (*plan.Application, error)
	FindApplicationByID(ctx context.Context, projectID, id int64) (*plan.Application, error)
	FindApplications(ctx context.Context, projectID int64) ([]plan.Application, error)
	UpdateApplication(ctx context.Context, projectID, id, version int64, in plan.ApplicationInput) (*plan.Application, error)
	DeleteApplication(ctx context.Context, projectID, id int64) error

	FindGoals(ctx context.Context, projectID int64) (*plan.Goals, error)
	UpdateGoals(ctx context.Context, projectID, version int64, in plan.GoalsInput) (*plan.Goals, error)
}

// AuditReader reads the audit log.
type AuditReader interface {
	FindEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, bool, error)
	FindActors(ctx context.Context, projectID int64) ([]audit.ActorOption, error)
}

// HealthChecker reports whether the database answers.
type HealthChecker interface {
	Ping(ctx context.Context) error
}

// Options configure the server.
type Options struct {
	// SecureCookies sets the Secure flag on cookies (browsers accept it on http://localhost too).
	SecureCookies bool
	SessionTTL    time.Duration
	Version       string
	// PublicURL is the address people and Okta reach the console at
	// (FERRY_BASE_URL); empty: the request's own scheme and host.
	PublicURL string
	// MaxBodyBytes caps form and JSON request bodies.
	MaxBodyBytes int64
	// MaxUploadBytes caps spreadsheet uploads (matrix imports).
	MaxUploadBytes int64
	// MaxExtractBytes caps extract uploads (CSV, LDIF, JSON), which are
	// spooled to a file (never held in memory) and staged by a job.
	MaxExtractBytes int64
	// DataDir is Ferry's data directory: uploads are spooled to its
	// uploads/ directory until their staging job ends.
	DataDir string
}

// Services are the domain services the handlers call.
type Services struct {
	Auth    AuthService
	Plan    PlanService
	Audit   AuditReader
	Health  HealthChecker
	Schema  SchemaService
	Mapping MappingService
	Privacy PrivacyService
	Staging StagingService
	Quality QualityService
	Jobs    JobService
	// Orgs keeps the projects' Okta org connections; OrgChecker, when set,
	// checks one (the page says the check is not available without it).
	Orgs       OrgService
	OrgChecker OrgChecker
	// Credentials keeps the sources' password settings and proves them.
	Credentials CredentialService
	// Defects keeps the projects' defect logs.
	Defects DefectService
	// Loads runs test batches, loads and rollbacks; LoadRunner works on
	// them in this process.
	Loads      LoadService
	LoadRunner LoadRunner
	// Documents are the plan versions and the facts the plan documents show.
	Documents Documents
	// PasswordHook answers Okta's password import inline hook (nil: the
	// endpoint answers 404); HookSettings keeps its settings and its
	// registration in the org (nil: the settings page says it is missing).
	PasswordHook PasswordHook
	HookSettings HookSettings
	// Program is the migration program around the hook: its dashboard and
	// its end (nil: the program pages answer 404).
	Program ProgramService
}

// Server is the console's HTTP server.
type Server struct {
	echo    *echo.Echo
	auth    AuthService
	plan    PlanService
	audit   AuditReader
	health  HealthChecker
	schema  SchemaService
	mapping MappingService
	privacy PrivacyService
	staging StagingService
	quality QualityService
	jobs    JobService
	orgs    OrgService
	checker OrgChecker
	creds   CredentialService
	defects DefectService
	loads   LoadService
	runner  LoadRunner
	// documents makes the plan documents and keeps the plan versions.
	documents Documents
	hook      PasswordHook
	hookAdmin HookSettings
	program   ProgramService
	assets    *static.Assets
	log       *slog.Logger
	opts      Options
	// access records the access rule of every route, keyed "METHOD path".
	access map[string]access
}

// New builds the server and registers every route.
func New(svc Services, assets *static.Assets, logger *slog.Logger, opts Options) *Server {
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxUploadBytes == 0 {
		opts.MaxUploadBytes = 10 << 20
	}
	if opts.MaxExtractBytes == 0 {
		opts.MaxExtractBytes = 2 << 30
	}
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(os.TempDir(), "ferry")
	}
	s := &Server{auth: svc.Auth, plan: svc.Plan, audit: svc.Audit, health: svc.Health, schema: svc.Schema, mapping: svc.Mapping,
		privacy: svc.Privacy, staging: svc.Staging, quality: svc.Quality, jobs: svc.Jobs, orgs: svc.Orgs, checker: svc.OrgChecker, creds: svc.Credentials, defects: svc.Defects, loads: svc.Loads, runner: svc.LoadRunner, documents: svc.Documents, hook: svc.PasswordHook, hookAdmin: svc.HookSettings, assets: assets, log: logger, opts: opts, access: map[string]access{}}
	s.program = svc.Program
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	s.echo = e
	s.routes()
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Echo exposes the router (for tests that list the routes).
func (s *Server) Echo() *echo.Echo { return s.echo }

// AccessRule reports the access rule registered for a route, for tests.
func (s *Server) AccessRule(method, path string) (scope string, perm auth.Permission, ok bool) {
	a, ok := s.access[method+" "+path]
	return a.scope.String(), a.perm, ok
}
