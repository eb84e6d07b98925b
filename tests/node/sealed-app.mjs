// The sealed-cookie (iron, "Fe26.2*...") session apps the interop tests drive beside the
// Rust service. One of three, chosen by SEALED_KIND; the whole session lives in the cookie.
// Configuration comes from the environment; it prints "listening <port>".
//   SEALED_KIND  h3           h3 1.x useSession (package "h3", iron-webcrypto 1.x)
//                h3v2         h3 2.x useSession (package "h3-v2" = npm:h3@2.x)
//                iron-session iron-session 9 getIronSession(req, res, options) on node:http
//   PASSWORD     JSON. h3/h3v2: a JSON string (h3's `password`). iron-session: a JSON string
//                or a password map such as {"1":"old…","2":"new…"} (seals with the highest id)
//   MAX_AGE      optional, seconds: h3 `maxAge`, iron-session `ttl`
//   COOKIE_NAME  optional: h3 `name` (default "h3"), iron-session `cookieName` (default "iron")
// Cookie attributes are the libraries' defaults (Secure, HttpOnly, ...).
// Routes, all answering JSON:
//   GET  /session        h3: {id, createdAt, data}; iron-session: {data}
//   POST /set?k=v&...    sets each pair as a string; json=<JSON object> merges its keys as
//                        parsed JSON; answers like GET /session after the change
//   POST /clear          clears / destroys the session; answers {}
//   GET  /health         {} without touching the session
// A session operation that throws answers 500 {"error": message}.
import { createServer } from 'node:http';

const kind = process.env.SEALED_KIND;
const password = JSON.parse(process.env.PASSWORD ?? 'null');
const maxAge = process.env.MAX_AGE ? Number(process.env.MAX_AGE) : undefined;
const cookieName = process.env.COOKIE_NAME || undefined;

// The update a /set query asks for: [key, value] pairs in order (repeated keys: last wins).
function changesFrom(pairs) {
  const changes = {};
  for (const [k, v] of pairs) {
    if (k === 'json') {
      const parsed = JSON.parse(v);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new Error('json= must hold a JSON object');
      }
      for (const [jk, jv] of Object.entries(parsed)) changes[jk] = jv;
    } else {
      changes[k] = String(v);
    }
  }
  return changes;
}

// getQuery answers an object whose values are strings or, for repeated keys, arrays.
function queryPairs(query) {
  const pairs = [];
  for (const [k, v] of Object.entries(query)) {
    for (const one of Array.isArray(v) ? v : [v]) pairs.push([k, one]);
  }
  return pairs;
}

const errorMessage = (e) => (e instanceof Error ? e.message : String(e));

let listener;

if (kind === 'h3' || kind === 'h3v2') {
  const name = cookieName ?? 'h3';
  const config = { password, name };
  if (maxAge !== undefined) config.maxAge = maxAge;
  // The session as h3 keeps it in the request context (createdAt is not on the manager).
  const view = (event, session) => ({
    id: session.id,
    createdAt: event.context.sessions?.[name]?.createdAt,
    data: session.data,
  });

  if (kind === 'h3') {
    // h3 1.x: createApp + createRouter, node:http through toNodeListener.
    const { createApp, createRouter, eventHandler, getQuery, setResponseStatus, toNodeListener, useSession } =
      await import('h3');
    const guarded = (fn) => eventHandler(async (event) => {
      try {
        return await fn(event);
      } catch (e) {
        setResponseStatus(event, 500);
        return { error: errorMessage(e) };
      }
    });
    const router = createRouter();
    router.get('/health', eventHandler(() => ({})));
    router.get('/session', guarded(async (event) => view(event, await useSession(event, config))));
    router.post('/set', guarded(async (event) => {
      const session = await useSession(event, config);
      await session.update(changesFrom(queryPairs(getQuery(event))));
      return view(event, session);
    }));
    router.post('/clear', guarded(async (event) => {
      const session = await useSession(event, config);
      await session.clear();
      return {};
    }));
    const app = createApp();
    app.use(router);
    listener = toNodeListener(app);
  } else {
    // h3 2.x: new H3() with app.get/app.post; toNodeHandler from the package's node entry
    // (srvx/node) turns app.fetch into a node:http listener.
    const { H3, getQuery, toNodeHandler, useSession } = await import('h3-v2');
    const guarded = (fn) => async (event) => {
      try {
        return await fn(event);
      } catch (e) {
        event.res.status = 500;
        return { error: errorMessage(e) };
      }
    };
    const app = new H3();
    app.get('/health', () => ({}));
    app.get('/session', guarded(async (event) => view(event, await useSession(event, config))));
    app.post('/set', guarded(async (event) => {
      const session = await useSession(event, config);
      await session.update(changesFrom(queryPairs(getQuery(event))));
      return view(event, session);
    }));
    app.post('/clear', guarded(async (event) => {
      const session = await useSession(event, config);
      await session.clear();
      return {};
    }));
    listener = toNodeHandler(app);
  }
} else if (kind === 'iron-session') {
  const { getIronSession } = await import('iron-session');
  const options = { password, cookieName: cookieName ?? 'iron' };
  if (maxAge !== undefined) options.ttl = maxAge;
  const view = (session) => ({ data: { ...session } });
  const send = (res, status, body) => {
    const text = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': text.length });
    res.end(text);
  };
  listener = async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    try {
      switch (route) {
        case 'GET /health':
          return send(res, 200, {});
        case 'GET /session': {
          const session = await getIronSession(req, res, options);
          return send(res, 200, view(session));
        }
        case 'POST /set': {
          const session = await getIronSession(req, res, options);
          Object.assign(session, changesFrom(url.searchParams));
          await session.save();
          return send(res, 200, view(session));
        }
        case 'POST /clear': {
          const session = await getIronSession(req, res, options);
          session.destroy();
          return send(res, 200, {});
        }
        default:
          return send(res, 404, { error: `no route ${route}` });
      }
    } catch (e) {
      if (!res.headersSent) send(res, 500, { error: errorMessage(e) });
      else res.end();
    }
  };
} else {
  console.error(`SEALED_KIND must be h3, h3v2 or iron-session, not ${JSON.stringify(kind)}`);
  process.exit(2);
}

const server = createServer(listener);
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
