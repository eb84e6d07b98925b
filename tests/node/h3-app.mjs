// The @scayle/h3-session app the interop tests drive beside the Rust service: h3 1.x,
// @scayle/h3-session with its UnstorageSessionStore on unstorage's Redis driver.
// Configuration comes from the environment; it prints "listening <port>".
//   REDIS_URL        redis://127.0.0.1:<port>/
//   SESSION_SECRETS  JSON list; h3-session signs with the LAST one
import { createServer } from 'node:http';
import { createApp, createRouter, eventHandler, getQuery, toNodeListener } from 'h3';
import { useSession, UnstorageSessionStore } from '@scayle/h3-session';
import { createStorage } from 'unstorage';
import redisDriver from 'unstorage/drivers/redis';

const storage = createStorage({ driver: redisDriver({ url: process.env.REDIS_URL }) });
const store = new UnstorageSessionStore(storage, { prefix: 'sess', ttl: 60 * 60 * 24 });
const secret = JSON.parse(process.env.SESSION_SECRETS || '["keyboard cat"]');

const app = createApp();
app.use(eventHandler(async (event) => {
  await useSession(event, { store, secret, cookie: { secure: false } });
}));
const router = createRouter();
// The data, and the id h3-session sees.
router.get('/session', eventHandler((event) => ({
  id: event.context.sessionId,
  data: event.context.session.data,
})));
// Stores each query pair as a string and saves (h3-session saves only when asked).
router.post('/set', eventHandler(async (event) => {
  const session = event.context.session;
  for (const [k, v] of Object.entries(getQuery(event))) session.data[k] = v;
  await session.save();
  return { id: session.id, data: session.data };
}));
router.post('/destroy', eventHandler(async (event) => {
  await event.context.session.destroy();
  return {};
}));
app.use(router);

const server = createServer(toNodeListener(app));
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
