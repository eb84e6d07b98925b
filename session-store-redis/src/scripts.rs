//! The Lua scripts. Each runs atomically on the server and is one command for the
//! client (EVALSHA).
//!
//! The TTL a touch applies is computed on the server from the stored record itself, as
//! `session_core::Record::ttl_for_touch` does: the cookie's `originalMaxAge` (never the
//! payload's `expires`, which connect-redis's touch leaves stale), or the store's
//! default for a browser-session cookie, capped by `__sessionMeta.idleTimeout`; in whole
//! seconds rounded up, as connect-redis's `EX`, at most ten years (a non-finite value
//! in a hostile record falls back to the default). A TTL of zero or less deletes the key.

use redis::Script;

/// Shared Lua: `ttl_of(value, default_ttl)` → seconds, or nil if the value is not a
/// decodable record (then nothing is extended).
///
/// Fast path: express-session and this project both write the `cookie` object first and
/// `originalMaxAge` first inside it, so an anchored match reads it without decoding a
/// possibly large record. Records that do not start that way, and records that carry
/// `__sessionMeta` (whose idle timeout needs the real key, not a look-alike inside user
/// data), are decoded in full.
macro_rules! ttl_fn {
    () => {
        r#"
local MAX_TTL = 315360000 -- ten years; also keeps the number an integer when sent
local function clamp(ttl, default_ttl)
  if ttl ~= ttl or ttl == math.huge then return default_ttl end -- NaN, +inf
  if ttl > MAX_TTL then return MAX_TTL end
  return ttl
end
local function ttl_of(v, default_ttl)
  if not string.find(v, '"__sessionMeta"', 1, true) then
    if string.find(v, '^{"cookie":{"originalMaxAge":null[,}]') then
      return default_ttl
    end
    local ms = string.match(v, '^{"cookie":{"originalMaxAge":(%-?%d+%.?%d*)[,}]')
    if ms then
      return clamp(math.ceil(tonumber(ms) / 1000), default_ttl)
    end
  end
  local ok, rec = pcall(cjson.decode, v)
  if not ok or type(rec) ~= 'table' then return nil end
  local ttl = default_ttl
  local c = rec['cookie']
  if type(c) == 'table' and type(c['originalMaxAge']) == 'number' then
    ttl = math.ceil(c['originalMaxAge'] / 1000)
  end
  local m = rec['__sessionMeta']
  if type(m) == 'table' and type(m['idleTimeout']) == 'number' then
    ttl = math.min(ttl, math.ceil(m['idleTimeout'] / 1000))
  end
  return clamp(ttl, default_ttl)
end
"#
    };
}

/// LOAD: `GET` and, when `ARGV[1] == '1'` and the value is at most `ARGV[3]` bytes,
/// re-apply the TTL (`ARGV[2]` = default seconds).
/// Returns nil (missing or just expired), or `{value, touched}`.
pub(crate) fn load() -> Script {
    Script::new(concat!(
        ttl_fn!(),
        r#"
local v = redis.call('GET', KEYS[1])
if not v then return false end
if ARGV[1] == '1' and #v <= tonumber(ARGV[3]) then
  local ttl = ttl_of(v, tonumber(ARGV[2]))
  if ttl then
    if ttl <= 0 then
      redis.call('DEL', KEYS[1])
      return false
    end
    redis.call('EXPIRE', KEYS[1], ttl)
    return {v, 1}
  end
end
return {v, 0}
"#
    ))
}

/// TOUCH: re-apply the TTL from the stored record (`ARGV[1]` = default seconds,
/// `ARGV[2]` = size limit). Returns 0 if the key is missing, 1 otherwise.
pub(crate) fn touch() -> Script {
    Script::new(concat!(
        ttl_fn!(),
        r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if #v > tonumber(ARGV[2]) then return 1 end
local ttl = ttl_of(v, tonumber(ARGV[1]))
if ttl then
  if ttl <= 0 then redis.call('DEL', KEYS[1]) else redis.call('EXPIRE', KEYS[1], ttl) end
end
return 1
"#
    ))
}

/// CAS: write `ARGV[2]` only if the key exists and the SHA-1 of its value is `ARGV[1]`.
/// `ARGV[3]`: TTL seconds, `0` for no expiry, `-1` to delete instead.
/// Returns 0 (missing), -1 (version conflict), 1 (written) or 2 (deleted).
pub(crate) fn compare_and_set() -> Script {
    Script::new(
        r#"
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if redis.sha1hex(cur) ~= ARGV[1] then return -1 end
if ARGV[3] == '-1' then
  redis.call('DEL', KEYS[1])
  return 2
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 1
"#,
    )
}
