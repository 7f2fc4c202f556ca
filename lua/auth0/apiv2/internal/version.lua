--- The release of the Lua modules. `csrc/core.c`'s APIV2_VERSION moves with it (a spec checks
-- both and CHANGELOG.md), and auth0.apiv2.internal.core refuses a core of another release.
return "0.1.0"
