// Package static embeds Ferry's CSS, JavaScript and images and serves them
// under content-hashed URLs, so that browsers may cache them for a year and
// still fetch a changed file at once.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed css js img
var files embed.FS

// Assets maps file names to their hashed URLs and serves them.
type Assets struct {
	prefix string
	hashes map[string]string // "css/app.css" -> "3f2a1b9c"
}

// New hashes every embedded file; prefix is the URL path they are served under ("/static").
func New(prefix string) (*Assets, error) {
	a := &Assets{prefix: strings.TrimRight(prefix, "/"), hashes: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[p] = hex.EncodeToString(sum[:4])
		return nil
	})
	return a, err
}

// URL returns the cache-busting URL of name ("css/app.css"). An unknown name
// still gets a URL, which answers 404, so that a typo shows up in tests.
func (a *Assets) URL(name string) string {
	h, ok := a.hashes[name]
	if !ok {
		h = "missing"
	}
	return a.prefix + "/" + h + "/" + name
}

// Handler serves /PREFIX/HASH/NAME. A stale hash still gets the current file
// (a page cached during a deploy keeps its styles), but only the current hash
// is cached for long.
func (a *Assets) Handler() http.Handler {
	fileServer := http.FileServerFS(files)
	return http.StripPrefix(a.prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		name = path.Clean(name)
		current, known := a.hashes[name]
		if !ok || !known {
			http.NotFound(w, r)
			return
		}
		if hash == current {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		fileServer.ServeHTTP(w, r2)
	}))
}
