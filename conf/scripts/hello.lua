-- The smallest API script: `lua hello.lua world` answers "Hello, world".
local who = argv[1] or "world"
stream:write("Hello, " .. who .. "\n")
