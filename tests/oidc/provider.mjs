// SPDX-License-Identifier: AGPL-3.0-or-later
// provider.mjs — a real OpenID provider (the npm package oidc-provider)
// for the single sign-on tests, on 127.0.0.1 only. Discovery, the JWKS,
// the authorization endpoint with PKCE, the token endpoint and the ID
// tokens are all oidc-provider's own; its development login form takes
// any account name below (the password is not checked).
//
// One test-only hook changes what the provider returns, so that the
// failures a well-behaved provider never produces can be delivered
// through the real callback: POST /__test/tamper with a JSON object makes
// the NEXT token response carry a re-signed ID token:
//   {"claims": {...}}  claims merged into the real token (null deletes one)
//   {"key": "other"}   signed with a second key (not published), under
//                      the provider's kid unless "kid" names another
//   {"corrupt": true}  one character of the signature changed
//
// Usage: node provider.mjs PORT KEYS.json REDIRECT_URI [ISSUER]
//   KEYS.json: {"keys": [private JWKs]}, the first of each algorithm
//   signs; made by node provider.mjs --make-keys KID... > KEYS.json.
// Clients: "tocsin" (secret, RS256), "tocsin-public" (no secret, PKCE
// only) and "tocsin-es256" (secret, ES256 ID tokens).
// Prints "ready ISSUER" once listening, and one line per request ("GET
// /jwks") so a test can count what the dashboard fetched.
import { createPrivateKey, createSign, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

if (process.argv[2] === '--make-keys') {
  // --make-keys KID...: a key set of fresh keys, one per kid: RSA, or
  // EC P-256 for a kid written "ec:KID".
  const keys = process.argv.slice(3).map((arg) => {
    const ec = arg.startsWith('ec:');
    const kid = ec ? arg.slice(3) : arg;
    // PEM out of the generator, then a key object of its own to export:
    // exporting the generator's own key object as a JWK can deadlock Node
    // 20 when a garbage collection finalizes the generation job meanwhile
    // (both take the key's mutex; seen here as a test hung for minutes).
    const encoding = {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    };
    const { privateKey } = ec
      ? generateKeyPairSync('ec', { namedCurve: 'P-256', ...encoding })
      : generateKeyPairSync('rsa', { modulusLength: 2048, ...encoding });
    const jwk = createPrivateKey(privateKey).export({ format: 'jwk' });
    return { ...jwk, kid, alg: ec ? 'ES256' : 'RS256', use: 'sig' };
  });
  process.stdout.write(JSON.stringify({ keys }));
  process.exit(0);
}

const [port, keysFile, redirectUri, issuerArg] = process.argv.slice(2);
const issuer = issuerArg || `http://127.0.0.1:${port}`;
const jwks = JSON.parse(readFileSync(keysFile, 'utf8'));

// The test users: an account name (typed at the login form) and claims.
const accounts = {
  admin: { email: 'admin@demo.test', email_verified: true },
  vol1: { email: 'VOL1@demo.test', email_verified: true },
  vol2: { email: 'vol2@demo.test', email_verified: true },
  unverified: { email: 'lead@demo.test', email_verified: false },
  stranger: { email: 'stranger@elsewhere.test', email_verified: true },
  invited: { email: 'new.member@demo.test', email_verified: true },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'tocsin',
      client_secret: 'tocsin-test-secret-0123456789',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    // A public client: PKCE alone, no secret.
    {
      client_id: 'tocsin-public',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    // ID tokens signed with ES256 (needs an "ec:" key in KEYS.json).
    {
      client_id: 'tocsin-es256',
      client_secret: 'tocsin-test-secret-0123456789',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks,
  cookies: { keys: ['tocsin-test-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // The email claims in the ID token itself, which is all Tocsin reads.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const a = accounts[id];
    if (!a) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...a }) };
  },
  // A first-party client: no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
});

const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const own = createPrivateKey({ key: jwks.keys[0], format: 'jwk' });
let tamper = null;

const b64 = (buf) => Buffer.from(buf).toString('base64url');

function resign(idToken, spec) {
  const [h, p] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  for (const [k, v] of Object.entries(spec.claims || {})) {
    if (v === null) delete claims[k];
    else claims[k] = v;
  }
  if (spec.kid) header.kid = spec.kid;
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const signer = createSign('RSA-SHA256');
  signer.update(input);
  let sig = b64(signer.sign(spec.key === 'other' ? other : own));
  // The first character, always to a different one (comparing another
  // character left it unchanged whenever it was already 'A': 1 run in 64).
  if (spec.corrupt) sig = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  return `${input}.${sig}`;
}

async function readJson(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10000) throw new Error('too long');
  }
  return JSON.parse(body || '{}');
}

provider.use(async (ctx, next) => {
  console.log(`${ctx.method} ${ctx.path}`);
  if (ctx.path === '/__test/tamper' && ctx.method === 'POST') {
    tamper = await readJson(ctx.req);
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/token' && tamper && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token, tamper) };
    tamper = null;
  }
});

provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
