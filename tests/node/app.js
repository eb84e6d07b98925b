// The express-session app the interop tests drive beside the Rust service, on
// connect-redis or (with DATABASE_URL) connect-pg-simple. Configuration comes from the
// environment; it prints "listening <port>".
//   REDIS_URL        redis://127.0.0.1:<port>/
//   DATABASE_URL     postgres://...: connect-pg-simple instead of Redis
//   PG_TABLE         connect-pg-simple's tableName (default "session")
//   PG_CREATE_TABLE  "1" for createTableIfMissing: true
//   SESSION_SECRETS  JSON list, the first signs (default ["keyboard cat"])
//   MAX_AGE_MS       cookie.maxAge (default 3600000); "none" for a browser-session cookie
//   ROLLING          "1" for rolling: true
'use strict';
const express = require('express');
const session = require('express-session');
const { RedisStore } = require('connect-redis');
const { createClient } = require('redis');
const { isDeepStrictEqual } = require('node:util');
const COMPLEX = require('./complex.json');

// The store and a function that closes its connections.
async function makeStore() {
  if (process.env.DATABASE_URL) {
    const pg = require('pg');
    const PgSession = require('connect-pg-simple')(session);
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
    const store = new PgSession({
      pool,
      tableName: process.env.PG_TABLE || 'session',
      createTableIfMissing: process.env.PG_CREATE_TABLE === '1',
      pruneSessionInterval: false,
    });
    return { store, close: () => store.close() };
  }
  const client = createClient({ url: process.env.REDIS_URL });
  client.on('error', (e) => console.error('redis error', e.message));
  await client.connect();
  return { store: new RedisStore({ client, prefix: 'sess:' }), close: () => client.quit() };
}

async function main() {
  const { store, close } = await makeStore();
  const secrets = JSON.parse(process.env.SESSION_SECRETS || '["keyboard cat"]');
  const maxAge = process.env.MAX_AGE_MS === 'none' ? null : Number(process.env.MAX_AGE_MS || 3600000);
  const app = express();
  app.use(session({
    secret: secrets,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: process.env.ROLLING === '1',
    cookie: { maxAge },
  }));
  const data = (s) => { const { cookie, ...rest } = s; return rest; };
  app.get('/', (req, res) => { req.session.views = (req.session.views || 0) + 1; res.json({ views: req.session.views }); });
  app.get('/session', (req, res) => res.json(data(req.session)));
  app.get('/read', (req, res) => res.json(data(req.session)));
  app.get('/none', (req, res) => res.json({}));
  app.get('/cookie', (req, res) => res.json(req.session.cookie));
  app.post('/set', (req, res) => { for (const [k, v] of Object.entries(req.query)) req.session[k] = String(v); res.json(data(req.session)); });
  app.post('/complex', (req, res) => { Object.assign(req.session, structuredClone(COMPLEX)); res.json({}); });
  app.get('/complex-check', (req, res) => {
    const got = {};
    for (const k of Object.keys(COMPLEX)) got[k] = req.session[k];
    res.json({ equal: isDeepStrictEqual(got, COMPLEX), got });
  });
  app.post('/login', (req, res, next) => req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = req.query.user;
    req.session.save((err2) => (err2 ? next(err2) : res.json({ user: req.session.user })));
  }));
  app.post('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.json({}))));
  const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  const stop = () => { server.close(); Promise.resolve(close()).finally(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => { console.error(e); process.exit(1); });
