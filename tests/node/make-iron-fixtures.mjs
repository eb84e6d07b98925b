// Writes tests/data/iron-fixtures.json: iron ("Fe26.2*...") seals made by the real
// JavaScript libraries, for the Rust tests to check their seal/unseal against.
//   node tests/node/make-iron-fixtures.mjs      (any cwd; needs `npm ci` in tests/node)
// Libraries:
//   iron-webcrypto 1.x  the copy h3 1.x uses: seal(crypto, object, password, options)
//   iron-webcrypto 2.x  the copy iron-session 9 uses (nested under iron-session):
//                       seal(object, password, options)
//   iron-session 9      sealData(data, { password, ttl }), which appends "~2"
//   h3 2.x              sealSession (its own bundled iron, 8192 PBKDF2 iterations)
// "deterministic" vectors pass fixed salts and IVs through the options, with ttl 0 so there
// is no timestamp: the Rust side must reproduce "seal" byte for byte. Each is also sealed by
// the other iron-webcrypto major, which must give the same string.
// "seals" are made normally (random salts and IVs) and must unseal to "json" ("expect": "ok")
// or fail as expired ("expect": "expired"). Every seal is checked here before the file is
// written; the deterministic part is the same on every run, the random part is not.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const here = new URL('./', import.meta.url);
const outFile = new URL('../data/iron-fixtures.json', here);
const versionOf = (rel) => JSON.parse(readFileSync(new URL(rel, here), 'utf8')).version;

const iwc1 = await import('iron-webcrypto');
const iwc2Path = new URL('node_modules/iron-session/node_modules/iron-webcrypto/index.js', here);
const iwc2 = await import(iwc2Path.href);
const ironSession = await import('iron-session');
const h3v2 = await import('h3-v2');

const versions = {
  iwc1: versionOf('node_modules/iron-webcrypto/package.json'),
  iwc2: versionOf('node_modules/iron-session/node_modules/iron-webcrypto/package.json'),
  ironSession: versionOf('node_modules/iron-session/package.json'),
  h3v2: versionOf('node_modules/h3-v2/package.json'),
};
if (!versions.iwc1.startsWith('1.') || !versions.iwc2.startsWith('2.')) {
  throw new Error(`unexpected iron-webcrypto versions ${versions.iwc1} / ${versions.iwc2}`);
}
const lib1 = `iron-webcrypto ${versions.iwc1}`;
const lib2 = `iron-webcrypto ${versions.iwc2}`;

// Both majors behind one shape: seal(object, password, options) / unseal(seal, password, options).
const libs = {
  [lib1]: {
    defaults: iwc1.defaults,
    seal: (object, password, options) => iwc1.seal(globalThis.crypto, object, password, options),
    unseal: (sealed, password, options) => iwc1.unseal(globalThis.crypto, sealed, password, options),
  },
  [lib2]: {
    defaults: iwc2.defaults,
    seal: (object, password, options) => iwc2.seal(object, password, options),
    unseal: (sealed, password, options) => iwc2.unseal(sealed, password, options),
  },
};
for (const lib of Object.values(libs)) {
  if (lib.defaults.encryption.iterations !== 1 || lib.defaults.integrity.iterations !== 1) {
    throw new Error('iron-webcrypto defaults are expected to use 1 PBKDF2 iteration');
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
// Fixed, distinct bytes from a label.
const fixedHex = (label, bytes) => createHash('sha256').update(label).digest('hex').slice(0, bytes * 2);
const hexToBytes = (hex) => Uint8Array.from(Buffer.from(hex, 'hex'));

// The secrets (>= 32 UTF-16 code units each, iron's minimum).
const SECRET_A = 'interop-secret-A-0123456789abcdefghijklmnop';
const SECRET_B = 'interop-secret-B-QRSTUVWXYZ9876543210zyxwv';
const SECRET_OLD = 'interop-old-password-1-aaaaaaaaaaaaaaaaaaaa';
const SECRET_NEW = 'interop-new-password-2-bbbbbbbbbbbbbbbbbbbb';
const SECRET_UNICODE = 'pässwörd-ünïcödé-€-☃-0123456789abcdef'; // UTF-8 longer than its length
assert(SECRET_UNICODE.length >= 32, 'unicode secret length');

function options(lib, iterations, extra = {}) {
  const d = libs[lib].defaults;
  return {
    ...d,
    ...extra,
    encryption: { ...d.encryption, iterations, ...extra.encryption },
    integrity: { ...d.integrity, iterations, ...extra.integrity },
  };
}
const passwordArg = (secret, id) => (id ? { id, secret } : secret);

// ---- deterministic vectors -------------------------------------------------------------
const padTo32 = { pad: 'x'.repeat(32 - JSON.stringify({ pad: '' }).length) };
assert(JSON.stringify(padTo32).length === 32, 'padTo32 is 32 bytes');

const deterministicSpecs = [
  { library: lib1, secret: SECRET_A, id: '', iterations: 1, object: { a: '1', n: 5 } },
  { library: lib1, secret: SECRET_B, id: '2', iterations: 1, object: { a: '1', n: 5 } },
  { library: lib2, secret: SECRET_A, id: '', iterations: 1, object: { user: 'alice', roles: ['admin', 'dev'] } },
  { library: lib2, secret: SECRET_B, id: '2', iterations: 1, object: { user: 'alice', roles: ['admin', 'dev'] } },
  { library: lib1, secret: SECRET_A, id: '', iterations: 1, object: { u: 'é ☃ 😀', nested: { ok: true, v: null } } },
  { library: lib2, secret: SECRET_A, id: '', iterations: 1, object: { u: 'é ☃ 😀' } },
  { library: lib1, secret: SECRET_A, id: '', iterations: 1, object: padTo32 }, // full padding block
  { library: lib2, secret: SECRET_B, id: '2', iterations: 1, object: padTo32 },
  { library: lib1, secret: SECRET_A, id: '', iterations: 8192, object: { a: '1' } }, // h3 2.x strength
  { library: lib2, secret: SECRET_B, id: '2', iterations: 8192, object: { id: 'x', createdAt: 1, data: {} } },
  { library: lib1, secret: SECRET_A, id: '', iterations: 1, object: {} },
  { library: lib2, secret: SECRET_B, id: '', iterations: 1, object: {} },
  { library: lib2, secret: SECRET_UNICODE, id: '', iterations: 1, object: { a: '1' } }, // non-ASCII secret
];

const deterministic = [];
for (const [i, spec] of deterministicSpecs.entries()) {
  const encryptionSalt = fixedHex(`iron-fixture-${i}-encryption-salt`, 32);
  const hmacSalt = fixedHex(`iron-fixture-${i}-hmac-salt`, 32);
  const ivHex = fixedHex(`iron-fixture-${i}-iv`, 16);
  const makeOptions = (lib) => options(lib, spec.iterations, {
    ttl: 0,
    encryption: { salt: encryptionSalt, iv: hexToBytes(ivHex) },
    integrity: { salt: hmacSalt },
  });
  const password = passwordArg(spec.secret, spec.id);
  const sealed = await libs[spec.library].seal(spec.object, password, makeOptions(spec.library));
  const json = JSON.stringify(spec.object);

  // The fixed salts and IV are used as given, the seal is reproducible, and has no expiry.
  const parts = sealed.split('*');
  assert(parts.length === 8 && parts[0] === 'Fe26.2', `vector ${i} shape`);
  assert(parts[1] === spec.id, `vector ${i} password id`);
  assert(parts[2] === encryptionSalt && parts[6] === hmacSalt, `vector ${i} salts used as given`);
  assert(Buffer.from(parts[3], 'base64url').toString('hex') === ivHex, `vector ${i} iv used as given`);
  assert(parts[5] === '', `vector ${i} has no expiration`);
  assert(await libs[spec.library].seal(spec.object, password, makeOptions(spec.library)) === sealed,
    `vector ${i} is deterministic`);
  for (const other of Object.keys(libs)) {
    assert(await libs[other].seal(spec.object, password, makeOptions(other)) === sealed,
      `vector ${i}: ${other} gives the same seal as ${spec.library}`);
  }
  const back = await libs[spec.library].unseal(sealed, spec.id ? { [spec.id]: spec.secret } : spec.secret,
    options(spec.library, spec.iterations));
  assert(JSON.stringify(back) === json, `vector ${i} unseals back`);

  deterministic.push({
    library: spec.library,
    password: spec.secret,
    password_id: spec.id,
    iterations: spec.iterations,
    json,
    encryption_salt: encryptionSalt,
    hmac_salt: hmacSalt,
    iv_hex: ivHex,
    seal: sealed,
  });
}

// ---- random seals --------------------------------------------------------------------
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const seals = [];

async function expectUnseal(unsealFn, entry) {
  if (entry.expect === 'ok') {
    const back = await unsealFn();
    assert(isDeepStrictEqual(JSON.parse(JSON.stringify(back)), JSON.parse(entry.json)) &&
      JSON.stringify(back) === entry.json, `${entry.library}: seal unseals back to its json`);
  } else {
    let error;
    try {
      await unsealFn();
    } catch (e) {
      error = e;
    }
    assert(error?.message === 'Expired seal', `${entry.library}: expired seal fails with "Expired seal"` +
      ` (got ${error?.message ?? 'no error'})`);
  }
}

// Plain iron-webcrypto seals: { library, object, secret or map, sealing id, iterations, ttl, offset }.
const randomSpecs = [];
for (const library of [lib1, lib2]) {
  randomSpecs.push(
    { library, object: { a: '1', n: 5 }, secret: SECRET_A, iterations: 1, ttl: 0 },
    { library, object: { a: '1', long: 'ttl', u: 'é ☃ 😀' }, secret: SECRET_A, iterations: 1, ttl: TEN_YEARS_MS },
    { library, object: { rotated: true }, secret: SECRET_NEW, id: '2', iterations: 1, ttl: 0,
      map: { 1: SECRET_OLD, 2: SECRET_NEW } },
    { library, object: { gone: 'yesterday' }, secret: SECRET_A, iterations: 1, ttl: 1000,
      localtimeOffsetMsec: -86400000, expect: 'expired' },
  );
}
randomSpecs.push({ library: lib2, object: { strong: 'pbkdf2' }, secret: SECRET_B, iterations: 8192, ttl: 0 });

for (const spec of randomSpecs) {
  const lib = libs[spec.library];
  const sealOptions = options(spec.library, spec.iterations, {
    ttl: spec.ttl,
    ...(spec.localtimeOffsetMsec ? { localtimeOffsetMsec: spec.localtimeOffsetMsec } : {}),
  });
  const sealed = await lib.seal(spec.object, passwordArg(spec.secret, spec.id), sealOptions);
  const entry = {
    library: spec.library,
    passwords: spec.map ?? spec.secret,
    iterations: spec.iterations,
    ttl_ms: spec.ttl,
    json: JSON.stringify(spec.object),
    seal: sealed,
    expect: spec.expect ?? 'ok',
  };
  assert(sealed.split('*')[1] === (spec.id ?? ''), `${spec.library}: password id in seal`);
  await expectUnseal(() => lib.unseal(sealed, entry.passwords, options(spec.library, spec.iterations,
    { ttl: spec.ttl })), entry);
  seals.push(entry);
}

// iron-session's own sealData: seals with the highest id of the map (or id "1" for a plain
// string) and appends "~2", which unsealData strips.
const ironTtlSec = 10 * 365 * 24 * 3600;
for (const password of [{ 1: SECRET_OLD, 2: SECRET_NEW }, SECRET_A]) {
  const data = { user: 'alice', count: 3, u: 'é ☃ 😀' };
  const sealed = await ironSession.sealData(data, { password, ttl: ironTtlSec });
  const expectedId = typeof password === 'string' ? '1' : '2';
  assert(sealed.endsWith('~2') && sealed.split('*')[1] === expectedId, 'iron-session seal shape');
  const entry = {
    library: `iron-session ${versions.ironSession} sealData (iron-webcrypto ${versions.iwc2})`,
    passwords: password,
    iterations: 1,
    ttl_ms: ironTtlSec * 1000,
    json: JSON.stringify({ ...data }),
    seal: sealed,
    expect: 'ok',
  };
  await expectUnseal(() => ironSession.unsealData(sealed, {
    password,
    ttl: ironTtlSec,
    onUnsealError: (kind, error) => {
      throw error;
    },
  }), entry);
  seals.push(entry);
}

// h3 2.x's own sealSession (8192 iterations, no ttl without maxAge): the session object
// {id, createdAt, data} as useSession stores it in the cookie.
{
  const config = { password: SECRET_A };
  const event = h3v2.mockEvent('/');
  const session = await h3v2.getSession(event, config);
  Object.assign(session.data, { a: '1', u: 'é ☃ 😀' });
  const sealed = await h3v2.sealSession(event, config);
  const entry = {
    library: `h3 ${versions.h3v2} sealSession`,
    passwords: SECRET_A,
    iterations: 8192,
    ttl_ms: 0,
    json: JSON.stringify(session),
    seal: sealed,
    expect: 'ok',
  };
  await expectUnseal(() => h3v2.unsealSession(h3v2.mockEvent('/'), { ...config, legacySealFallback: false },
    sealed), entry);
  // And plain iron at 8192 iterations reads it the same.
  await expectUnseal(() => libs[lib2].unseal(sealed, SECRET_A, options(lib2, 8192)), entry);
  seals.push(entry);
}

const fixtures = {
  generated_by: {
    node: process.version,
    'iron-webcrypto-1': versions.iwc1,
    'iron-webcrypto-2': versions.iwc2,
    'iron-session': versions.ironSession,
    'h3-v2': versions.h3v2,
  },
  deterministic,
  seals,
};
writeFileSync(outFile, `${JSON.stringify(fixtures, null, 2)}\n`);
console.log(`wrote ${deterministic.length} deterministic vectors and ${seals.length} seals to ${outFile.pathname}`);
