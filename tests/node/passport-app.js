// An express app signing users in with passport 0.7 and showing messages with
// connect-flash, on express-session + connect-redis: the sign-in and flash layouts the
// Rust side shares. It prints "listening <port>".
//   REDIS_URL        redis://127.0.0.1:<port>/
//   SESSION_SECRETS  JSON list, the first signs
'use strict';
const express = require('express');
const session = require('express-session');
const passport = require('passport');
const flash = require('connect-flash');
const { RedisStore } = require('connect-redis');
const { createClient } = require('redis');

async function main() {
  const client = createClient({ url: process.env.REDIS_URL });
  client.on('error', (e) => console.error('redis error', e.message));
  await client.connect();
  const app = express();
  app.use(session({
    secret: JSON.parse(process.env.SESSION_SECRETS),
    store: new RedisStore({ client, prefix: 'sess:' }),
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 600000 },
  }));
  // The user object is its id; passport keeps the id in the session.
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id, done) => done(null, { id }));
  app.use(passport.session());
  app.use(flash());
  app.post('/login', (req, res, next) => req.login({ id: req.query.user }, (err) => {
    if (err) return next(err);
    res.json({ user: req.user.id });
  }));
  app.get('/me', (req, res) => (req.user ? res.json({ user: req.user.id }) : res.status(401).json({})));
  app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.json({}))));
  app.post('/flash', (req, res) => { req.flash(req.query.type || 'info', req.query.text); res.json({}); });
  app.get('/flashes', (req, res) => res.json(req.flash()));
  const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  const stop = () => { server.close(); client.quit().finally(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => { console.error(e); process.exit(1); });
