//! The Lua scripts. Each runs atomically on the server and is one command for the
//! client (EVALSHA).
//!
//! No script reads or decodes more than 4 KiB of a record on the request path: loading
//! is a plain `GETEX` (the TTL is computed by the client, see `slide.rs`), and the touch
//! reads only the first 4 KiB, where every TTL input sits (below), so Redis's work per
//! request does not grow with the size of a session.

use redis::Script;

/// TOUCH: re-apply the TTL from the stored record (`ARGV[1]` = default seconds,
/// `ARGV[2]` = size limit). Returns 0 if the key is missing; for a record whose
/// bookkeeping names a signed-in user (`__sessionMeta.user64`), `"<ttl>:<user64>"`, so
/// that the client extends that user's index as far (for a record of at most 4 KiB
/// without it, as express writes them, `"<ttl>:=<passport.user>"`); 1 otherwise.
///
/// The TTL is computed on the server from the record itself, as
/// `session_core::store::Record::ttl_for_touch` does: the cookie's `originalMaxAge` (never the
/// payload's `expires`, which connect-redis's touch leaves stale), or the default for a
/// browser-session cookie, capped by `__sessionMeta.idleTimeout`; in whole seconds
/// rounded up, at most ten years. A TTL of zero or less deletes the key.
///
/// Only the record's first 4 KiB are read (`GETRANGE`). A record that fits in them and
/// has bookkeeping (or an unusual layout) is decoded whole. A longer one is read from its first bytes: express-session writes
/// the `cookie` object first with `originalMaxAge` first inside it, and this project
/// writes `__sessionMeta` right after it (express-session keeps that order when it
/// writes a record back). A longer record that starts otherwise, or whose first 4 KiB
/// end inside those objects, is left as it is (its next load sets its TTL from the
/// whole record, on the client).
pub(crate) fn touch() -> Script {
    Script::new(TOUCH_LUA)
}

const TOUCH_LUA: &str = r#"
local MAX_TTL = 315360000 -- ten years (session_core::store::MAX_STORE_TTL); also keeps the number an integer when sent
local function clamp(ttl, default_ttl)
  if ttl ~= ttl or ttl == math.huge then return default_ttl end -- NaN, +inf
  if ttl > MAX_TTL then return MAX_TTL end
  return ttl
end
-- A whole record, decoded: its TTL and its signed-in user (base64url), if any.
local function ttl_of_record(v, default_ttl)
  local ok, rec = pcall(cjson.decode, v)
  if not ok or type(rec) ~= 'table' then return nil end
  local ttl = default_ttl
  local c = rec['cookie']
  if type(c) == 'table' and type(c['originalMaxAge']) == 'number' then
    ttl = math.ceil(c['originalMaxAge'] / 1000)
  end
  local m = rec['__sessionMeta']
  local user = nil
  if type(m) == 'table' then
    if type(m['idleTimeout']) == 'number' then
      ttl = math.min(ttl, math.ceil(m['idleTimeout'] / 1000))
    end
    if type(m['user64']) == 'string' then user = m['user64'] end
  end
  -- A record this project never wrote (express's) names its user only in passport's
  -- place: sent as is, marked with '=' (not in base64url's alphabet).
  local p = rec['passport']
  if user == nil and type(p) == 'table' then
    local u = p['user']
    if type(u) == 'string' and u ~= '' then
      user = '=' .. u
    elseif type(u) == 'number' and u == math.floor(u) and math.abs(u) < 9007199254740992 then
      user = '=' .. string.format('%d', u)
    end
  end
  return clamp(ttl, default_ttl), user
end
-- The index of the '}' closing the object that opens at s[i], or nil if s ends first.
-- Jumps from one brace or quote to the next (string.find), not byte by byte.
local function object_end(s, i)
  local depth = 0
  while true do
    i = string.find(s, '[{}"]', i)
    if not i then return nil end
    local c = string.byte(s, i)
    if c == 34 then -- a string: jump to its closing quote
      i = i + 1
      while true do
        local q = string.find(s, '["\\]', i)
        if not q then return nil end
        if string.byte(s, q) == 92 then i = q + 2 else i = q; break end
      end
    elseif c == 123 then depth = depth + 1
    else
      depth = depth - 1
      if depth == 0 then return i end
    end
    i = i + 1
  end
end

-- The first bytes of a longer record; nil if they do not tell. Also the signed-in
-- user (base64url) the bookkeeping names, if any.
local function ttl_of_prefix(p, default_ttl)
  local ttl, pos, n, user = default_ttl, 2, #p, nil
  local meta = '"__sessionMeta":{'
  if string.sub(p, 1, 10) == '{"cookie":' then
    if string.find(p, '^{"cookie":{"originalMaxAge":null[,}]') == nil then
      local ms = string.match(p, '^{"cookie":{"originalMaxAge":(%-?%d+%.?%d*)[,}]')
      if not ms then return nil end
      ttl = math.ceil(tonumber(ms) / 1000)
    end
    local e = object_end(p, 11)
    if not e or e + #meta + 1 > n then return nil end
    if string.sub(p, e + 1, e + 1) ~= ',' then return nil end
    pos = e + 2
  elseif string.sub(p, 1, #meta + 1) ~= '{' .. meta then
    return nil
  end
  if string.sub(p, pos, pos + #meta - 1) == meta then
    local e = object_end(p, pos + #meta - 1)
    if not e then return nil end
    local m = string.sub(p, pos + #meta - 1, e)
    local idle = string.match(m, '"idleTimeout":(%-?%d+%.?%d*)')
    if idle then ttl = math.min(ttl, math.ceil(tonumber(idle) / 1000)) end
    user = string.match(m, '"user64":"([%w_%-]+)"')
  end
  return clamp(ttl, default_ttl), user
end
local len = redis.call('STRLEN', KEYS[1])
if len == 0 then return 0 end
if len > tonumber(ARGV[2]) then return 1 end
local p = redis.call('GETRANGE', KEYS[1], 0, 4095)
local ttl, user
if len > 4096 then
  ttl, user = ttl_of_prefix(p, tonumber(ARGV[1]))
elseif not string.find(p, '"__sessionMeta"', 1, true) then
  -- A short record without bookkeeping: its first bytes tell, or decode it (also to
  -- find a signed-in user in passport's place, as express writes it).
  ttl, user = ttl_of_prefix(p, tonumber(ARGV[1]))
  if not ttl or string.find(p, '"passport"', 1, true) then
    ttl, user = ttl_of_record(p, tonumber(ARGV[1]))
  end
else
  ttl, user = ttl_of_record(p, tonumber(ARGV[1]))
end
if ttl then
  if ttl <= 0 then
    redis.call('DEL', KEYS[1])
  else
    redis.call('EXPIRE', KEYS[1], ttl)
    if user then return string.format('%d:%s', ttl, user) end
  end
end
return 1
"#;

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

#[cfg(test)]
mod tests {
    #[test]
    fn the_touch_script_caps_the_ttl_where_the_core_does() {
        let cap = session_core::store::MAX_STORE_TTL.as_secs();
        assert!(super::TOUCH_LUA.contains(&format!("local MAX_TTL = {cap} ")));
    }
}
