// Shared setup of the interop scripts: an offline JSON-LD document loader,
// did:key resolution for each library, and Ed25519 keys. Nothing here
// reaches the network: contexts come from the context packages, did:key
// documents are computed from the identifier.
import crypto from 'node:crypto';
import {readFileSync} from 'node:fs';

import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import didContext from 'did-context';
import * as DidKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {bytesToMultibase} from 'did-jwt';
import {Resolver} from 'did-resolver';
import {getResolver as keyDidResolver} from 'key-did-resolver';

const staticContexts = new Map([
  ...credentialsContexts,
  ...dataIntegrityContext.contexts,
  ...multikeyContext.contexts,
  ...didContext.contexts,
]);

export const didKeyDriver = DidKey.driver();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from,
});

// documentLoader serves the bundled contexts and did:key documents and
// refuses everything else, so a verification never depends on the network.
export async function documentLoader(url) {
  if (staticContexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: staticContexts.get(url)};
  }
  if (url.startsWith('did:key:')) {
    const document = await didKeyDriver.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`offline document loader: ${url} is not bundled`);
}

// didResolver is the did-resolver used by did-jwt (did:key only).
export const didResolver = new Resolver({...keyDidResolver()});

// newEd25519 returns a fresh Ed25519 key: node KeyObjects, the public
// JWK, the raw secret and public bytes, and its did:key with the
// verification method id.
export async function newEd25519() {
  const {publicKey, privateKey} = crypto.generateKeyPairSync('ed25519');
  const jwk = publicKey.export({format: 'jwk'});
  const priv = privateKey.export({format: 'jwk'});
  const multikey = await Ed25519Multikey.fromJwk({jwk: priv, secretKey: true});
  const did = `did:key:${multikey.publicKeyMultibase}`;
  const kid = `${did}#${multikey.publicKeyMultibase}`;
  multikey.id = kid;
  multikey.controller = did;
  return {
    publicKey, privateKey, jwk, did, kid, multikey,
    secret: Buffer.from(priv.d, 'base64url'),
  };
}

// newP256 returns a fresh P-256 key: node KeyObjects, the public JWK, the
// raw private key (for did-jwt's ES256Signer), and its did:key (the
// compressed point, multicodec p256-pub) with the verification method id.
export function newP256() {
  const {publicKey, privateKey} = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'});
  const jwk = publicKey.export({format: 'jwk'});
  const raw = publicKey.export({format: 'der', type: 'spki'}).subarray(-65);
  const compressed = crypto.ECDH.convertKey(raw, 'prime256v1', undefined, undefined, 'compressed');
  const id = bytesToMultibase(compressed, 'base58btc', 'p256-pub');
  const did = `did:key:${id}`;
  return {
    publicKey, privateKey, jwk, did, kid: `${did}#${id}`,
    secret: Buffer.from(privateKey.export({format: 'jwk'}).d, 'base64url'),
  };
}

// keyFromPrivateJwk rebuilds what newEd25519 or newP256 returns from the
// private JWK of a key (as js/oid4vci-wallet.mjs prints it) and its
// did:key URL.
export async function keyFromPrivateJwk(privateJwk, did, kid) {
  const privateKey = crypto.createPrivateKey({key: privateJwk, format: 'jwk'});
  const publicKey = crypto.createPublicKey(privateKey);
  const key = {
    publicKey, privateKey, jwk: publicKey.export({format: 'jwk'}), did, kid,
    secret: Buffer.from(privateJwk.d, 'base64url'),
  };
  if (privateJwk.crv === 'Ed25519') {
    key.multikey = await Ed25519Multikey.fromJwk({jwk: privateJwk, secretKey: true});
    key.multikey.id = kid;
    key.multikey.controller = did;
  }
  return key;
}

// resolveJwk resolves a did:key DID URL to the public key as a JWK:
// Ed25519 keys with Digital Bazaar's did:key driver, others with
// key-did-resolver.
export async function resolveJwk(kid) {
  if (typeof kid !== 'string' || !kid.startsWith('did:key:') || !kid.includes('#')) {
    throw new Error(`kid ${JSON.stringify(kid)} is not a did:key DID URL`);
  }
  if (kid.startsWith('did:key:z6Mk')) {
    const key = await Ed25519Multikey.from(await didKeyDriver.get({url: kid}));
    return Ed25519Multikey.toJwk({keyPair: key});
  }
  const {didDocument} = await didResolver.resolve(kid.split('#')[0]);
  const vm = didDocument && didDocument.verificationMethod.find(m => m.id === kid);
  if (!vm || !vm.publicKeyJwk) {
    throw new Error(`${kid} resolves to no verification method with a publicKeyJwk`);
  }
  return vm.publicKeyJwk;
}

// jwsVerify checks a JWS signature (base64url) over data with a public
// JWK: EdDSA (Ed25519) or ES256 (P-256).
export function jwsVerify(alg, jwk, data, signature) {
  const key = crypto.createPublicKey({key: jwk, format: 'jwk'});
  const sig = Buffer.from(signature, 'base64url');
  switch (alg) {
  case 'EdDSA':
    return jwk.crv === 'Ed25519' && crypto.verify(null, Buffer.from(data), key, sig);
  case 'ES256':
    return jwk.crv === 'P-256' && crypto.verify('sha256', Buffer.from(data), {key, dsaEncoding: 'ieee-p1363'}, sig);
  }
  throw new Error(`alg ${alg} is not supported here`);
}

// jwsSign signs data for a JWS with a private KeyObject: EdDSA or ES256.
export function jwsSign(alg, privateKey, data) {
  const sig = alg === 'ES256' ?
    crypto.sign('sha256', Buffer.from(data), {key: privateKey, dsaEncoding: 'ieee-p1363'}) :
    crypto.sign(null, Buffer.from(data), privateKey);
  return sig.toString('base64url');
}

// decodeJwtPart decodes the header (0) or payload (1) of a compact JWT.
export function decodeJwtPart(jwt, i) {
  return JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url').toString('utf8'));
}

// readCases reads the cases file named on the command line: one case
// object or an array of them.
export function readCases() {
  const file = process.argv[2];
  if (!file) {
    console.error(`usage: node ${process.argv[1]} CASES.json`);
    process.exit(2);
  }
  const input = JSON.parse(readFileSync(file, 'utf8'));
  return {single: !Array.isArray(input), cases: Array.isArray(input) ? input : [input]};
}

export function printResults(single, results) {
  process.stdout.write(JSON.stringify(single ? results[0] : results, null, 2) + '\n');
}

export function errorMessage(e) {
  if (!e) {
    return null;
  }
  if (Array.isArray(e)) {
    return e.map(errorMessage).join('; ');
  }
  if (e.errors) {
    return `${e.message}: ${errorMessage(e.errors)}`;
  }
  if (e.details && e.details.error) {
    return `${e.message}: ${errorMessage(e.details.error)}`;
  }
  return e.message || String(e);
}
