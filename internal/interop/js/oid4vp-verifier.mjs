// node js/oid4vp-verifier.mjs CASES.json
//
// A verifier built on @openid4vc/openid4vp asks a wallet for
// credentials. It makes a fresh Ed25519 did:key, serves on a loopback
// port, and for each case creates an OpenID4VP 1.0 request with the
// library: client_id decentralized_identifier:<did>, a request object
// signed with the DID's key (JAR, by reference: request_uri), response_mode
// direct_post, the case's DCQL query (or, for a case with a
// presentation_definition, a request of the drafts with Presentation
// Exchange: client_id the DID, and the answer's presentation_submission
// checked). It prints one line per case,
//   {"name", "uri"}
// (the openid4vp:// URI for the wallet), then, when every request is
// answered or after 60 s, one line with the results, for each case
//   {name, answered, verified, presentations: {queryId: [{format,
//    verified, error, claims}]}, error}
// The library parses and validates the direct_post answer against the
// request (state, the DCQL query ids); each presentation is then checked
// with js/verify.mjs against the request's nonce and client_id. A case is
//   {name, dcql_query} or {name, presentation_definition}
import crypto from 'node:crypto';
import http from 'node:http';

import {Openid4vpVerifier} from '@openid4vc/openid4vp';
import {setGlobalConfig} from '@openid4vc/oauth2';

import {decodeJwtPart, errorMessage, jwsSign, newEd25519, readCases} from './lib.mjs';
import {verify} from './verify.mjs';

setGlobalConfig({allowInsecureUrls: true});

const key = await newEd25519();
const clientId = `decentralized_identifier:${key.did}`;

const verifier = new Openid4vpVerifier({
  callbacks: {
    hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
    signJwt: async (signer, {header, payload}) => {
      if (signer.method !== 'did' || signer.didUrl !== key.kid) {
        throw new Error(`no key for signer ${JSON.stringify(signer)}`);
      }
      const enc = v => Buffer.from(JSON.stringify(v)).toString('base64url');
      const input = `${enc(header)}.${enc(payload)}`;
      return {jwt: `${input}.${jwsSign(header.alg, key.privateKey, input)}`, signerJwk: key.jwk};
    },
    // The answers come by direct_post: nothing to decrypt or verify here.
    verifyJwt: async () => ({verified: false}),
  },
});

// The presentation format of a DCQL credential format.
const presentationFormat = {'dc+sd-jwt': 'dc+sd-jwt', 'ldp_vc': 'ldp_vp', 'jwt_vc_json': 'jwt_vp_json'};

const {cases} = readCases();
const sessions = [];
let pending = cases.length;
let finish;
const done = new Promise(resolve => {
  finish = resolve;
});

const server = http.createServer(async (req, res) => {
  const [, kind, i] = req.url.split('/');
  const s = sessions[Number(i)];
  if (!s) {
    res.writeHead(404).end();
    return;
  }
  if (kind === 'request' && req.method === 'GET') {
    res.writeHead(200, {'Content-Type': 'application/oauth-authz-req+jwt'}).end(s.requestObject);
    return;
  }
  if (kind !== 'response' || req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  let body = '';
  for await (const chunk of req) {
    body += chunk;
  }
  const answer = await check(s, Object.fromEntries(new URLSearchParams(body)));
  const first = !s.result;
  s.result = s.result || answer;
  res.writeHead(answer.verified ? 200 : 400, {'Content-Type': 'application/json'});
  res.end(JSON.stringify(answer.verified ? {} : {error: 'invalid_request', error_description: answer.error || 'not verified'}));
  if (first && --pending === 0) {
    finish();
  }
});

// check has the library parse and validate an answer, then verifies
// each presentation.
async function check(s, authorizationResponse) {
  try {
    const parsed = await verifier.parseOpenid4vpAuthorizationResponse({
      authorizationResponse, authorizationRequestPayload: s.payload,
    });
    if (authorizationResponse.state !== s.payload.state) {
      throw new Error(`state ${authorizationResponse.state}; want ${s.payload.state}`);
    }
    const presentations = {};
    let verified = true;
    if (parsed.pex) {
      // Each descriptor_map entry: its presentation (path $ or $[i]) in
      // its format, bound to the nonce and the client_id (the DID).
      const credentialFormat = {'dc+sd-jwt': 'dc+sd-jwt', 'vc+sd-jwt': 'dc+sd-jwt', 'ldp_vp': 'ldp_vc', 'jwt_vp_json': 'jwt_vc_json', 'jwt_vp': 'jwt_vc_json'};
      const submission = parsed.pex.presentationSubmission;
      if (submission.definition_id !== s.payload.presentation_definition.id) {
        throw new Error(`definition_id ${submission.definition_id}; want ${s.payload.presentation_definition.id}`);
      }
      for(const entry of submission.descriptor_map) {
        const m = /^\$(?:\[(\d+)\])?$/.exec(entry.path);
        const presentation = m && parsed.pex.presentations[Number(m[1] || 0)];
        const format = credentialFormat[entry.format];
        if (!presentation || !format) {
          throw new Error(`descriptor_map entry ${JSON.stringify(entry)} does not select a presentation`);
        }
        const out = await verify({
          name: entry.id, format: presentationFormat[format], credential: presentation,
          binding: {nonce: s.payload.nonce, aud: s.payload.client_id},
        });
        verified = verified && out.verified;
        presentations[entry.id] = [{format, ...out, claims: out.claims || claimsOf(format, presentation)}];
      }
      const missing = s.payload.presentation_definition.input_descriptors.filter(d => !presentations[d.id]);
      if (missing.length > 0) {
        throw new Error(`input descriptors ${missing.map(d => d.id).join(', ')} are not answered`);
      }
    }
    for(const [id, entries] of Object.entries(parsed.dcql ? parsed.dcql.presentations : {})) {
      const query = s.payload.dcql_query.credentials.find(q => q.id === id);
      presentations[id] = [];
      for(const credential of entries) {
        const out = await verify({
          name: id, format: presentationFormat[query.format], credential,
          binding: {nonce: s.payload.nonce, aud: clientId},
        });
        verified = verified && out.verified;
        presentations[id].push({format: query.format, ...out, claims: out.claims || claimsOf(query.format, credential)});
      }
    }
    const errors = Object.entries(presentations).flatMap(([id, ps]) => ps.filter(p => !p.verified).map(p => `${id}: ${p.error}`));
    return {answered: true, verified, presentations, error: errors.join('; ') || null};
  } catch(e) {
    return {answered: true, verified: false, error: errorMessage(e)};
  }
}

// claimsOf is the subject of the credential in a JWT-VP or a Data
// Integrity presentation.
function claimsOf(format, vp) {
  if (format === 'jwt_vc_json') {
    return decodeJwtPart([].concat(decodeJwtPart(vp, 1).vp.verifiableCredential)[0], 1).vc.credentialSubject;
  }
  if (format === 'ldp_vc') {
    return [].concat(vp.verifiableCredential)[0].credentialSubject;
  }
  return undefined;
}

await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
for(const [i, c] of cases.entries()) {
  const common = {
    response_type: 'vp_token',
    response_mode: 'direct_post',
    response_uri: `${base}/response/${i}`,
    nonce: crypto.randomBytes(16).toString('base64url'),
    state: crypto.randomBytes(16).toString('base64url'),
  };
  // A case with a presentation_definition is a request of the drafts
  // that have Presentation Exchange: client_id is the DID itself and
  // client_metadata has vp_formats.
  const payload = c.presentation_definition ? {
    ...common,
    client_id: key.did,
    presentation_definition: c.presentation_definition,
    client_metadata: {
      vp_formats: {
        'dc+sd-jwt': {'sd-jwt_alg_values': ['EdDSA', 'ES256'], 'kb-jwt_alg_values': ['EdDSA', 'ES256']},
        'ldp_vp': {proof_type: ['DataIntegrityProof']},
        'jwt_vp_json': {alg: ['EdDSA', 'ES256']},
      },
    },
  } : {
    ...common,
    client_id: clientId,
    dcql_query: c.dcql_query,
    client_metadata: {
      vp_formats_supported: {
        'dc+sd-jwt': {'sd-jwt_alg_values': ['EdDSA', 'ES256'], 'kb-jwt_alg_values': ['EdDSA', 'ES256']},
        'ldp_vc': {proof_type_values: ['DataIntegrityProof'], cryptosuite_values: ['eddsa-rdfc-2022']},
        'jwt_vc_json': {alg_values: ['EdDSA', 'ES256']},
      },
    },
  };
  const {authorizationRequest, authorizationRequestPayload, jar} = await verifier.createOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: payload,
    jar: {
      requestUri: `${base}/request/${i}`,
      jwtSigner: {method: 'did', didUrl: key.kid, alg: 'EdDSA'},
      expiresInSeconds: 300,
    },
  });
  sessions.push({name: c.name, payload: authorizationRequestPayload, requestObject: jar.authorizationRequestJwt});
  process.stdout.write(JSON.stringify({name: c.name, uri: authorizationRequest}) + '\n');
}
if (pending === 0) {
  finish();
}

const timer = setTimeout(finish, 60000);
await done;
clearTimeout(timer);
server.close();
const results = sessions.map(s => ({name: s.name, ...(s.result || {answered: false, verified: false, error: 'no answer'})}));
process.stdout.write(JSON.stringify(results) + '\n');
