// The verifier's page: checks the service's API key and creates an
// OpenID4VP presentation request through this site's POST /verify/key
// and POST /verify/requests (the server calls GET /dids and
// POST /verifier/requests with the key and answers 200 with the API's
// answer or what is wrong, so a wrong key or parameter is a message on
// the page, not a failed fetch in the browser's console). Then it shows
// the QR code, polls GET /verifier/requests/{id} with the key (kept only
// in this page's memory) until the wallet answers, and shows each check
// in plain words. (The paste box is a plain form the server answers.)
'use strict';
(function () {
  let apiKey = '';
  const $ = function (id) { return document.getElementById(id); };
  const form = $('vp-form');
  const keyInput = $('api-key');
  const didSelect = $('vp-did');
  const templateSelect = $('vp-template');
  const errorBox = $('vp-error');
  let polling = null;

  function problemText(body, status) {
    if (body && (body.detail || body.title)) { return (body.title ? body.title + ': ' : '') + (body.detail || ''); }
    return 'the service answered ' + status;
  }
  // call calls url; the API's own routes get the key as the Bearer token.
  async function call(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (apiKey && url.indexOf('/verify/') !== 0) { headers.Authorization = 'Bearer ' + apiKey; }
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    const resp = await fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit' });
    const data = await resp.json().catch(function () { return null; });
    return { ok: resp.ok, status: resp.status, data: data };
  }
  function showError(text) {
    errorBox.textContent = text;
    errorBox.classList.remove('hidden');
  }
  function clearError() { errorBox.classList.add('hidden'); errorBox.textContent = ''; }

  function showParams() {
    document.querySelectorAll('fieldset.params').forEach(function (fs) {
      fs.classList.toggle('hidden', fs.dataset.template !== templateSelect.value);
    });
  }
  templateSelect.addEventListener('change', showParams);
  showParams();

  // ask posts body with the key to one of this site's /verify routes;
  // the answer is {problem, field} or the API's answer.
  async function ask(url, body) {
    body.key = apiKey;
    const r = await call('POST', url, body);
    if (!r.ok || !r.data) { return { problem: problemText(r.data, r.status) }; }
    return r.data;
  }

  // loadDIDs checks the key once and lists its active DIDs; while a
  // check of the same key is under way it waits for that one.
  let checked = { key: null, promise: null };
  function loadDIDs() {
    const key = keyInput.value.trim();
    if (key !== checked.key || checked.promise === null) {
      checked = { key: key, promise: listDIDs(key) };
    }
    return checked.promise;
  }
  async function listDIDs(key) {
    apiKey = key;
    didSelect.textContent = '';
    keyInput.removeAttribute('aria-invalid');
    if (!apiKey) { didSelect.append(new Option('Enter the API key to list your DIDs', '')); return; }
    const r = await ask('/verify/key', {});
    if (r.problem) {
      didSelect.append(new Option('No DIDs: the API key was not accepted', ''));
      if (r.field === 'key') { keyInput.setAttribute('aria-invalid', 'true'); }
      showError(r.problem);
      checked.promise = null;
      return;
    }
    clearError();
    const active = r.dids || [];
    if (active.length === 0) { didSelect.append(new Option('This service has no active DID: create one first', '')); }
    active.forEach(function (d) { didSelect.append(new Option(d.did + ' (' + d.method + ')', d.did)); });
  }
  keyInput.addEventListener('change', function () { loadDIDs(); });

  function setVerdict(cls, text) {
    const v = $('vp-verdict');
    v.className = 'verdict ' + cls;
    v.textContent = text;
  }

  function showClaims(claims) {
    const box = $('vp-claims');
    box.textContent = '';
    if (!claims) { return; }
    const h = document.createElement('h3');
    h.textContent = 'What the wallet showed (only what was asked for)';
    const dl = document.createElement('dl');
    dl.className = 'fields';
    Object.keys(claims).forEach(function (q) {
      (claims[q] || []).forEach(function (c) {
        (c.claims || []).forEach(function (cl) {
          const dt = document.createElement('dt');
          dt.textContent = (cl.path || []).join('.');
          const dd = document.createElement('dd');
          dd.textContent = typeof cl.value === 'string' ? cl.value : JSON.stringify(cl.value);
          dl.append(dt, dd);
        });
        const dt = document.createElement('dt');
        dt.textContent = 'issued by';
        const dd = document.createElement('dd');
        dd.textContent = c.issuer + ' (' + (c.types || []).join(', ') + ', ' + c.format + ')';
        dl.append(dt, dd);
      });
    });
    box.append(h, dl);
  }

  async function poll(id) {
    const r = await call('GET', '/verifier/requests/' + encodeURIComponent(id));
    if (!r.ok) {
      setVerdict('bad', 'The request\'s status could not be read: ' + problemText(r.data, r.status));
      stopPolling();
      return;
    }
    const res = r.data;
    if (res.status === 'pending') { return; }
    stopPolling();
    window.UrbisChecks.render($('vp-checks'), res);
    if (res.status === 'verified') {
      setVerdict('ok', 'Verified: the wallet\'s answer passed every check.');
      showClaims(res.verifiedClaims);
    } else {
      setVerdict('bad', 'Not verified: ' + ((res.errors && res.errors[0]) ? res.errors[0].detail : 'the answer failed a check') + '.');
    }
  }
  function stopPolling() {
    if (polling !== null) { window.clearInterval(polling); polling = null; }
  }

  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    clearError();
    stopPolling();
    apiKey = keyInput.value.trim();
    if (!apiKey) { showError('Enter your service\'s API key.'); keyInput.focus(); return; }
    await loadDIDs();
    if (!errorBox.classList.contains('hidden')) { keyInput.focus(); return; }
    if (!didSelect.value) { showError('Choose the DID that signs the request.'); didSelect.focus(); return; }
    const params = {};
    const fs = document.querySelector('fieldset.params[data-template="' + templateSelect.value + '"]');
    if (fs) {
      fs.querySelectorAll('input[data-param]').forEach(function (i) { if (i.value.trim() !== '') { params[i.dataset.param] = i.value.trim(); } });
    }
    const r = await ask('/verify/requests', { did: didSelect.value, template: templateSelect.value, params: params });
    if (r.problem) { showError('The request was not created: ' + r.problem); return; }
    const req = r.request;
    // The server renders the QR code when the image is fetched; the page
    // loads the path of qrUrl on its own origin (the Content-Security-Policy
    // allows images from 'self').
    $('vp-qr').src = new URL(req.qrUrl).pathname;
    $('vp-uri').href = req.uri;
    $('vp-id').textContent = req.id;
    $('vp-id').dataset.uri = req.uri;
    $('vp-expires').textContent = new Date(req.expiresAt).toLocaleString();
    $('vp-checks').textContent = '';
    $('vp-claims').textContent = '';
    setVerdict('wait', 'Waiting for the wallet… Scan the QR code with it.');
    $('vp-request').classList.remove('hidden');
    polling = window.setInterval(function () { poll(req.id); }, 1500);
  });
})();
