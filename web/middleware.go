package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/logging"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// Context keys for values the middleware resolves once per request.
const (
	ctxAccount = "ferry.account"
	ctxProject = "ferry.project"
	ctxRole    = "ferry.role"
	ctxCSRF    = "csrf"

	sessionCookie = "ferry_session"
	csrfCookie    = "ferry_csrf"
	flashCookie   = "ferry_flash"
)

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestContext gives each request an id (echoed in X-Request-Id), puts it
// in the context for logs and the audit log, and logs the request when done.
func (s *Server) requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := newRequestID()
		req := c.Request()
		ctx := logging.WithRequestID(req.Context(), id)
		c.SetRequest(req.WithContext(ctx))
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		// The path only: query strings may carry secrets (the setup link) or PII filters.
		s.log.LogAttrs(ctx, level, "request",
			slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.Int("status", status),
			slog.Duration("duration", time.Since(start)), slog.String("remote_ip", c.RealIP()))
		return nil
	}
}

// securityHeaders sets a strict CSP (no inline script or style), forbids
// framing, and asks browsers not to sniff types or leak referrers.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// session resolves the signed-in account from the session cookie, if any.
// API requests never use cookies: they authenticate with a bearer token.
func (s *Server) session(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isAPI(c) {
			return next(c)
		}
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			a, _, err := s.auth.FindSession(c.Request().Context(), ck.Value)
			switch {
			case err == nil:
				s.setAccount(c, a)
			case apperr.Is(err, apperr.CodeUnauthorized):
				s.clearCookie(c, sessionCookie)
			default:
				return err
			}
		}
		return next(c)
	}
}

func (s *Server) setAccount(c echo.Context, a *auth.Account) {
	c.Set(ctxAccount, a)
	req := c.Request()
	c.SetRequest(req.WithContext(audit.WithActor(req.Context(), audit.Actor{ID: a.ID, Name: a.Name + " <" + a.Email + ">"})))
}

func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		// The extract upload checks the token itself, from the first field
		// of its multipart stream: the middleware would read the file first.
		Skipper:        func(c echo.Context) bool { return isAPI(c) || c.Path() == "/healthz" || c.Path() == uploadRoute },
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.opts.SecureCookies,
		CookieSameSite: http.SameSiteStrictMode,
		ContextKey:     ctxCSRF,
		ErrorHandler:   func(error, echo.Context) error { return errCSRF },
	})
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

// scope says who may reach a route at all.
type scope int

const (
	scopePublic   scope = iota // anyone, signed in or not
	scopeSignedIn              // any signed-in account
	scopeAdmin                 // console admins
	scopeProject               // members (or admins) holding perm in the route's project
)

func (sc scope) String() string {
	return [...]string{"public", "signed-in", "admin", "project"}[sc]
}

// access is the rule a route is registered with.
type access struct {
	scope scope
	perm  auth.Permission
	api   bool
}

func public() access                     { return access{scope: scopePublic} }
func signedIn() access                   { return access{scope: scopeSignedIn} }
func adminOnly() access                  { return access{scope: scopeAdmin} }
func inProject(p auth.Permission) access { return access{scope: scopeProject, perm: p} }
func (a access) forAPI() access          { a.api = true; return a }

// authorize enforces a route's access rule.
func (s *Server) authorize(a access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if a.scope == scopePublic {
				return next(c)
			}
			if a.api {
				if err := s.authenticateAPI(c); err != nil {
					return err
				}
			}
			acct := account(c)
			if acct == nil {
				return apperr.Unauthorized("Please sign in.")
			}
			if !a.api && acct.MustChangePassword && c.Path() != "/account/password" {
				return c.Redirect(http.StatusSeeOther, "/account/password")
			}
			switch a.scope {
			case scopeAdmin:
				if !acct.IsAdmin {
					return apperr.Forbidden("Only admins may manage accounts.")
				}
			case scopeProject:
				if err := s.loadProject(c, acct, a.perm); err != nil {
					return err
				}
			}
			return next(c)
		}
	}
}

func (s *Server) authenticateAPI(c echo.Context) error {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	// The scheme is case-insensitive (RFC 7235): some clients send "bearer".
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return apperr.Unauthorized("Send a personal API token as Authorization: Bearer <token>.")
	}
	a, err := s.auth.AuthenticateToken(c.Request().Context(), token)
	if err != nil {
		return err
	}
	s.setAccount(c, a)
	return nil
}

// loadProject resolves :pid and the account's role there, and checks perm.
// Someone who is neither a member nor an admin is told the project does not
// exist, so that project names do not leak.
func (s *Server) loadProject(c echo.Context, acct *auth.Account, perm auth.Permission) error {
	id, err := strconv.ParseInt(c.Param("pid"), 10, 64)
	if err != nil || id <= 0 {
		return apperr.NotFound("project")
	}
	ctx := c.Request().Context()
	role, err := s.auth.RoleIn(ctx, acct.ID, id)
	if err != nil {
		return err
	}
	if role == "" && !acct.IsAdmin {
		return apperr.NotFound("project")
	}
	p, err := s.plan.FindProjectByID(ctx, id)
	if err != nil {
		return err
	}
	if !auth.Can(acct.IsAdmin, role, perm) {
		return apperr.Forbidden("Your role in this project does not allow this.")
	}
	c.Set(ctxProject, p)
	c.Set(ctxRole, role)
	return nil
}

func account(c echo.Context) *auth.Account {
	a, _ := c.Get(ctxAccount).(*auth.Account)
	return a
}

func project(c echo.Context) *plan.Project {
	p, _ := c.Get(ctxProject).(*plan.Project)
	return p
}

func role(c echo.Context) auth.Role {
	r, _ := c.Get(ctxRole).(auth.Role)
	return r
}

// can reports whether the current account holds perm in the current project.
func can(c echo.Context, perm auth.Permission) bool {
	a := account(c)
	return a != nil && auth.Can(a.IsAdmin, role(c), perm)
}

func (s *Server) setCookie(c echo.Context, name, value string, maxAge time.Duration) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds())})
}

func (s *Server) clearCookie(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// setFlash stores a one-time message for the next page.
func (s *Server) setFlash(c echo.Context, kind, message string) {
	s.setCookie(c, flashCookie, url.QueryEscape(kind+"|"+message), time.Minute)
}

// takeFlash reads and clears the one-time message.
func (s *Server) takeFlash(c echo.Context) (kind, message string) {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return "", ""
	}
	s.clearCookie(c, flashCookie)
	raw, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return "", ""
	}
	kind, message, _ = strings.Cut(raw, "|")
	if kind != "ok" && kind != "warn" && kind != "error" {
		kind = "ok"
	}
	if len(message) > 300 {
		message = message[:300]
	}
	return kind, message
}

// redirectWithFlash finishes a successful POST: Post/Redirect/Get with a message.
func (s *Server) redirectWithFlash(c echo.Context, to, message string) error {
	s.setFlash(c, "ok", message)
	return c.Redirect(http.StatusSeeOther, to)
}
