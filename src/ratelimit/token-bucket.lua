-- Portcullis token bucket: one atomic decision per request (PRODUCT §1.9, issue 4).
--
-- KEYS[1]  the bucket, "<keyPrefix>rl:{<policy>:<kind>:<value>}" (one key per bucket, so the
--          script is Redis-Cluster safe; the hash tag keeps it so if a second key is ever added)
-- ARGV[1]  capacity (burst), whole tokens
-- ARGV[2]  refill rate, tokens per second (may be fractional)
-- ARGV[3]  optional, default 1: tokens to take. 1 is the exact mode (one decision per request);
--          more is a bounded local lease (issue 17, lease.ts): as many whole tokens as the bucket
--          holds, up to this many, are taken at once and spent by the gateway that asked
-- ARGV[4]  optional, default 0: unspent tokens of that gateway's previous lease, put back (never
--          past capacity) before anything is taken; 0 tokens to take with a refund only returns
--
-- Returns { tokens taken (1|0 in the exact mode: allowed), remaining whole tokens, ms until the
-- next whole token (0 when one is there), ms until the bucket is full again }.
--
-- The stored value is "<tokens> <ms timestamp>", written with SET … PX: one key, one write, and the
-- expiry in the same command. Time is Redis's own (TIME), so the gateways' clocks never matter;
-- Redis 7 replicates scripts by effects, which is what lets a writing script read TIME.
-- Traefik's limiter passes the gateway's clock in ARGV instead; with several gateways that lets
-- a skewed host mint tokens. A new bucket starts full, as Envoy's token_bucket does.
--
-- A denied request consumes nothing and writes nothing: the stored (tokens, time) pair already
-- implies the refilled state, so skipping the write changes no future decision.
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local want = tonumber(ARGV[3]) or 1
local refund = tonumber(ARGV[4]) or 0

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000

local tokens = capacity
local stored = redis.call('GET', KEYS[1])
if stored then
  local s_tokens, s_ts = string.match(stored, '^(%S+) (%S+)$')
  s_tokens, s_ts = tonumber(s_tokens), tonumber(s_ts)
  if s_tokens and s_ts then
    tokens = s_tokens
    -- A clock that went backwards (failover to a host with a slower clock) refills nothing.
    if now > s_ts then
      tokens = math.min(capacity, tokens + (now - s_ts) * rate / 1000)
    end
  end
end

if refund > 0 then
  tokens = math.min(capacity, tokens + refund)
end

-- Exact mode: 1 when a whole token is there, else 0 (a denial takes nothing).
local taken = math.min(want, math.floor(tokens))
tokens = tokens - taken

local full_ms = math.ceil((capacity - tokens) * 1000 / rate)
if taken > 0 or refund > 0 then
  -- An idle bucket is as good as a full one once it has refilled: let it expire then (+1 s margin).
  redis.call('SET', KEYS[1], string.format('%.17g %.17g', tokens, now), 'PX', full_ms + 1000)
end

local next_ms = 0
if tokens < 1 then
  next_ms = math.ceil((1 - tokens) * 1000 / rate)
end
return { taken, math.floor(tokens), next_ms, full_ms }
