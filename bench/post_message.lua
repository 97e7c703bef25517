-- wrk script: POST /api/v1/rooms/<room>/messages as the benchmark user, each with its own client_msg_id.
-- Environment (read by the shell and passed as wrk arguments): token, room id.
local counter = 0
local token, room

function init(args)
    token = args[1]
    room = args[2]
    counter = math.random(1, 1000000000) * 1000
end

function request()
    counter = counter + 1
    local body = '{"content":"benchmark message ' .. counter .. '","client_msg_id":"b' .. counter .. '"}'
    return wrk.format("POST", "/api/v1/rooms/" .. room .. "/messages",
        { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
