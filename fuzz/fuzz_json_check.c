/* libFuzzer target for csrc/json_check.c. Build (from the repo root):
     clang -g -O1 -fsanitize=fuzzer,address,undefined -Icsrc fuzz/fuzz_json_check.c csrc/json_check.c
   Cross-checks the entry points against each other and the documented reason strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const expected_reasons[] = { "ok",           "invalid utf8",
                                                    "invalid json", "duplicate member",
                                                    "too deep",     "out of memory" };
    const char *text = (const char *)data;
    const char *reason = NULL;
    int code = apiv2_json_check(text, size, &reason);
    int utf8_ok = apiv2_utf8_valid(text, size);

    if (code < 0 || code > APIV2_JSON_NO_MEMORY || reason == NULL ||
        strcmp(reason, expected_reasons[code]) != 0)
        abort();
    /* Accepted JSON is valid UTF-8; the UTF-8 verdict decides exactly when that reason appears. */
    if (code == APIV2_JSON_OK && !utf8_ok) abort();
    if ((code == APIV2_JSON_BAD_UTF8) != !utf8_ok) abort();
    /* Same answer on a second call: no hidden state carried between calls. */
    if (apiv2_json_check(text, size, NULL) != code) abort();
    /* Same answer when top-level members are recorded, as the verifier does (a wanted name's
       repeat is found by its slot, not by the pairwise check), and the records lie inside
       the text. */
    {
        static const apiv2_json_want wants[] = { { "alg", 3 }, { "exp", 3 },   { "aud", 3 },
                                                 { "jti", 3 }, { "scope", 5 }, { "a", 1 } };
        apiv2_json_span found[sizeof wants / sizeof wants[0]];
        size_t i, n = sizeof wants / sizeof wants[0];
        if (apiv2_json_check_members(text, size, NULL, wants, n, found, NULL) != code) abort();
        for (i = 0; code == APIV2_JSON_OK && i < n; i++)
            if (found[i].kind != 0 && (found[i].start >= found[i].end || found[i].end > size))
                abort();
    }
    return 0;
}
