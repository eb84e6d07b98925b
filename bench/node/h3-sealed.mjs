// h3's own sealed-cookie sessions for the load runs: `node h3-sealed.mjs h3|h3v2`
// (h3 1.15.11 or h3 2.0.8 `useSession`, no store: the session is sealed into the `h3`
// cookie with iron); prints "listening on http://127.0.0.1:<port>". The same routes as
// bench-server: GET /modify, /read, /none.
import { createServer } from 'node:http';

const kind = process.argv[2] || 'h3';
const config = { password: 'a benchmark password of at least 32 characters' };

async function handlers(useSession) {
  return {
    '/modify': async (event) => {
      const session = await useSession(event, config);
      const n = (session.data.n || 0) + 1;
      await session.update({ n });
      return String(n);
    },
    '/read': async (event) => {
      const session = await useSession(event, config);
      return String(session.data.n || 0);
    },
    '/none': () => 'none',
  };
}

let listener;
if (kind === 'h3v2') {
  const { H3, useSession, toNodeHandler } = await import('h3-v2');
  const app = new H3();
  for (const [path, handler] of Object.entries(await handlers(useSession))) app.get(path, handler);
  listener = toNodeHandler(app);
} else {
  const { createApp, createRouter, eventHandler, toNodeListener, useSession } = await import('h3');
  const app = createApp();
  const router = createRouter();
  for (const [path, handler] of Object.entries(await handlers(useSession))) {
    router.get(path, eventHandler(handler));
  }
  app.use(router);
  listener = toNodeListener(app);
}
const server = createServer(listener);
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
