// node js/oid4vci-wallet.mjs CASES.json
//
// A wallet built on @openid4vc/openid4vci and @openid4vc/oauth2 redeems
// credential offers of the pre-authorized code flow. For each case it
// resolves the offer (credential_offer_uri), fetches the credential issuer
// and authorization server metadata, gets an access token with the
// pre-authorized code and the transaction code, a c_nonce from the nonce
// endpoint, and requests every configuration of the offer with proofs.jwt:
// one proof JWT per fresh holder key. It prints, for each case,
//   {name, credentialIssuer, issued: [{configurationId, format,
//    credentials, holders: [{alg, jwk, did, kid, privateJwk}]}], error}
// A case is
//   {name, offer, txCode, alg?: 'EdDSA' (the default) or 'ES256',
//    keyMethod?: 'jwk' (the default: the key in the proof's jwk header) or
//    'did' (a did:key DID URL in kid), batch?: proofs per request (1)}
// The libraries do the protocol; this script only provides what they
// expect from their caller: keys, JWS signing, hashing and randomness.
import crypto from 'node:crypto';

import {Openid4vciClient, setGlobalConfig} from '@openid4vc/openid4vci';
import {clientAuthenticationAnonymous} from '@openid4vc/oauth2';

import {errorMessage, jwsSign, newEd25519, newP256, printResults, readCases} from './lib.mjs';

// Urbis runs on http://127.0.0.1 in the test: the libraries refuse
// plain-http URLs unless told otherwise.
setGlobalConfig({allowInsecureUrls: true});

// signJwt is the signing callback of @openid4vc/oauth2: a compact JWS of
// header and payload with the private key of the signer's public key.
function signJwtWith(keys) {
  return async (signer, {header, payload}) => {
    const key = signer.method === 'jwk' ?
      keys.find(k => k.jwk.x === signer.publicJwk.x) :
      keys.find(k => k.kid === signer.didUrl);
    if (!key) {
      throw new Error(`no private key for signer ${JSON.stringify(signer)}`);
    }
    const enc = v => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${enc(header)}.${enc(payload)}`;
    return {jwt: `${input}.${jwsSign(header.alg, key.privateKey, input)}`, signerJwk: key.jwk};
  };
}

function callbacks(keys) {
  return {
    hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
    generateRandom: n => new Uint8Array(crypto.randomBytes(n)),
    signJwt: signJwtWith(keys),
    clientAuthentication: clientAuthenticationAnonymous(),
  };
}

async function newKey(alg) {
  return alg === 'ES256' ? newP256() : newEd25519();
}

async function redeem(c) {
  const alg = c.alg || 'EdDSA';
  const keys = [];
  const client = new Openid4vciClient({callbacks: callbacks(keys)});

  const credentialOffer = await client.resolveCredentialOffer(c.offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode: c.txCode,
  });

  const issued = [];
  for(const configurationId of credentialOffer.credential_configuration_ids) {
    const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
    const holders = [];
    const proofs = [];
    for(let i = 0; i < (c.batch || 1); i++) {
      const key = await newKey(alg);
      keys.push(key);
      const signer = c.keyMethod === 'did' ?
        {method: 'did', didUrl: key.kid, alg} :
        {method: 'jwk', publicJwk: key.jwk, alg};
      const {jwt} = await client.createCredentialRequestJwtProof({
        issuerMetadata, credentialConfigurationId: configurationId, signer, nonce,
      });
      proofs.push(jwt);
      holders.push({
        alg, jwk: key.jwk, did: key.did, kid: key.kid,
        privateJwk: key.privateKey.export({format: 'jwk'}),
      });
    }
    const res = await client.retrieveCredentials({
      issuerMetadata, credentialConfigurationId: configurationId,
      accessToken: accessTokenResponse.access_token, proofs: {jwt: proofs},
    });
    const config = issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId];
    issued.push({
      configurationId,
      format: config.format,
      credentials: (res.credentialResponse.credentials || []).map(x => x.credential),
      holders,
    });
  }
  return {credentialIssuer: credentialOffer.credential_issuer, issued};
}

const {single, cases} = readCases();
const results = [];
for(const c of cases) {
  let out;
  try {
    out = {...await redeem(c), error: null};
  } catch(e) {
    out = {error: errorMessage(e)};
  }
  results.push({name: c.name, ...out});
}
printResults(single, results);
