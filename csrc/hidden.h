/* Functions shared between the core's C files are not exported from the module:
   luaopen_auth0_apiv2_core is the one public symbol. */
#ifndef APIV2_HIDDEN
#if defined(__GNUC__) && !defined(_WIN32)
#    define APIV2_HIDDEN __attribute__((visibility("hidden")))
#else
#    define APIV2_HIDDEN
#endif
#endif
