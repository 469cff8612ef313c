-- Portcullis token bucket: one atomic decision per request (PRODUCT §1.9, issue 4).
--
-- KEYS[1]  the bucket, "<keyPrefix>rl:{<policy>:<kind>:<value>}" (one key per bucket, so the
--          script is Redis-Cluster safe; the hash tag keeps it so if a second key is ever added)
-- ARGV[1]  capacity (burst), whole tokens
-- ARGV[2]  refill rate, tokens per second (may be fractional)
--
-- Returns { allowed (1|0), remaining whole tokens, ms until the next whole token (0 when one is
-- there), ms until the bucket is full again }.
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

local allowed = 0
if tokens >= 1 then
  allowed = 1
  tokens = tokens - 1
end

local full_ms = math.ceil((capacity - tokens) * 1000 / rate)
if allowed == 1 then
  -- An idle bucket is as good as a full one once it has refilled: let it expire then (+1 s margin).
  redis.call('SET', KEYS[1], string.format('%.17g %.17g', tokens, now), 'PX', full_ms + 1000)
end

local next_ms = 0
if tokens < 1 then
  next_ms = math.ceil((1 - tokens) * 1000 / rate)
end
return { allowed, math.floor(tokens), next_ms, full_ms }
