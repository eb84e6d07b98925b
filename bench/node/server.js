// express + express-session for the load runs: `node server.js memory|redis|postgres`,
// with REDIS_URL or DATABASE_URL (connect-pg-simple, pool of 10, table created if
// missing, no pruning during the run); prints "listening on http://127.0.0.1:<port>". The same routes as
// bench-server: GET /modify, /read, /none.
'use strict';
const express = require('express');
const session = require('express-session');
const { RedisStore } = require('connect-redis');
const { createClient } = require('redis');

async function main() {
  const kind = process.argv[2] || 'memory';
  let store;
  if (kind === 'postgres') {
    const pg = require('pg');
    const PgSession = require('connect-pg-simple')(session);
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
    store = new PgSession({ pool, createTableIfMissing: true, pruneSessionInterval: false });
  } else if (kind === 'redis') {
    const client = createClient({ url: process.env.REDIS_URL });
    await client.connect();
    store = new RedisStore({ client, prefix: 'sess:' });
  } else {
    store = new session.MemoryStore();
  }
  const app = express();
  app.use(session({
    secret: 'a benchmark secret of reasonable length',
    store,
    resave: false,
    saveUninitialized: false,
  }));
  app.get('/modify', (req, res) => { req.session.n = (req.session.n || 0) + 1; res.send(String(req.session.n)); });
  app.get('/read', (req, res) => { res.send(String(req.session.n || 0)); });
  app.get('/none', (req, res) => { res.send('none'); });
  const server = app.listen(0, '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
}
main().catch((e) => { console.error(e); process.exit(1); });
