package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"time"
)

// The embedded static assets (CSS, JavaScript, icons), served with their
// content hash in the URL and a year of caching.

// staticFile is one embedded asset with its precomputed headers.
type staticFile struct {
	body    []byte
	ctype   string
	etag    string
	version string
}

// staticFiles are the assets under static/, loaded once.
var staticFiles = loadStatic()

func loadStatic() map[string]staticFile {
	types := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
		".svg": "image/svg+xml",
	}
	out := map[string]staticFile{}
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		ct, ok := types[path.Ext(e.Name())]
		if !ok {
			panic("ui: no content type for static/" + e.Name())
		}
		sum := sha256.Sum256(b)
		v := hex.EncodeToString(sum[:6])
		out[e.Name()] = staticFile{body: b, ctype: ct, etag: `"` + v + `"`, version: v}
	}
	return out
}

// staticURL is the URL of an asset with its content hash, so that the
// year-long cache never serves a stale file after an upgrade.
func staticURL(name string) (string, error) {
	f, ok := staticFiles[name]
	if !ok {
		return "", fmt.Errorf("ui: no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.version, nil
}

// ServeStatic serves an embedded asset with an explicit content type
// (nosniff is on) and long-lived caching.
func ServeStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := staticFiles[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
