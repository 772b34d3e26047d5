// node js/oid4vp-wallet.mjs CASES.json
//
// A wallet built on @openid4vc/openid4vp answers OpenID4VP requests. For
// each case it parses the request URI, fetches the request object at
// request_uri and has the library verify it (client_id
// decentralized_identifier:<did>: the signature must be by a key of that
// DID, which this script resolves for the library, did:key only), answers
// each DCQL credential query it holds a credential for with a
// presentation bound to the request's nonce and client_id, and posts the
// answer to response_uri (direct_post). It prints, for each case,
//   {name, clientId, nonce, answered: [query ids], status, body, error}
// where status and body are the verifier's HTTP answer. A case is
//   {name, request, credentials: [{format, credential, holder: {did, kid,
//    privateJwk}}], otherKey?: true}
// with otherKey signing the holder binding with a fresh key instead of
// the holder's. A request with a presentation_definition (DIF
// Presentation Exchange, the OpenID4VP drafts) is answered with one
// presentation per input descriptor (the first held credential of its
// formats, disclosing the first path of each field) and a
// presentation_submission. Presentations, by the query's format:
//   dc+sd-jwt    the disclosures of the claims the query names and a Key
//                Binding JWT (@sd-jwt/sd-jwt-vc)
//   ldp_vc       a VC 2.0 presentation with an eddsa-rdfc-2022
//                authentication proof, challenge = nonce, domain =
//                client_id (@digitalbazaar/vc)
//   jwt_vc_json  a JWT-VP with nonce and aud = client_id (did-jwt-vc)
import crypto from 'node:crypto';

import {Openid4vpClient} from '@openid4vc/openid4vp';
import {setGlobalConfig} from '@openid4vc/oauth2';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createVerifiablePresentationJwt} from 'did-jwt-vc';
import {EdDSASigner, ES256Signer} from 'did-jwt';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {digest} from '@sd-jwt/crypto-nodejs';

import {
  decodeJwtPart, documentLoader, errorMessage, jwsSign, jwsVerify, keyFromPrivateJwk,
  newEd25519, newP256, printResults, readCases, resolveJwk,
} from './lib.mjs';

// Urbis runs on http://127.0.0.1 in the test.
setGlobalConfig({allowInsecureUrls: true});

// verifyJwt is the verification callback of @openid4vc/oauth2: the
// library says which signer it expects (for a decentralized_identifier
// client, a DID URL of the client's DID); this resolves its key.
async function verifyJwt(signer, {header, compact}) {
  if (signer.method !== 'did') {
    return {verified: false};
  }
  const jwk = await resolveJwk(signer.didUrl);
  const [h, p, sig] = compact.split('.');
  return {verified: jwsVerify(header.alg, jwk, `${h}.${p}`, sig), signerJwk: jwk};
}

const client = new Openid4vpClient({
  callbacks: {
    verifyJwt,
    hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
    generateRandom: n => new Uint8Array(crypto.randomBytes(n)),
  },
});

const now = () => Math.floor(Date.now() / 1000);

// frame turns DCQL claim paths into an @sd-jwt presentation frame.
function frame(claims) {
  const out = {};
  for(const {path} of claims || []) {
    let node = out;
    path.forEach((p, i) => {
      if (p === null) {
        return;
      }
      if (i === path.length - 1 || path[i + 1] === null) {
        node[p] = true;
      } else {
        node[p] = typeof node[p] === 'object' ? node[p] : {};
        node = node[p];
      }
    });
  }
  return out;
}

async function holderKey(c, held) {
  if (!c.otherKey) {
    return keyFromPrivateJwk(held.holder.privateJwk, held.holder.did, held.holder.kid);
  }
  return held.holder.privateJwk.crv === 'P-256' ? newP256() : newEd25519();
}

async function present(c, held, query, request) {
  const key = await holderKey(c, held);
  const alg = key.jwk.crv === 'P-256' ? 'ES256' : 'EdDSA';
  switch (query.format) {
  case 'dc+sd-jwt': {
    const sdjwt = new SDJwtVcInstance({
      hasher: digest, hashAlg: 'sha-256',
      kbSigner: async data => jwsSign(alg, key.privateKey, data), kbSignAlg: alg,
    });
    return sdjwt.present(held.credential, frame(query.claims), {
      kb: {payload: {iat: now(), aud: request.client_id, nonce: request.nonce}},
    });
  }
  case 'ldp_vc': {
    const presentation = {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiablePresentation'],
      holder: held.holder.did,
      verifiableCredential: [held.credential],
    };
    const suite = new DataIntegrityProof({signer: key.multikey.signer(), cryptosuite: eddsaRdfc2022CryptoSuite});
    return vc.signPresentation({
      presentation, suite, documentLoader, challenge: request.nonce, domain: request.client_id,
    });
  }
  case 'jwt_vc_json': {
    const payload = {
      vp: {
        '@context': ['https://www.w3.org/2018/credentials/v1'],
        type: ['VerifiablePresentation'],
        verifiableCredential: [held.credential],
      },
      nonce: request.nonce,
      aud: request.client_id,
    };
    const signer = alg === 'ES256' ? ES256Signer(key.secret) : EdDSASigner(key.secret);
    return createVerifiablePresentationJwt(payload, {did: held.holder.did, signer, alg}, {header: {kid: held.holder.kid}});
  }
  }
  throw new Error(`format ${query.format} is not supported by this wallet`);
}

// holds says whether a held credential answers a credential query.
function holds(held, query) {
  if (held.format !== query.format) {
    return false;
  }
  if (query.format === 'dc+sd-jwt') {
    const vct = decodeJwtPart(held.credential.split('~')[0], 1).vct;
    return !query.meta || !query.meta.vct_values || query.meta.vct_values.includes(vct);
  }
  return true;
}

async function answer(c) {
  const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: c.request});
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params,
  });
  const request = resolved.authorizationRequestPayload;
  let vpToken = {};
  let payload;
  if (resolved.pex) {
    // A DIF Presentation Exchange definition: one presentation per input
    // descriptor, disclosing the fields' paths, and the submission that
    // maps them.
    const def = resolved.pex.presentation_definition;
    const entries = [];
    const answeredIds = [];
    for(const d of def.input_descriptors) {
      const formats = Object.keys(d.format || def.format || {'dc+sd-jwt': {}, 'ldp_vc': {}, 'jwt_vc_json': {}});
      const held = c.credentials.find(h => formats.includes(h.format));
      if (!held) {
        continue;
      }
      const claims = ((d.constraints || {}).fields || []).map(f => ({path: f.path[0].replace(/^\$\.?/, '').split('.')}));
      entries.push({id: d.id, format: held.format, presentation: await present(c, held, {format: held.format, claims}, request)});
      answeredIds.push(d.id);
    }
    const nested = {ldp_vc: ['ldp_vp', '$.verifiableCredential[0]'], jwt_vc_json: ['jwt_vp_json', '$.vp.verifiableCredential[0]']};
    const descriptorMap = entries.map((e, i) => {
      const path = entries.length === 1 ? '$' : `$[${i}]`;
      if (e.format === 'dc+sd-jwt') {
        return {id: e.id, format: 'dc+sd-jwt', path};
      }
      const [vpFormat, nestedPath] = nested[e.format];
      return {id: e.id, format: vpFormat, path, path_nested: {id: e.id, format: e.format, path: nestedPath}};
    });
    vpToken = entries.length === 1 ? entries[0].presentation : entries.map(e => e.presentation);
    payload = {
      vp_token: vpToken,
      presentation_submission: {id: crypto.randomUUID(), definition_id: def.id, descriptor_map: descriptorMap},
    };
    vpToken = Object.fromEntries(answeredIds.map(id => [id, true]));
  } else if (resolved.dcql) {
    for(const query of resolved.dcql.query.credentials) {
      const held = c.credentials.find(h => holds(h, query));
      if (held) {
        vpToken[query.id] = [await present(c, held, query, request)];
      }
    }
    payload = {vp_token: vpToken};
  } else {
    throw new Error('the request has neither dcql_query nor presentation_definition');
  }
  const {authorizationResponsePayload} = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: payload,
  });
  const {response} = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request, authorizationResponsePayload,
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return {
    clientId: request.client_id, nonce: request.nonce, signer: resolved.jar && resolved.jar.signer.didUrl,
    answered: Object.keys(vpToken), status: response.status, body,
  };
}

const {single, cases} = readCases();
const results = [];
for(const c of cases) {
  let out;
  try {
    out = {...await answer(c), error: null};
  } catch(e) {
    out = {error: errorMessage(e) + (e.errorResponse ? `: ${JSON.stringify(e.errorResponse)}` : '')};
  }
  results.push({name: c.name, ...out});
}
printResults(single, results);
