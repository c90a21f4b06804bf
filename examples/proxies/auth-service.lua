-- auth-service.lua: HAProxy asks auth_service who the reader is, as nginx's
-- auth_request does. Loaded by haproxy.cfg (beside this file) with `lua-load`.
--
-- HAProxy has no auth_request of its own, and the Lua libraries that add one
-- are not packaged by Debian; HAProxy's own HTTP client (core.httpclient, since
-- HAProxy 2.5; Debian 12 has 2.6) makes this a few lines. It registers one
-- action:
--
--   http-request lua.auth-service-check <URL of /api/session> if <protected>
--
-- which sends GET <URL> with the reader's cookie, and nothing else of the
-- reader's request, and leaves the answer in variables for haproxy.cfg:
--
--   txn.auth_status     200 (signed in), 401 (not), or 0 (no answer: the service
--                       is down, slow or unreachable)
--   txn.auth_user_id    \
--   txn.auth_email       } the 200's X-Auth-User-Id, X-Auth-Email, X-Auth-Name
--   txn.auth_name       /
--   txn.auth_login_url  the 401's X-Auth-Login-Url: the service's /login with
--                       return_to this page, percent-encoded
--
-- It decides nothing itself: haproxy.cfg redirects, refuses or passes the request
-- on, so every decision is written where an operator reads the configuration.
-- (A variable haproxy.cfg does not use is not set: HAProxy's advice, so that
-- Lua never creates variable names at run time.)

-- How long the service may take to answer, in milliseconds: no answer by then
-- is status 0, which haproxy.cfg turns into a 503, never a way in. HAProxy's
-- client tries three more times before it gives up, so a service that hangs
-- holds the reader up to about four times this (and one that is down, about
-- 3 s: a second between tries) before the 503. A healthy one answers in a few
-- milliseconds.
local TIMEOUT_MS = 2000

-- The first value of a response header. HAProxy gives each header as a list of
-- its values, numbered from 0, under its lower-case name.
local function header(response, name)
    local values = response.headers and response.headers[name]
    return values and values[0]
end

-- The reader's cookies as one header: a client may send several "cookie" headers
-- (an HTTP/2 client may send one per cookie). Numbered from 0, as above.
local function cookies(txn)
    local values = txn.http:req_get_headers()["cookie"]
    if values == nil then
        return nil
    end
    local all = {}
    local index = 0
    while values[index] ~= nil do
        all[#all + 1] = values[index]
        index = index + 1
    end
    return table.concat(all, "; ")
end

local function check(txn, address)
    txn:set_var("txn.auth_status", 0, true)

    -- The page the reader asked for, so that a refusal's X-Auth-Login-Url comes
    -- back to it: pathq is the path and query exactly as the browser sent them.
    -- ssl_fc (a TLS connection?) gives 1 or 0, and 0 counts as true in Lua.
    local scheme = txn.f:ssl_fc() == 1 and "https" or "http"
    local headers = {
        ["x-forwarded-proto"] = { scheme },
        ["x-forwarded-host"] = { txn.f:req_hdr("host") or "" },
        ["x-forwarded-uri"] = { txn.f:pathq() or "/" },
    }
    local cookie = cookies(txn)
    if cookie ~= nil then
        headers["cookie"] = { cookie }
    end

    -- A failure to connect is an error in Lua, or a response without a status.
    local ok, response = pcall(function()
        return core.httpclient():get{ url = address, headers = headers, timeout = TIMEOUT_MS }
    end)
    if not ok or response == nil or tonumber(response.status) == nil then
        txn:Warning("auth-service-check: no answer from " .. address)
        return
    end

    local status = tonumber(response.status)
    txn:set_var("txn.auth_status", status, true)
    if status == 200 then
        txn:set_var("txn.auth_user_id", header(response, "x-auth-user-id") or "", true)
        txn:set_var("txn.auth_email", header(response, "x-auth-email") or "", true)
        txn:set_var("txn.auth_name", header(response, "x-auth-name") or "", true)
    elseif status == 401 then
        txn:set_var("txn.auth_login_url", header(response, "x-auth-login-url") or "", true)
    end
end

core.register_action("auth-service-check", { "http-req" }, check, 1)
