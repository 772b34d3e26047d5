// node js/issue.mjs CASES.json
//
// Issues one credential or presentation per case with independent
// implementations, each with a fresh did:key issuer (and holder), and
// prints, for each case,
//   {name, format, issuer, holder, credential, error}
// A case is {name, format, binding?: {nonce, aud}, noKid?: true,
// nested?: true, alg?: 'EdDSA' (the default) or 'ES256'} with
// format
//   ldp_vc       VC 2.0 with an eddsa-rdfc-2022 proof (@digitalbazaar/vc)
//   jwt_vc_json  a VC 1.1 JWT-VC (did-jwt-vc); with noKid its header has
//                no kid, did-jwt's default; with alg ES256 a P-256 issuer
//   dc+sd-jwt    an SD-JWT VC (@sd-jwt/sd-jwt-vc), EdDSA or ES256 as
//                alg says; with nested, also an object claim with a
//                disclosable member and disclosable array elements; with
//                binding, it binds a
//                fresh holder did:key (sub and cnf.jwk) and the credential
//                printed is the holder's presentation of it with a Key
//                Binding JWT over nonce and aud
//   ldp_vp       a VC 2.0 presentation of an ldp_vc about the holder, with
//                an eddsa-rdfc-2022 authentication proof over challenge
//                nonce and domain aud (@digitalbazaar/vc)
//   jwt_vp_json  a JWT-VP of a JWT-VC about the holder, with nonce and aud
//                (did-jwt-vc)
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createVerifiableCredentialJwt, createVerifiablePresentationJwt} from 'did-jwt-vc';
import {EdDSASigner, ES256Signer} from 'did-jwt';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {digest, generateSalt} from '@sd-jwt/crypto-nodejs';

import {documentLoader, errorMessage, jwsSign, newEd25519, newP256, printResults, readCases} from './lib.mjs';

const now = () => Math.floor(Date.now() / 1000);
const subject = {name: 'Ada Lovelace', district: 'Eixample', birthYear: 1815};

async function issueLDP(c, subjectId = 'did:example:ada') {
  const key = await newEd25519();
  const credential = {
    // VC 2.0 has no @vocab: the subject's terms come from the
    // undefined-terms context, as safe-mode JSON-LD requires.
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://www.w3.org/ns/credentials/undefined-terms/v2'],
    id: `urn:uuid:${crypto.randomUUID()}`,
    type: ['VerifiableCredential', 'ResidentCredential'],
    issuer: key.did,
    validFrom: new Date((now() - 60) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    credentialSubject: {id: subjectId, ...subject},
  };
  const suite = new DataIntegrityProof({signer: key.multikey.signer(), cryptosuite: eddsaRdfc2022CryptoSuite});
  return {issuer: key.did, credential: await vc.issue({credential, suite, documentLoader})};
}

async function issueJWT(c, subjectId = 'did:example:ada') {
  const es256 = c.alg === 'ES256';
  const key = es256 ? newP256() : await newEd25519();
  const payload = {
    sub: subjectId,
    nbf: now() - 60,
    jti: `urn:uuid:${crypto.randomUUID()}`,
    vc: {
      '@context': ['https://www.w3.org/2018/credentials/v1'],
      type: ['VerifiableCredential', 'ResidentCredential'],
      credentialSubject: subject,
    },
  };
  const issuer = es256 ?
    {did: key.did, signer: ES256Signer(key.secret), alg: 'ES256'} :
    {did: key.did, signer: EdDSASigner(key.secret), alg: 'EdDSA'};
  const jwt = await createVerifiableCredentialJwt(payload, issuer, c.noKid ? {} : {header: {kid: key.kid}});
  return {issuer: key.did, credential: jwt};
}

async function issueSDJWT(c) {
  const alg = c.alg || 'EdDSA';
  const key = alg === 'ES256' ? newP256() : await newEd25519();
  const holder = c.binding ? (alg === 'ES256' ? newP256() : await newEd25519()) : null;
  const sdjwt = new SDJwtVcInstance({
    signer: async data => jwsSign(alg, key.privateKey, data),
    signAlg: alg,
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    kbSigner: holder ? async data => jwsSign(alg, holder.privateKey, data) : undefined,
    kbSignAlg: holder ? alg : undefined,
  });
  const claims = {iss: key.did, iat: now() - 60, vct: 'ResidentCredential', ...subject};
  if (holder) {
    claims.sub = holder.did;
    claims.cnf = {jwk: holder.jwk};
  }
  let frame = {_sd: Object.keys(subject)};
  if (c.nested) {
    // A disclosable object with a disclosable member, and disclosable
    // array elements.
    claims.address = {street: 'Carrer de Mallorca 401', locality: 'Barcelona'};
    claims.nationalities = ['ES', 'FR'];
    frame = {_sd: [...Object.keys(subject), 'address'], address: {_sd: ['locality']}, nationalities: {_sd: [0, 1]}};
  }
  const token = await sdjwt.issue(claims, frame, {header: {kid: key.kid}});
  if (!holder) {
    return {issuer: key.did, credential: token};
  }
  const presented = await sdjwt.present(token, {name: true, district: true}, {
    kb: {payload: {iat: now(), aud: c.binding.aud, nonce: c.binding.nonce}},
  });
  return {issuer: key.did, holder: holder.did, credential: presented};
}

async function issueLDPVP(c) {
  const holder = await newEd25519();
  const {issuer, credential} = await issueLDP(c, holder.did);
  const presentation = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    type: ['VerifiablePresentation'],
    holder: holder.did,
    verifiableCredential: [credential],
  };
  const suite = new DataIntegrityProof({signer: holder.multikey.signer(), cryptosuite: eddsaRdfc2022CryptoSuite});
  const vp = await vc.signPresentation({
    presentation, suite, documentLoader, challenge: c.binding.nonce, domain: c.binding.aud,
  });
  return {issuer, holder: holder.did, credential: vp};
}

async function issueJWTVP(c) {
  const holder = await newEd25519();
  const {issuer, credential} = await issueJWT(c, holder.did);
  const payload = {
    vp: {
      '@context': ['https://www.w3.org/2018/credentials/v1'],
      type: ['VerifiablePresentation'],
      verifiableCredential: [credential],
    },
    nonce: c.binding.nonce,
    aud: c.binding.aud,
  };
  const signer = {did: holder.did, signer: EdDSASigner(holder.secret), alg: 'EdDSA'};
  const vp = await createVerifiablePresentationJwt(payload, signer, {header: {kid: holder.kid}});
  return {issuer, holder: holder.did, credential: vp};
}

const issuers = {
  'ldp_vc': issueLDP, 'jwt_vc_json': issueJWT, 'dc+sd-jwt': issueSDJWT,
  'ldp_vp': issueLDPVP, 'jwt_vp_json': issueJWTVP,
};

const {single, cases} = readCases();
const results = [];
for(const c of cases) {
  const f = issuers[c.format];
  let out;
  if (!f) {
    out = {error: `unknown format ${c.format}`};
  } else {
    try {
      out = {...await f(c), error: null};
    } catch(e) {
      out = {error: errorMessage(e)};
    }
  }
  results.push({name: c.name, format: c.format, ...out});
}
printResults(single, results);
