// node js/verify.mjs CASES.json
//
// Verifies credentials and presentations with independent implementations
// and prints, for each case, {name, verified, error} (and, for an SD-JWT
// VC, claims: the disclosed claims). A case is
//   {name, format, credential, binding?: {nonce, aud}}
// with format
//   ldp_vc       a VC 2.0 object with an eddsa-rdfc-2022 Data Integrity
//                proof (@digitalbazaar/vc)
//   jwt_vc_json  a compact JWT-VC (did-jwt-vc)
//   dc+sd-jwt    an SD-JWT VC (@sd-jwt/sd-jwt-vc); with binding, its Key
//                Binding JWT is required and checked against nonce and aud
//   ldp_vp       a presentation with an eddsa-rdfc-2022 proof of purpose
//                authentication, challenge nonce and domain aud, and its
//                credentials (@digitalbazaar/vc)
//   jwt_vp_json  a JWT-VP bound to nonce and aud (did-jwt-vc), and its
//                embedded JWT-VCs
// Keys are resolved from did:key identifiers only, offline.
import {pathToFileURL} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {verifyCredential as verifyJwtVc, verifyPresentation as verifyJwtVp} from 'did-jwt-vc';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {digest} from '@sd-jwt/crypto-nodejs';

import {
  decodeJwtPart, didResolver, documentLoader, errorMessage, jwsVerify,
  printResults, readCases, resolveJwk,
} from './lib.mjs';

async function verifyLDP(c) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  const result = await vc.verifyCredential({credential: c.credential, suite, documentLoader});
  return {verified: result.verified === true, error: result.verified ? null : errorMessage(result.error)};
}

async function verifyJWT(c) {
  await verifyJwtVc(c.credential, didResolver);
  return {verified: true, error: null};
}

async function verifySDJWT(c) {
  const issuerJwt = c.credential.split('~')[0];
  const header = decodeJwtPart(issuerJwt, 0);
  const payload = decodeJwtPart(issuerJwt, 1);
  if (!header.kid || header.kid.split('#')[0] !== payload.iss) {
    throw new Error(`header kid ${header.kid} is not a key of the issuer ${payload.iss}`);
  }
  const issuerJwk = await resolveJwk(header.kid);
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    verifier: async (data, sig) => jwsVerify(header.alg, issuerJwk, data, sig),
    kbVerifier: async (data, sig, sdPayload) => {
      if (!sdPayload.cnf || !sdPayload.cnf.jwk) {
        throw new Error('the SD-JWT VC has no cnf.jwk');
      }
      const kbAlg = decodeJwtPart(data, 0).alg;
      return jwsVerify(kbAlg, sdPayload.cnf.jwk, data, sig);
    },
  });
  const opts = {};
  if (c.binding) {
    opts.keyBindingNonce = c.binding.nonce;
  }
  const res = await sdjwt.verify(c.credential, opts);
  if (c.binding) {
    if (!res.kb || res.kb.payload.aud !== c.binding.aud) {
      throw new Error(`Key Binding JWT aud is ${res.kb && res.kb.payload.aud}; want ${c.binding.aud}`);
    }
  }
  if (header.typ !== 'dc+sd-jwt') {
    throw new Error(`issuer-signed JWT typ is ${header.typ}; want dc+sd-jwt`);
  }
  return {verified: true, error: null, claims: res.payload};
}

async function verifyLDPVP(c) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  const result = await vc.verify({
    presentation: c.credential, suite, documentLoader,
    challenge: c.binding.nonce, domain: c.binding.aud,
  });
  if (result.verified === true) {
    return {verified: true, error: null};
  }
  const errors = [];
  if (result.error) {
    errors.push(errorMessage(result.error));
  }
  if (result.presentationResult && !result.presentationResult.verified) {
    errors.push(`presentation: ${errorMessage(result.presentationResult.error)}`);
  }
  for(const [i, r] of (result.credentialResults || []).entries()) {
    if (!r.verified) {
      errors.push(`credential ${i}: ${errorMessage(r.error)}`);
    }
  }
  return {verified: false, error: errors.join('; ') || 'not verified'};
}

async function verifyJWTVP(c) {
  const res = await verifyJwtVp(c.credential, didResolver, {challenge: c.binding.nonce, domain: c.binding.aud});
  for(const cred of [].concat(res.payload.vp.verifiableCredential || [])) {
    if (typeof cred !== 'string') {
      throw new Error('an embedded credential is not a JWT-VC');
    }
    await verifyJwtVc(cred, didResolver);
  }
  return {verified: true, error: null};
}

// verifiers are the checks by format; js/oid4vp-verifier.mjs uses them
// too. Each takes a case and answers {verified, error, claims?} or throws.
export const verifiers = {
  'ldp_vc': verifyLDP, 'jwt_vc_json': verifyJWT, 'dc+sd-jwt': verifySDJWT,
  'ldp_vp': verifyLDPVP, 'jwt_vp_json': verifyJWTVP,
};

// verify runs the verifier of c.format and never throws.
export async function verify(c) {
  const f = verifiers[c.format];
  if (!f) {
    return {verified: false, error: `unknown format ${c.format}`};
  }
  try {
    return await f(c);
  } catch(e) {
    return {verified: false, error: errorMessage(e)};
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const {single, cases} = readCases();
  const results = [];
  for(const c of cases) {
    results.push({name: c.name, ...await verify(c)});
  }
  printResults(single, results);
}
