// A list renderer for the named checks of a verification, in the plain
// words web/checks.go gives the page (docs/CREDENTIALS.md "The checks",
// docs/OID4VP.md "What is checked"); the verifier's page uses it for the
// OpenID4VP answers it polls.
'use strict';
window.UrbisChecks = (function () {
  // The words come from the server (web/checks.go), as JSON in the page.
  const el = document.getElementById('check-words');
  const words = el ? JSON.parse(el.textContent) : {};

  function item(cls, title, detail) {
    const li = document.createElement('li');
    li.className = cls;
    li.dataset.check = title.check;
    const strong = document.createElement('strong');
    strong.textContent = title.text;
    li.append(strong);
    if (detail) { li.append(' ' + detail); }
    return li;
  }

  // render fills the list ul with the passed checks, the errors and the
  // warnings of result ({checks, errors, warnings}).
  function render(ul, result) {
    ul.textContent = '';
    (result.checks || []).forEach(function (c) {
      const w = words[c];
      ul.append(item('pass', { check: c, text: w ? w[0] : 'Check “' + c + '” passed.' }));
    });
    (result.errors || []).forEach(function (e) {
      const w = words[e.check];
      const text = (w ? w[1] : 'Check “' + e.check + '” failed') + (e.query ? ' (' + e.query + ')' : '') + ':';
      ul.append(item('fail', { check: e.check, text: text }, e.detail || e.title || ''));
    });
    (result.warnings || []).forEach(function (e) {
      ul.append(item('skip', { check: e.check, text: 'Note on “' + e.check + '”:' }, e.detail || e.title || ''));
    });
  }

  return { render: render };
})();
