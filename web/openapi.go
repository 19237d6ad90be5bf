package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPISpec describes the JSON API under /api/v1. A test checks that it
// names exactly the API routes the server registers.
//
//go:embed openapi.json
var openAPISpec []byte

func (s *Server) openAPIDocument(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPISpec)
}
