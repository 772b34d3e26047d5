// Plain words for the named checks of a verification (docs/CREDENTIALS.md
// "The checks", docs/OID4VP.md "What is checked"), and a list renderer
// the verifier's page uses for every result.
'use strict';
window.UrbisChecks = (function () {
  const words = {
    credential: ['The credential is well formed.', 'The credential is not well formed'],
    proof: ['The signature is genuine: the credential is exactly as its issuer signed it.', 'The signature does not verify: the credential was changed, or its issuer did not sign it'],
    issuer: ['The issuer is who it says: its DID resolves and holds the key that signed.', 'The issuer could not be confirmed'],
    accreditation: ['The issuer was accredited by the city for this kind of credential when it issued it.', 'The issuer was not accredited for this kind of credential when it issued it'],
    schema: ['The contents have the form the city registered for this kind of credential.', 'The contents do not have the registered form'],
    validity: ['It is within its validity period.', 'It is not within its validity period'],
    status: ['It has not been revoked or suspended.', 'It has been revoked or suspended, or its status could not be read'],
    presentation: ['The presentation is well formed.', 'The presentation is not well formed'],
    challenge: ['It answers this very request (its one-time nonce), so it is not a replay.', 'It does not answer this request\'s nonce: it may be a replay'],
    domain: ['It was made for this service.', 'It was made for another service'],
    holder: ['The holder signed the presentation.', 'The holder\'s signature does not verify'],
    credentials: ['Every credential in it verifies.', 'A credential in it does not verify'],
    holderBinding: ['The credentials belong to the person who presented them.', 'The credentials are not bound to the person who presented them'],
    format: ['It is in the format asked for.', 'It is not in the format asked for'],
    query: ['It is the kind of credential asked for and shows what was asked.', 'It is not what was asked for'],
    request: ['Everything the request asked for was answered.', 'Not everything the request asked for was answered'],
    wallet: ['The wallet answered.', 'The wallet declined to answer'],
    expiry: ['The wallet answered in time.', 'The request expired before the wallet answered']
  };

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
