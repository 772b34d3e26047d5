package urbis

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/urbis-id/urbis"

// domainPackages are the packages that hold types and behaviour and must
// stay free of transport and persistence.
var domainPackages = []string{"did", "vc", "vc/ld", "vc/dataintegrity", "vc/bbs", "vc/statuslist", "vc/sdjwt", "vc/jwtvc", "vc/issuer", "vc/oid4vci", "registry", "verifiers", "verifiers/oid4vp", "wallet", "kms", "internal/agency", "internal/errkind", "civic", "civic/land", "civic/provenance", "civic/currency", "civic/energy", "civic/vote", "internal/chainop", "internal/edsig", "internal/ttlcache"}

// forbiddenForDomain are import paths (or prefixes ending in "/") that a
// domain package must not import.
var forbiddenForDomain = []string{
	"github.com/gin-gonic/",
	"gorm.io/",
	"github.com/glebarez/",
	"github.com/jackc/",
	"net/http/httptest",
	module + "/api",
	module + "/web",
	module + "/cmd/",
	module + "/internal/store",
}

// serverIdents are the net/http identifiers that belong to serving HTTP.
var serverIdents = map[string]bool{
	"Server": true, "Handler": true, "HandlerFunc": true, "ResponseWriter": true,
	"ServeMux": true, "NewServeMux": true, "ListenAndServe": true, "ListenAndServeTLS": true,
	"Serve": true, "ServeTLS": true, "Hijacker": true, "Flusher": true,
}

// extraRules are per-package bans on top of the domain rule.
var extraRules = map[string][]string{
	"api":              {"gorm.io/", "github.com/glebarez/", module + "/internal/store"},
	"web":              {"gorm.io/", "github.com/glebarez/", module + "/internal/store"},
	"did":              {module + "/registry", module + "/vc", module + "/kms"},
	"kms":              {module + "/did"},
	"internal/errkind": {module + "/"},
}

// violations lists the rule breaks in the non-test Go files of dir.
func violations(t *testing.T, dir string, banned []string, noServer bool) []string {
	t.Helper()
	var out []string
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		httpName := ""
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if path == strings.TrimSuffix(b, "/") || (strings.HasSuffix(b, "/") && strings.HasPrefix(path, b)) {
					out = append(out, f+" imports "+path)
				}
			}
			if path == "net/http" {
				httpName = "http"
				if imp.Name != nil {
					httpName = imp.Name.Name
				}
			}
		}
		if noServer && httpName != "" {
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == httpName && serverIdents[sel.Sel.Name] {
					out = append(out, f+" uses http."+sel.Sel.Name+" (server code)")
				}
				return true
			})
		}
	}
	sort.Strings(out)
	return out
}

func TestDomainPackagesStayOutOfTransportAndStorage(t *testing.T) {
	for _, pkg := range domainPackages {
		t.Run(pkg, func(t *testing.T) {
			if _, err := os.Stat(pkg); err != nil {
				t.Fatalf("domain package %s is missing: %v", pkg, err)
			}
			if v := violations(t, pkg, append(forbiddenForDomain, extraRules[pkg]...), true); len(v) > 0 {
				t.Errorf("got layering violations:\n%s\nwant none: domain packages declare interfaces; adapters live in api/ and internal/store/", strings.Join(v, "\n"))
			}
		})
	}
	for pkg, banned := range extraRules {
		t.Run("extra/"+pkg, func(t *testing.T) {
			if v := violations(t, pkg, banned, false); len(v) > 0 {
				t.Errorf("got layering violations:\n%s\nwant none", strings.Join(v, "\n"))
			}
		})
	}
}

// TestLayeringCheckCatchesViolations proves the check above can fail.
func TestLayeringCheckCatchesViolations(t *testing.T) {
	dir := t.TempDir()
	bad := `package bad

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
)

var _ *gin.Engine
var _ *gorm.DB
var _ http.Handler
`
	if err := os.WriteFile(filepath.Join(dir, "bad.go"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad_test.go"), []byte("package bad\n\nimport _ \"net/http/httptest\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := violations(t, dir, forbiddenForDomain, true)
	if len(got) != 3 {
		t.Fatalf("got %d violations %q; want 3 (gin, gorm, http.Handler; test files exempt)", len(got), got)
	}
}
