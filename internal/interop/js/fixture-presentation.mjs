// node js/fixture-presentation.mjs DIR
//
// Writes DIR/presentation.json, a VC 2.0 presentation of a VC 2.0
// credential (with an id), both secured with eddsa-rdfc-2022 by
// @digitalbazaar/vc with fresh did:key keys, and DIR/presentation.nq, the
// jsonld.js RDFC-1.0 canonical form of the presentation without its proof.
// vc/dataintegrity's tests check Urbis against these files without Node.
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import jsonld from 'jsonld';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

import {documentLoader, newEd25519} from './lib.mjs';

const dir = process.argv[2];
const issuer = await newEd25519();
const holder = await newEd25519();
const credential = await vc.issue({
  credential: {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://www.w3.org/ns/credentials/undefined-terms/v2'],
    id: 'urn:uuid:141079db-6921-495a-956f-67884e0b2b87',
    type: ['VerifiableCredential', 'ResidentCredential'],
    issuer: issuer.did,
    validFrom: '2026-01-01T00:00:00Z',
    credentialSubject: {id: holder.did, name: 'Ada Lovelace', district: 'Eixample'},
  },
  suite: new DataIntegrityProof({signer: issuer.multikey.signer(), cryptosuite}),
  documentLoader,
});
const presentation = await vc.signPresentation({
  presentation: {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    type: ['VerifiablePresentation'],
    holder: holder.did,
    verifiableCredential: [credential],
  },
  suite: new DataIntegrityProof({signer: holder.multikey.signer(), cryptosuite}),
  challenge: 'n-4f1c7a',
  domain: 'https://verifier.example',
  documentLoader,
});
const {proof, ...unsecured} = presentation;
const nquads = await jsonld.canonize(unsecured, {
  algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true,
});
writeFileSync(join(dir, 'presentation.json'), JSON.stringify(presentation, null, 2) + '\n');
writeFileSync(join(dir, 'presentation.nq'), nquads);
