-- wrk script: GET the URL's path with a bearer token (first script argument).
local token

function init(args)
    token = args[1]
end

function request()
    return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
end
