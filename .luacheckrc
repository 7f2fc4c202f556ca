std = "max"
max_line_length = 100
not_globals = { "string.len", "table.getn" }
exclude_files = { "build/**", ".rocks/**", "**/node_modules/**" }
-- Specs assert long error messages verbatim.
files["spec/**/*.lua"] = { std = "+busted", max_line_length = 120 }
files["lua/auth0/apiv2/internal/http/cosocket.lua"] = { read_globals = { "ngx" } }
