#!/usr/bin/env bash
# Regenerates tests/data/express-fixture.json from the real express app: a session
# created by express-session + connect-redis (cookie and the exact stored bytes).
# Needs node (with `npm ci` done here), redis-server, redis-cli and curl. Loopback only;
# stops only what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../data/express-fixture.json"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize no --logfile '' >/dev/null &
redis_pid=$!
node_pid=
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; kill "$redis_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
fifo="$dir/out"; mkfifo "$fifo"
REDIS_URL="redis://127.0.0.1:$port/" SESSION_SECRETS='["keyboard cat"]' MAX_AGE_MS=86400000 node "$here/app.js" >"$fifo" &
node_pid=$!
read -r line <"$fifo"
app="http://127.0.0.1:${line#listening }"
jar="$dir/jar"
curl -s -c "$jar" -b "$jar" "$app/" >/dev/null
curl -s -c "$jar" -b "$jar" -X POST "$app/complex" >/dev/null
set_cookie=$(curl -s -D - -o /dev/null -c "$jar" -b "$jar" -X POST "$app/set?user=ada" | tr -d '\r' | grep -i '^set-cookie:' | sed 's/^[Ss]et-[Cc]ookie: //')
cookie=${set_cookie%%;*}
id=$(printf '%s' "${cookie#connect.sid=s%3A}" | cut -d. -f1)
stored=$(redis-cli -p "$port" --raw GET "sess:$id")
versions=$(cd "$here" && node -e 'const fs=require("fs"); for (const p of ["express","express-session","connect-redis","redis"]) process.stdout.write(p+"@"+JSON.parse(fs.readFileSync("node_modules/"+p+"/package.json")).version+" ")')
python3 - "$out" "$cookie" "$set_cookie" "sess:$id" "$stored" "$versions" <<'PY'
import json, sys
out, cookie, set_cookie, key, stored, versions = sys.argv[1:]
json.dump({"generated_by": "tests/node/make-fixture.sh with " + versions.strip(), "secret": "keyboard cat",
           "cookie": cookie, "set_cookie": set_cookie, "key": key, "stored": stored}, open(out, "w"), indent=2, ensure_ascii=False)
open(out, "a").write("\n")
PY
echo "wrote $out"
