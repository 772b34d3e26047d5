package web

import (
	"net/http"

	"github.com/urbis-id/urbis/api"
)

type verifyData struct {
	Templates []api.VPTemplate
}

// verify is the verifier's page: the request templates come from
// GET /verifier/templates; the browser creates the request, shows its QR
// code and polls its status through the REST API with the service's own
// API key, which stays in the page's memory.
func (s *Site) verify(w http.ResponseWriter, r *http.Request) {
	var list api.VPTemplateList
	if err := s.api.get(r, "/verifier/templates", &list); err != nil && !isStatus(err, http.StatusNotImplemented, http.StatusNotFound) {
		s.fail(w, r, err, "/")
		return
	}
	s.render(w, r, http.StatusOK, "verify", page{Title: "Verify", Nav: "verify", Scripts: []string{"checks.js", "verify.js"},
		Data: verifyData{Templates: list.Templates}})
}
