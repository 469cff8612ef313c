-- Portcullis forward auth for HAProxy 2.6+ (docs/forward-auth.md, "HAProxy").
--
--   global
--     lua-load config/haproxy/portcullis-auth.lua
--   frontend ...
--     http-request lua.portcullis-auth http://127.0.0.1:8081/haproxy X-User-Id,X-User-Email,X-User-Roles
--
-- One action, one GET to Portcullis's `/haproxy` endpoint per request, made with HAProxy's own
-- non-blocking HTTP client (core.httpclient, HAProxy 2.5+): no socket library, no extra Lua module.
--
-- Argument 1: the URL of the endpoint. Argument 2: the identity headers (comma-separated), which
-- must be the `identityHeaders` names of the Portcullis routes.
--
-- The check carries the client's request headers (Authorization, Cookie, what the WAF inspects),
-- the X-Original-* / X-Forwarded-* / X-Real-IP headers haproxy.cfg set just before, and no body.
--
-- Allow (exactly 200): every copy of each identity header is deleted from the request, then the
-- answer's values are added; so are the headers Portcullis names in X-Portcullis-Remove-Headers
-- (a client's alias spellings such as X_User_Id, a route's forwardAuthorization: false), and the
-- path becomes X-Portcullis-Path, the normalised path Portcullis decided on (/admin/../public/x
-- reaches the backend as /public/x, so a backend cannot read it as something under /admin). The
-- answer's RateLimit fields and X-Request-Id are kept in txn vars for `http-response set-header`.
-- Sets txn.auth_response_successful (true) and txn.auth_response_code (200), the names of the
-- auth-request.lua convention, so that haproxy.cfg rules can read them.
--
-- Anything else is a denial: the client receives Portcullis's status, headers and body as they
-- are (401 + WWW-Authenticate, 403, 429 + Retry-After, 404, 400, 302 to sign in, 503), and the
-- request never reaches a backend. If Portcullis cannot be asked (down, timeout, a broken
-- answer), the client receives 503 + Retry-After: 5: fail closed, never open.

-- Hop-by-hop and framing headers are HAProxy's business on each leg; Host is the URL's.
local NOT_SENT = {
  ["host"] = true, ["content-length"] = true, ["transfer-encoding"] = true, ["connection"] = true,
  ["keep-alive"] = true, ["te"] = true, ["upgrade"] = true, ["expect"] = true,
  ["proxy-connection"] = true, ["trailer"] = true,
}
local NOT_RETURNED = {
  ["content-length"] = true, ["transfer-encoding"] = true, ["connection"] = true, ["keep-alive"] = true,
}
-- Response fields of an allow that haproxy.cfg hands to the client (txn.portcullis_<name>).
local KEPT_ON_ALLOW = { ["ratelimit"] = "ratelimit", ["ratelimit-policy"] = "ratelimit_policy", ["x-request-id"] = "request_id" }

local TIMEOUT_MS = 5000

local function split_names(list)
  local names = {}
  if list == nil then return names end
  for name in string.gmatch(list, "[^,%s]+") do names[#names + 1] = string.lower(name) end
  return names
end

-- A header's values as a list: HAProxy's tables count from 0, a plain Lua list from 1.
local function values_of(v)
  if type(v) ~= "table" then return { v } end
  local out = {}
  local i = v[0] ~= nil and 0 or 1
  while v[i] ~= nil do out[#out + 1] = v[i]; i = i + 1 end
  return out
end

local function request_headers(txn)
  local out = {}
  for name, v in pairs(txn.http:req_get_headers()) do
    local lname = string.lower(name)
    if not NOT_SENT[lname] then out[lname] = values_of(v) end
  end
  return out
end

local function first(headers, name)
  local v = headers[name]
  if v == nil then return nil end
  return values_of(v)[1]
end

-- The client gets the denial exactly as Portcullis wrote it, minus framing headers.
local function deny(txn, status, headers, body)
  local reply = txn:reply()
  reply:set_status(status)
  for name, v in pairs(headers) do
    local lname = string.lower(name)
    if not NOT_RETURNED[lname] then
      for _, value in ipairs(values_of(v)) do reply:add_header(lname, value) end
    end
  end
  if body ~= nil and body ~= "" then reply:set_body(body) end
  txn:done(reply)
end

local function unavailable(txn, why)
  txn:Warning("portcullis-auth: " .. why)
  txn:set_var("txn.auth_response_code", 503)
  local reply = txn:reply({
    status = 503,
    headers = { ["content-type"] = { "application/json" }, ["retry-after"] = { "5" }, ["cache-control"] = { "no-store" } },
    body = '{"error":"auth_unavailable"}',
  })
  txn:done(reply)
end

local function allow(txn, headers, identity)
  -- Every client copy of an identity header goes, whether or not the answer carries one (an absent
  -- claim means no header), then the answer's values are added.
  for _, name in ipairs(identity) do txn.http:req_del_header(name) end
  local remove = first(headers, "x-portcullis-remove-headers")
  if remove ~= nil then
    for _, name in ipairs(split_names(remove)) do txn.http:req_del_header(name) end
  end
  for _, name in ipairs(identity) do
    local v = headers[name]
    if v ~= nil then
      for _, value in ipairs(values_of(v)) do txn.http:req_add_header(name, value) end
    end
  end
  local path = first(headers, "x-portcullis-path")
  if path ~= nil then txn.http:req_set_path(path) end
  for field, var in pairs(KEPT_ON_ALLOW) do
    local value = first(headers, field)
    if value ~= nil then txn:set_var("txn.portcullis_" .. var, value) end
  end
  txn:set_var("txn.auth_response_code", 200)
  txn:set_var("txn.auth_response_successful", true)
end

core.register_action("portcullis-auth", { "http-req" }, function(txn, url, identity_list)
  txn:set_var("txn.auth_response_successful", false)
  local identity = split_names(identity_list)
  local client = core.httpclient()
  local ok, res = pcall(client.get, client, { url = url, headers = request_headers(txn), timeout = TIMEOUT_MS })
  if not ok then return unavailable(txn, "request failed: " .. tostring(res)) end
  if res == nil or res.status == nil or res.status == 0 then return unavailable(txn, "no answer from " .. url) end
  local headers = {}
  for name, v in pairs(res.headers or {}) do headers[string.lower(name)] = v end
  -- Every answer of Portcullis carries X-Request-Id; one without is not Portcullis's (HAProxy's HTTP
  -- client makes up a 503 when it cannot connect, a proxy in between may answer): fail closed.
  if first(headers, "x-request-id") == nil then return unavailable(txn, "answer without x-request-id, status " .. res.status) end
  -- A 5xx is Portcullis's own refusal (keys not loaded, Redis down): passed on, never an allow.
  if res.status == 200 then return allow(txn, headers, identity) end
  txn:set_var("txn.auth_response_code", res.status)
  deny(txn, res.status, headers, res.body)
end, 2)
