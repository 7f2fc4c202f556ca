/* libFuzzer target for csrc/json_check.c. Build (from the repo root):
     clang -g -O1 -fsanitize=fuzzer,address,undefined -Icsrc fuzz/fuzz_json_check.c csrc/json_check.c
   Cross-checks the two entry points against each other and the documented reason strings. */
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
    return 0;
}
