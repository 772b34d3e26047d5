// Checks a registry inclusion proof in the browser, with WebCrypto:
// the operation's hash, its Merkle path (RFC 6962/9162) to the block's
// operations root, the block header's hash against the block this
// registry serves, and, given a validator key from the reader's own
// genesis.json, the validator's Ed25519 signature of the header (a block
// made by CometBFT carries its commit instead, which
// `urbis registry check-proof` checks, not this page).
'use strict';
(function () {
  const section = document.getElementById('proof-check');
  if (!section) { return; }
  const button = document.getElementById('check-proof');
  const verdict = document.getElementById('proof-verdict');
  const list = document.getElementById('proof-checks');
  const keyInput = document.getElementById('validator-key');
  const pasted = document.getElementById('proof-json');
  const expectedHash = section.dataset.hash || '';
  const utf8 = new TextEncoder();

  function toHex(bytes) {
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }
  function isHash(s) { return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s); }
  function fromHex(s) {
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) { out[i] = parseInt(s.substr(2 * i, 2), 16); }
    return out;
  }
  // hashBytes is registry.hashBytes: a hex hash's bytes, else the text's.
  function hashBytes(s) { return isHash(s) ? fromHex(s) : utf8.encode(s); }
  function concat(parts) {
    let n = 0;
    parts.forEach(function (p) { n += p.length; });
    const out = new Uint8Array(n);
    let o = 0;
    parts.forEach(function (p) { out.set(p, o); o += p.length; });
    return out;
  }
  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }
  function leaf(opHash) { return sha256(concat([Uint8Array.of(0), hashBytes(opHash)])); }
  function node(l, r) { return sha256(concat([Uint8Array.of(1), l, r])); }

  // verifyPath is RFC 9162 section 2.1.3.2, as registry.verifyPath.
  async function verifyPath(opHash, index, size, path, root) {
    if (path === null || path === undefined) { path = []; }
    if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size || !Array.isArray(path)) { return false; }
    let r = await leaf(opHash);
    let fn = index;
    let sn = size - 1;
    for (const p of path) {
      if (!isHash(p) || sn === 0) { return false; }
      const pb = fromHex(p);
      if (fn % 2 === 1 || fn === sn) {
        r = await node(pb, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await node(r, pb);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && toHex(r) === root;
  }

  // headerBytes is the canonical encoding the registry hashes: Go's
  // encoding/json of the Header struct, fields in declaration order.
  // consensusHeight (urbis node) is omitted when zero, as Go omits it.
  function headerBytes(h) {
    const fields = {
      chain: h.chain, height: h.height, previous: h.previous, time: h.time,
      opCount: h.opCount, opsRoot: h.opsRoot, stateRoot: h.stateRoot, proposer: h.proposer
    };
    if (h.consensusHeight) { fields.consensusHeight = h.consensusHeight; }
    const text = JSON.stringify(fields).replace(/[<>&\u2028\u2029]/g, function (c) { return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'); });
    return utf8.encode(text);
  }

  function b64urlDecode(s) {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(b, function (c) { return c.charCodeAt(0); });
  }
  const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  function base58(s) {
    const bytes = [0];
    for (const ch of s) {
      let carry = B58.indexOf(ch);
      if (carry < 0) { throw new Error('not base58'); }
      for (let i = 0; i < bytes.length; i++) { carry += bytes[i] * 58; bytes[i] = carry & 0xff; carry >>= 8; }
      while (carry > 0) { bytes.push(carry & 0xff); carry >>= 8; }
    }
    for (const ch of s) { if (ch === '1') { bytes.push(0); } else { break; } }
    return Uint8Array.from(bytes.reverse());
  }
  // ed25519Multikey decodes a Multikey (z + base58btc of 0xed 0x01 + 32 bytes).
  function ed25519Multikey(s) {
    if (!s.startsWith('z')) { throw new Error('a Multikey starts with z'); }
    const b = base58(s.slice(1));
    if (b.length !== 34 || b[0] !== 0xed || b[1] !== 0x01) { throw new Error('not an Ed25519 Multikey'); }
    return b.slice(2);
  }

  function show(checks) {
    list.textContent = '';
    checks.forEach(function (c) {
      const li = document.createElement('li');
      li.className = c.result;
      const strong = document.createElement('strong');
      strong.textContent = c.name + ': ';
      li.append(strong, c.text);
      list.append(li);
    });
    const failed = checks.filter(function (c) { return c.result === 'fail'; });
    const passed = checks.filter(function (c) { return c.result === 'pass'; });
    const skipped = checks.filter(function (c) { return c.result === 'skip'; });
    if (failed.length > 0) {
      verdict.className = 'verdict bad';
      verdict.textContent = 'The proof does not check: ' + failed[0].name.toLowerCase() + ' failed.';
    } else {
      verdict.className = 'verdict ok';
      verdict.textContent = 'The proof checks: ' + passed.length + ' of ' + checks.length + ' checks passed in this browser' +
        (skipped.length ? ' (' + skipped.map(function (c) { return c.name.toLowerCase(); }).join(', ') + ' not checked).' : '.');
    }
  }

  async function getJSON(url) {
    const resp = await fetch(url, { headers: { Accept: 'application/json' } });
    const body = await resp.json().catch(function () { return {}; });
    if (!resp.ok) { throw new Error(url + ': ' + (body.detail || body.title || resp.status)); }
    return body;
  }

  async function check(proof) {
    const checks = [];
    const add = function (name, ok, text) { checks.push({ name: name, result: ok === null ? 'skip' : (ok ? 'pass' : 'fail'), text: text }); };
    const h = proof.header || {};
    // 1. The operation hashes to the proof's hash.
    const opHash = toHex(await sha256(utf8.encode(String(proof.operation || ''))));
    add('Operation hash', opHash === proof.hash && (!expectedHash || opHash === expectedHash),
      opHash === proof.hash
        ? 'the signed operation hashes (SHA-256) to ' + opHash + (expectedHash && opHash !== expectedHash ? ', not to the operation this page is about' : '') + '.'
        : 'the signed operation hashes to ' + opHash + ', not to the proof\'s ' + proof.hash + ': the operation or the hash was altered.');
    // 2. The operation is of the block's chain.
    let op = null;
    try { op = JSON.parse(new TextDecoder().decode(b64urlDecode(String(proof.operation).split('.')[1]))); } catch (e) { op = null; }
    add('Operation', op !== null && op.chain === h.chain,
      op === null ? 'the operation is not a readable signed operation.'
        : (op.chain === h.chain ? 'a ' + op.kind + ' signed by ' + op.signer + ' for chain ' + op.chain + '.'
          : 'it is for chain ' + op.chain + ', but the block is of chain ' + h.chain + '.'));
    // 3. The Merkle path leads to the block's operations root.
    const pathOK = await verifyPath(proof.hash, proof.index, h.opCount, proof.path, h.opsRoot);
    add('Merkle path', pathOK, pathOK
      ? 'from the operation at position ' + proof.index + ' of ' + h.opCount + ', ' + (proof.path || []).length + ' hashes lead to the block\'s operations root ' + h.opsRoot + '.'
      : 'the path does not lead from the operation at position ' + proof.index + ' to the operations root ' + h.opsRoot + '.');
    // 4. The header is the block this registry serves at that height.
    const headerHash = await sha256(headerBytes(h));
    let block = null;
    try { block = await getJSON('/registry/blocks/' + encodeURIComponent(h.height)); } catch (e) { block = null; }
    const sameBlock = block !== null && block.hash === toHex(headerHash) && block.header.opsRoot === h.opsRoot;
    add('Block header', sameBlock, block === null
      ? 'this registry has no block ' + h.height + '.'
      : (sameBlock ? 'the header hashes to ' + toHex(headerHash) + ', the hash of block ' + h.height + ' as this registry serves it.'
        : 'the header hashes to ' + toHex(headerHash) + ', but block ' + h.height + ' of this registry has hash ' + block.hash + '.'));
    // 5. A validator's signature, with the key the reader trusts. A block
    // made by CometBFT carries none: its commit vouches for it.
    const key = keyInput ? keyInput.value.trim() : '';
    if (proof.consensus && (proof.signatures || []).length === 0) {
      add('Validator signature', null, 'not checked in this browser: block ' + h.height + ' was made by CometBFT (consensus height ' +
        h.consensusHeight + '), and the proof carries its commit, signed by more than two thirds of the validators\' voting power; ' +
        'check it offline with urbis registry check-proof and your own copy of the genesis.');
    } else if (!key) {
      add('Validator signature', null, 'not checked: give the proposer\'s public key from your own copy of genesis.json above; this page does not take the key from the server it is checking.');
    } else {
      let ok = false;
      let text = '';
      try {
        const k = await crypto.subtle.importKey('raw', ed25519Multikey(key), { name: 'Ed25519' }, false, ['verify']);
        for (const s of (proof.signatures || [])) {
          if (await crypto.subtle.verify({ name: 'Ed25519' }, k, b64urlDecode(s.signature), headerHash)) {
            ok = true;
            text = 'validator ' + s.validator + ' signed the header with the key you gave (Ed25519).';
            break;
          }
        }
        if (!ok) { text = 'none of the ' + (proof.signatures || []).length + ' signatures verifies with the key you gave.'; }
      } catch (e) {
        text = 'the key could not be used: ' + e.message + '.';
      }
      add('Validator signature', ok, text);
    }
    show(checks);
  }

  async function run() {
    verdict.className = 'verdict wait';
    verdict.textContent = 'Checking…';
    list.textContent = '';
    let proof;
    try {
      if (pasted) {
        proof = JSON.parse(pasted.value);
      } else {
        proof = await getJSON('/registry/operations/' + expectedHash + '/proof');
      }
    } catch (e) {
      verdict.className = 'verdict bad';
      verdict.textContent = pasted ? 'That is not proof JSON: ' + e.message : 'The proof could not be fetched: ' + e.message;
      return;
    }
    if (!proof || typeof proof !== 'object' || !proof.header) {
      verdict.className = 'verdict bad';
      verdict.textContent = 'That is not an inclusion proof: it has no block header.';
      return;
    }
    try {
      await check(proof);
    } catch (e) {
      verdict.className = 'verdict bad';
      verdict.textContent = 'The proof could not be checked: ' + e.message;
    }
  }

  // The Merkle check, for tests that compare it with the registry's own.
  window.UrbisProof = { verifyPath: verifyPath };

  button.addEventListener('click', function () { run(); });
  if (!pasted) { run(); }
})();
