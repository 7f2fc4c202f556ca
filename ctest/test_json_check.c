/* Standalone tests for json_check.c. Build (from the repo root):
     cc -std=c99 -Wall -Wextra -pedantic -Icsrc -Wl,--wrap=malloc,--wrap=realloc \
       ctest/test_json_check.c csrc/json_check.c -o /tmp/t
   Every input is copied into a malloc block of exactly its length, so ASan and valgrind catch
   any read past len. The last line printed is "N passed, M failed"; exit status is M != 0.
   It is linked with --wrap for malloc and realloc (GNU ld, as the Makefile does), so that the
   out-of-memory path is tested too: see counted_alloc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"

#define OK APIV2_JSON_OK
#define UTF8 APIV2_JSON_BAD_UTF8
#define BAD APIV2_JSON_INVALID
#define DUP APIV2_JSON_DUPLICATE
#define DEEP APIV2_JSON_TOO_DEEP

/* The checker's malloc and realloc, wrapped by the linker (--wrap): while `armed`, calls are
   counted and the one numbered fail_at (from 0) fails, as an exhausted heap would. */
static int armed;
static long alloc_calls;
static long fail_at = -1;
static long last_calls; /* allocations apiv2_json_check made for run_check's last input */

void *__real_malloc(size_t size);
void *__real_realloc(void *block, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *block, size_t size);

static int counted_alloc(void) {
    if (!armed) return 1;
    return alloc_calls++ != fail_at;
}

void *__wrap_malloc(size_t size) {
    return counted_alloc() ? __real_malloc(size) : NULL;
}

void *__wrap_realloc(void *block, size_t size) {
    return counted_alloc() ? __real_realloc(block, size) : NULL;
}

typedef struct {
    const char *text;
    size_t len; /* sizeof - 1, so embedded NULs count */
    int expect;
} check_case;

#define CASE(literal, expect) \
    { literal, sizeof(literal) - 1, expect }

static const check_case check_cases[] = {
    /* Accepted: every value type, whitespace, numbers, strings, escapes. */
    CASE("{}", OK),
    CASE("[]", OK),
    CASE("{ }", OK),
    CASE("[ ]", OK),
    CASE(" \t\r\n{ } \n\t\r ", OK),
    CASE("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", OK),
    CASE("{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false}", OK),
    CASE("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }", OK),
    CASE("[[[]]]", OK),
    CASE("{\"a\":[]}", OK),
    CASE("{\"a\":{}}", OK),
    CASE("true", OK),
    CASE("false", OK),
    CASE("null", OK),
    CASE("0", OK),
    CASE("-0", OK),
    CASE("-0.75", OK),
    CASE("1E+2", OK),
    CASE("1e-2", OK),
    CASE("1.5e10", OK),
    CASE("1.0E-0", OK),
    CASE("0.0", OK),
    CASE("9007199254740992", OK),
    CASE("9007199254740993", OK),
    CASE("-9007199254740993", OK),
    CASE("123456789012345678901234567890", OK),
    CASE(" 42 ", OK),
    CASE("\"\"", OK),
    CASE("\"plain\"", OK),
    CASE("\"\\ud83d\\ude00\"", OK),
    CASE("\"\\uD83D\\uDE00\"", OK),
    CASE("\"\\u0000\"", OK),
    CASE("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", OK),
    CASE("\"\\u00e9\"", OK),
    CASE("\"\xc3\xa9\"", OK),
    CASE("\"\xe2\x82\xac \\u20ac\"", OK),
    CASE("\"\xef\xbf\xbf\"", OK),
    CASE("\"\xf0\x9f\x98\x80\"", OK),
    CASE("\"\xf4\x8f\xbf\xbf\"", OK),
    CASE("\"DEL\x7f\"", OK),
    CASE("\"/\"", OK),
    /* Accepted: names that look alike but differ after unescaping. */
    CASE("{\"a\":1,\"A\":1}", OK),
    CASE("{\"a\":1,\"a \":2}", OK),
    CASE("{\"\":1}", OK),
    CASE("{\"\\u00e9\":1,\"e\":2}", OK),
    CASE("{\"a\\u0000\":1,\"a\":2}", OK),
    CASE("{\"\\u0000\":1,\"\":2}", OK),
    CASE("{\"a\":{\"a\":{\"a\":1}}}", OK),
    CASE("[{\"a\":1},{\"a\":2}]", OK),
    CASE("{\"x\":{\"a\":1},\"y\":{\"a\":1}}", OK),
    CASE("{\"a\":\"a\",\"b\":\"a\"}", OK),

    /* Rule 1: invalid UTF-8 anywhere. */
    CASE("\"\xc3\"", UTF8),
    CASE("\"\xc0\xaf\"", UTF8),
    CASE("\"\xc1\xbf\"", UTF8),
    CASE("\"\xe0\x80\xaf\"", UTF8),
    CASE("\"\xf0\x8f\xbf\xbf\"", UTF8),
    CASE("\"\xed\xa0\x80\"", UTF8),
    CASE("\"\xed\xbf\xbf\"", UTF8),
    CASE("\"\xf4\x90\x80\x80\"", UTF8),
    CASE("\"\x80\"", UTF8),
    CASE("\"\xbf\"", UTF8),
    CASE("\"\xff\"", UTF8),
    CASE("\"\xf8\x88\x80\x80\x80\"", UTF8),
    CASE("\"\xe2\x82\"", UTF8),
    CASE("\"\xe2\x28\xa1\"", UTF8),
    CASE("\xc3", UTF8),
    CASE("{\"a\":1}\xc3", UTF8),
    CASE("{\"\xc3\":1}", UTF8),

    /* Rule 2: structure. */
    CASE("", BAD),
    CASE(" ", BAD),
    CASE("{", BAD),
    CASE("[", BAD),
    CASE("}", BAD),
    CASE("]", BAD),
    CASE("[1}", BAD),
    CASE("{\"a\":1]", BAD),
    CASE("{\"a\":1,}", BAD),
    CASE("[1,]", BAD),
    CASE("[,1]", BAD),
    CASE("{,}", BAD),
    CASE("[1,,2]", BAD),
    CASE("{\"a\":1,,\"b\":2}", BAD),
    CASE("[1 2]", BAD),
    CASE("{\"a\":1 \"b\":2}", BAD),
    CASE("{\"a\" 1}", BAD),
    CASE("{\"a\":}", BAD),
    CASE("{\"a\"}", BAD),
    CASE("{1:1}", BAD),
    CASE("{a:1}", BAD),
    CASE("{'a':1}", BAD),
    CASE("['a']", BAD),
    CASE("/*c*/{}", BAD),
    CASE("{}/**/", BAD),
    CASE("{} // c", BAD),
    CASE("# c\n{}", BAD),
    CASE("{}{}", BAD),
    CASE("1 2", BAD),
    CASE("{} x", BAD),
    CASE("{}\0", BAD),
    CASE("\0{}", BAD),
    CASE("{}\0 ", BAD),
    CASE("\f{}", BAD),
    CASE("\v{}", BAD),
    CASE("\xc2\xa0{}", BAD),
    CASE("\xef\xbb\xbf{}", BAD),
    CASE("TRUE", BAD),
    CASE("tru", BAD),
    CASE("nul", BAD),
    CASE("nulll", BAD),
    CASE("falsey", BAD),
    CASE("undefined", BAD),
    /* Rule 2: numbers. */
    CASE("NaN", BAD),
    CASE("Infinity", BAD),
    CASE("-Infinity", BAD),
    CASE("0x10", BAD),
    CASE("01", BAD),
    CASE("-01", BAD),
    CASE("00", BAD),
    CASE("+1", BAD),
    CASE(".5", BAD),
    CASE("-.5", BAD),
    CASE("5.", BAD),
    CASE("1.e5", BAD),
    CASE("1e", BAD),
    CASE("1e+", BAD),
    CASE("1E-", BAD),
    CASE("-", BAD),
    CASE("--1", BAD),
    CASE("[01]", BAD),
    CASE("{\"a\":-}", BAD),
    /* Rule 2: strings. */
    CASE("\"abc", BAD),
    CASE("\"abc\\\"", BAD),
    CASE("\"a\x01"
         "b\"",
         BAD),
    CASE("\"a\tb\"", BAD),
    CASE("\"a\nb\"", BAD),
    CASE("\"\x1f\"", BAD),
    CASE("\"a\0b\"", BAD),
    CASE("\"\\x41\"", BAD),
    CASE("\"\\a\"", BAD),
    CASE("\"\\'\"", BAD),
    CASE("\"\\0\"", BAD),
    CASE("\"\\U0041\"", BAD),
    CASE("\"\\u12\"", BAD),
    CASE("\"\\u12G4\"", BAD),
    CASE("\"\\u", BAD),
    CASE("\"\\", BAD),

    /* Rule 3: surrogate escapes must pair up. */
    CASE("\"\\ud83d\"", BAD),
    CASE("\"\\ude00\"", BAD),
    CASE("\"\\ud83d\\u0041\"", BAD),
    CASE("\"\\ud83dx\"", BAD),
    CASE("\"\\ud83d\\ud83d\"", BAD),
    CASE("\"\\ude00\\ud83d\"", BAD),
    CASE("\"\\ud83d\\n\"", BAD),
    CASE("\"\\ud83d\\", BAD),
    CASE("\"\\ud83d\\ude0", BAD),
    CASE("{\"\\udbff\":1}", BAD),

    /* Rule 4: duplicate names, compared after unescaping, at any depth. */
    CASE("{\"a\":1,\"a\":2}", DUP),
    CASE("{\"a\":1,\"b\":2,\"a\":3}", DUP),
    CASE("{\"alg\":\"HS256\",\"\\u0061lg\":\"none\"}", DUP),
    CASE("{\"\\u0061\\u006c\\u0067\":1,\"alg\":2}", DUP),
    CASE("{\"\\u00e9\":1,\"\xc3\xa9\":2}", DUP),
    CASE("{\"\\u00E9\":1,\"\\u00e9\":2}", DUP),
    CASE("{\"\\/\":1,\"/\":2}", DUP),
    CASE("{\"\\n\":1,\"\\u000a\":2}", DUP),
    CASE("{\"\\\"\":1,\"\\u0022\":2}", DUP),
    CASE("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", DUP),
    CASE("{\"\\u0000\":1,\"\\u0000\":2}", DUP),
    CASE("{\"\":1,\"\":2}", DUP),
    CASE("{\"a\":{\"b\":{\"c\":1,\"c\":2}}}", DUP),
    CASE("[[{\"x\":1,\"y\":2,\"x\":3}]]", DUP),
    CASE("{\"a\":1,\"b\":{\"a\":1},\"a\":3}", DUP),
    CASE("{\"a\":{\"b\":1},\"a\":2}", DUP),
    CASE("[{\"a\":1},{\"b\":1,\"b\":2}]", DUP),
    /* The same rule where run_check's second pass records members: a wanted name repeated,
       plain or escaped, first or second; wanted and unwanted names mixed; the same name
       below the top level is no repeat; a repeat is reported only where the pairwise check
       reports it, at the close, after every other defect. */
    CASE("{\"\\u0061\":1,\"a\":2}", DUP),
    CASE("{\"a\":1,\"\\u0061\":2}", DUP),
    CASE("{\"exp\":1,\"nbf\":2,\"jti\":\"j\",\"exp\":3}", DUP),
    CASE("{\"exp\":1,\"nbf\":2,\"jti\":\"j\",\"nbf\":3}", DUP),
    CASE("{\"aud\":\"x\",\"typ\":1,\"zz\":2,\"typ\":3}", DUP),
    CASE("{\"aud\":1,\"x\":{\"aud\":2}}", OK),
    CASE("{\"x\":{\"a\":1},\"a\":2,\"y\":[{\"a\":3}]}", OK),
    CASE("{\"a\":{\"a\":1,\"a\":2}}", DUP),
    CASE("{\"a\":1,\"a\":2,}", BAD),
    CASE("{\"a\":1,\"a\":2,\"b\":{\"c\":1},}", BAD),
    CASE("{\"a\":1,\"a\":2,\"b\":\"\x01\"}", BAD),
    CASE("{\"a\":1,\"a\":2,\"b\":[1,2,[[[[", BAD),
};

/* The want sets run_check records with: every prefix, then every suffix, of these names
   (the claims' names, and names the cases use). */
static const apiv2_json_want wants[] = { { "exp", 3 }, { "aud", 3 }, { "a", 1 },
                                         { "alg", 3 }, { "k0", 2 },  { "o7", 2 },
                                         { "x", 1 },   { "jti", 3 }, { "scope", 5 } };
#define WANT_COUNT (sizeof wants / sizeof wants[0])
#define WANT_SETS (2 * WANT_COUNT + 1)
#define PLAIN WANT_SETS /* a want set number meaning apiv2_json_check itself */

/* Want set `set` (below WANT_SETS): its first name, and how many it has. */
static size_t want_set(size_t set, size_t *first) {
    *first = set <= WANT_COUNT ? 0 : set - WANT_COUNT;
    return set <= WANT_COUNT ? set : WANT_COUNT - *first;
}

/* Runs apiv2_json_check (set == PLAIN) or apiv2_json_check_members with want set `set`, with
   allocation number `fail` failing (-1: none); *calls gets the allocations it asked for. */
static int counted_check(const char *copy, size_t len, const char **reason, size_t set, long fail,
                         long *calls) {
    apiv2_json_span found[WANT_COUNT];
    int code;

    armed = 1;
    alloc_calls = 0;
    fail_at = fail;
    if (set == PLAIN) {
        code = apiv2_json_check(copy, len, reason);
    } else {
        size_t first, count = want_set(set, &first);
        code = apiv2_json_check_members(copy, len, reason, wants + first, count, found, NULL);
    }
    armed = 0;
    *calls = alloc_calls;
    return code;
}

/* How the failure messages name a want set. */
static const char *want_set_name(size_t set, char *buf) {
    size_t first, count;
    if (set == PLAIN) return "with no members recorded";
    count = want_set(set, &first);
    sprintf(buf, "recording %u wanted members from #%u", (unsigned)count, (unsigned)first);
    return buf;
}

/* Runs one input from an exact-size heap copy; checks code and reason agree. Then the same
   verdict and the same allocations when top-level members are recorded (their repeats are
   found by slot, not by the pairwise check), with every want set; then, with each of those
   allocations failing in turn, "out of memory" from both entry points (the check got that
   far, so it can reach no other verdict). */
static int run_check(const char *text, size_t len, int expect, const char *label) {
    static const char *const expected_reasons[] = { "ok",           "invalid utf8",
                                                    "invalid json", "duplicate member",
                                                    "too deep",     "out of memory" };
    char *copy = (char *)malloc(len ? len : 1);
    const char *reason = NULL;
    char set_name[64];
    long calls, again_calls, k;
    size_t n;
    int got, again, ok = 1;

    if (copy == NULL) {
        fprintf(stderr, "malloc failed\n");
        exit(2);
    }
    if (len) memcpy(copy, text, len);
    got = counted_check(copy, len, &reason, PLAIN, -1, &calls);
    last_calls = calls;
    if (got != expect || reason == NULL || got < 0 || got > 5 ||
        strcmp(reason, expected_reasons[got]) != 0) {
        printf("FAIL %s: expected %d, got %d (%s)\n", label, expect, got,
               reason ? reason : "(null)");
        ok = 0;
    }
    for (n = 0; ok && n < WANT_SETS; n++) {
        again = counted_check(copy, len, &reason, n, -1, &again_calls);
        if (again != got || strcmp(reason, expected_reasons[got]) != 0) {
            printf("FAIL %s: %d, but %d (%s) %s\n", label, got, again, reason,
                   want_set_name(n, set_name));
            ok = 0;
        } else if (again_calls != calls) {
            printf("FAIL %s: %ld allocations, but %ld %s\n", label, calls, again_calls,
                   want_set_name(n, set_name));
            ok = 0;
        }
    }
    for (k = 0; ok && k < calls; k++) {
        for (n = 0; ok && n <= PLAIN; n++) {
            again = counted_check(copy, len, NULL, n, k, &again_calls);
            if (again != APIV2_JSON_NO_MEMORY) {
                printf("FAIL %s: allocation %ld failing gave %d, not out of memory, %s\n", label, k,
                       again, want_set_name(n, set_name));
                ok = 0;
            }
        }
    }
    free(copy);
    return ok;
}

/* What apiv2_json_check_members records: each wanted member's value, as the text it spans
   ("" for absent), for texts that pass. */
typedef struct {
    const char *text;
    const char *names[3]; /* the want list, NULL-terminated */
    const char *values[3];
} found_case;

static const found_case found_cases[] = {
    { "{\"exp\":123,\"aud\":\"x\",\"scope\":\"a b\"}",
      { "scope", "exp", "jti" },
      { "\"a b\"", "123", "" } },
    { "{ \"exp\" : 12 , \"aud\" :[1, 2] }", { "aud", "exp", NULL }, { "[1, 2]", "12", NULL } },
    { "{\"\\u0065xp\":5,\"a\\/b\":true}", { "exp", "a/b", NULL }, { "5", "true", NULL } },
    { "{\"exp\":{\"exp\":1},\"n\":[{\"aud\":2}]}",
      { "exp", "aud", NULL },
      { "{\"exp\":1}", "", NULL } },
    { "[{\"exp\":1}]", { "exp", NULL, NULL }, { "", NULL, NULL } },
    { "\"exp\"", { "exp", NULL, NULL }, { "", NULL, NULL } },
    { "{\"\":null,\"e\":-1.5e3}", { "", "e", NULL }, { "null", "-1.5e3", NULL } },
    { "{\"exp\":1}", { "exp", "exp", NULL }, { "1", "", NULL } }, /* first slot only */
    { "{\"ex\":1,\"expx\":2,\"EXP\":3}", { "exp", NULL, NULL }, { "", NULL, NULL } },
};

static int run_found(const found_case *c, const char *label) {
    apiv2_json_want want[3];
    apiv2_json_span found[3];
    size_t len = strlen(c->text), n = 0, i;
    char *copy = (char *)malloc(len);
    int ok = 1;

    if (copy == NULL) exit(2);
    memcpy(copy, c->text, len);
    while (n < 3 && c->names[n] != NULL) {
        want[n].name = c->names[n];
        want[n].name_len = strlen(c->names[n]);
        n++;
    }
    if (apiv2_json_check_members(copy, len, NULL, want, n, found, NULL) != OK) {
        printf("FAIL %s: not accepted\n", label);
        ok = 0;
    }
    for (i = 0; ok && i < n; i++) {
        size_t vlen = strlen(c->values[i]);
        int absent = vlen == 0;
        if (absent ? found[i].kind != 0
                   : (found[i].kind != (unsigned char)c->values[i][0] ||
                      found[i].end - found[i].start != vlen ||
                      memcmp(copy + found[i].start, c->values[i], vlen) != 0)) {
            printf("FAIL %s: member \"%s\" recorded wrongly (kind %d, %u..%u)\n", label,
                   c->names[i], found[i].kind, (unsigned)found[i].start, (unsigned)found[i].end);
            ok = 0;
        }
    }
    free(copy);
    return ok;
}

/* Appends to a growable text buffer; exits on allocation failure (test program only). */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} text_buffer;

static void tb_append(text_buffer *tb, const char *s, size_t n) {
    if (tb->len + n > tb->cap) {
        size_t cap = tb->cap ? tb->cap : 256;
        char *grown;
        while (cap < tb->len + n) cap *= 2;
        grown = (char *)realloc(tb->data, cap);
        if (grown == NULL) {
            fprintf(stderr, "realloc failed\n");
            exit(2);
        }
        tb->data = grown;
        tb->cap = cap;
    }
    memcpy(tb->data + tb->len, s, n);
    tb->len += n;
}

static void tb_puts(text_buffer *tb, const char *s) {
    tb_append(tb, s, strlen(s));
}

/* depth nested arrays, or objects {"k":...}, around a 1. */
static void build_nested(text_buffer *tb, int depth, int objects) {
    int i;
    tb->len = 0;
    for (i = 0; i < depth; i++) tb_puts(tb, objects ? "{\"k\":" : "[");
    tb_puts(tb, "1");
    for (i = 0; i < depth; i++) tb_puts(tb, objects ? "}" : "]");
}

/* An object with count names "k0".."k<count-1>"; extra (may be empty) is appended raw. */
static void build_wide_object(text_buffer *tb, int count, const char *extra) {
    char member[64];
    int i;
    tb->len = 0;
    tb_puts(tb, "{");
    for (i = 0; i < count; i++) {
        sprintf(member, "%s\"k%d\":%d", i ? "," : "", i, i);
        tb_puts(tb, member);
    }
    tb_puts(tb, extra);
    tb_puts(tb, "}");
}

typedef struct {
    const char *text;
    size_t len;
    int expect;
} utf8_case;

#define UTF8_CASE(literal, expect) \
    { literal, sizeof(literal) - 1, expect }

static const utf8_case utf8_cases[] = {
    UTF8_CASE("", 1),
    UTF8_CASE("ascii \0 with nul", 1),
    UTF8_CASE("\xc2\x80", 1),
    UTF8_CASE("\xdf\xbf", 1),
    UTF8_CASE("\xe0\xa0\x80", 1),
    UTF8_CASE("\xed\x9f\xbf", 1),
    UTF8_CASE("\xee\x80\x80", 1),
    UTF8_CASE("\xf0\x90\x80\x80", 1),
    UTF8_CASE("\xf4\x8f\xbf\xbf", 1),
    UTF8_CASE("\x80", 0),
    UTF8_CASE("\xc0\x80", 0),
    UTF8_CASE("\xc1\xbf", 0),
    UTF8_CASE("\xc2", 0),
    UTF8_CASE("\xc2\x41", 0),
    UTF8_CASE("\xe0\x9f\xbf", 0),
    UTF8_CASE("\xed\xa0\x80", 0),
    UTF8_CASE("\xed\xbf\xbf", 0),
    UTF8_CASE("\xe1\x80", 0),
    UTF8_CASE("\xf0\x8f\xbf\xbf", 0),
    UTF8_CASE("\xf4\x90\x80\x80", 0),
    UTF8_CASE("\xf5\x80\x80\x80", 0),
    UTF8_CASE("\xf0\x90\x80", 0),
    UTF8_CASE("\xf0\x90\x80\x41", 0),
    UTF8_CASE("\xfe", 0),
    UTF8_CASE("\xff", 0),
};

int main(void) {
    text_buffer tb = { NULL, 0, 0 };
    int passed = 0, failed = 0;
    size_t i;
    char label[64];

#define TALLY(ok) \
    do { \
        if (ok) passed++; \
        else failed++; \
    } while (0)

    for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        sprintf(label, "check case #%u", (unsigned)i);
        TALLY(run_check(check_cases[i].text, check_cases[i].len, check_cases[i].expect, label));
    }

    for (i = 0; i < sizeof(found_cases) / sizeof(found_cases[0]); i++) {
        sprintf(label, "found case #%u", (unsigned)i);
        TALLY(run_found(&found_cases[i], label));
    }

    for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
        char *copy = (char *)malloc(utf8_cases[i].len ? utf8_cases[i].len : 1);
        int got;
        if (copy == NULL) return 2;
        memcpy(copy, utf8_cases[i].text, utf8_cases[i].len);
        got = apiv2_utf8_valid(copy, utf8_cases[i].len);
        free(copy);
        if (got != utf8_cases[i].expect)
            printf("FAIL utf8 case #%u: expected %d, got %d\n", (unsigned)i, utf8_cases[i].expect,
                   got);
        TALLY(got == utf8_cases[i].expect);
    }

    /* Rule 5: depth limit 64, for arrays, objects and a mix; far deeper must not crash. */
    build_nested(&tb, 64, 0);
    TALLY(run_check(tb.data, tb.len, OK, "64 nested arrays"));
    build_nested(&tb, 65, 0);
    TALLY(run_check(tb.data, tb.len, DEEP, "65 nested arrays"));
    build_nested(&tb, 64, 1);
    TALLY(run_check(tb.data, tb.len, OK, "64 nested objects"));
    build_nested(&tb, 65, 1);
    TALLY(run_check(tb.data, tb.len, DEEP, "65 nested objects"));
    build_nested(&tb, 100000, 0);
    TALLY(run_check(tb.data, tb.len, DEEP, "100000 nested arrays"));
    tb.len = 0;
    for (i = 0; i < 32; i++) tb_puts(&tb, "[{\"a\":");
    tb_puts(&tb, "0");
    for (i = 0; i < 32; i++) tb_puts(&tb, "}]");
    TALLY(run_check(tb.data, tb.len, OK, "64 mixed levels"));
    tb.len = 0;
    tb_puts(&tb, "[");
    for (i = 0; i < 32; i++) tb_puts(&tb, "[{\"a\":");
    tb_puts(&tb, "0");
    for (i = 0; i < 32; i++) tb_puts(&tb, "}]");
    tb_puts(&tb, "]");
    TALLY(run_check(tb.data, tb.len, DEEP, "65 mixed levels"));
    /* Depth counts open brackets only: many siblings at depth 64 stay fine. */
    tb.len = 0;
    for (i = 0; i < 63; i++) tb_puts(&tb, "[");
    tb_puts(&tb, "[1],[2],[3]");
    for (i = 0; i < 63; i++) tb_puts(&tb, "]");
    TALLY(run_check(tb.data, tb.len, OK, "siblings at depth 64"));

    /* Rule 4 on wide objects (the sorted path, beyond the pairwise limit). */
    build_wide_object(&tb, 9, "");
    TALLY(run_check(tb.data, tb.len, OK, "9 distinct names"));
    build_wide_object(&tb, 9, ",\"k0\":0");
    TALLY(run_check(tb.data, tb.len, DUP, "10 names, last repeats first"));
    build_wide_object(&tb, 5000, "");
    TALLY(run_check(tb.data, tb.len, OK, "5000 distinct names"));
    build_wide_object(&tb, 5000, ",\"k4999\":0");
    TALLY(run_check(tb.data, tb.len, DUP, "5000 names, last repeated"));
    build_wide_object(&tb, 5000, ",\"\\u006b2500\":0");
    TALLY(run_check(tb.data, tb.len, DUP, "5000 names, escaped repeat"));
    build_wide_object(&tb, 5000, ",\"k2500\\u0000\":0,\"\\u006b\":0");
    TALLY(run_check(tb.data, tb.len, OK, "5000 names plus escaped near-misses"));
    /* Wanted names among enough others that the names move to the heap: the same allocations,
       so the same verdicts when one fails (run_check). */
    build_wide_object(&tb, 32, ",\"exp\":1");
    TALLY(run_check(tb.data, tb.len, OK, "32 names, then a wanted one"));
    TALLY(last_calls == 1); /* the wrappers count: the 33rd name moved the names to the heap */
    tb.len = 0;
    tb_puts(&tb, "{\"exp\":1");
    for (i = 0; i < 200; i++) tb_puts(&tb, ",\"aud\":2,\"x\":3");
    tb_puts(&tb, "}");
    TALLY(run_check(tb.data, tb.len, DUP, "400 repeats of wanted names"));
    tb.len = 0;
    tb_puts(&tb, "{\"k\":[");
    for (i = 0; i < 40; i++) tb_puts(&tb, i ? ",{\"a\":1,\"b\":2}" : "{\"a\":1,\"b\":2}");
    tb_puts(&tb, "],\"exp\":1,\"aud\":{");
    for (i = 0; i < 40; i++) {
        char member[32];
        sprintf(member, "%s\"n%u\":0", i ? "," : "", (unsigned)i);
        tb_puts(&tb, member);
    }
    tb_puts(&tb, "}}");
    TALLY(run_check(tb.data, tb.len, OK, "wanted names beside wide nested objects"));

    /* Wide objects nested inside a wide object: inner names must not leak outward. */
    tb.len = 0;
    tb_puts(&tb, "{");
    for (i = 0; i < 40; i++) {
        char member[128];
        sprintf(member,
                "%s\"o%u\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
                "\"h\":8,\"i\":9,\"j\":10}",
                i ? "," : "", (unsigned)i);
        tb_puts(&tb, member);
    }
    tb_puts(&tb, "}");
    TALLY(run_check(tb.data, tb.len, OK, "40 wide objects in a wide object"));
    tb.data[tb.len - 1] = ',';
    tb_puts(&tb, "\"o7\":0}");
    TALLY(run_check(tb.data, tb.len, DUP, "wide outer with repeated name after nested"));

    /* Never reads past len: a valid text cut short is read only up to the cut. */
    TALLY(run_check("[1]", 2, BAD, "\"[1]\" cut to 2"));
    TALLY(run_check("\"\\u0041\"", 5, BAD, "\\u escape cut short"));
    TALLY(run_check("\"\\ud83d\\ude00\"", 10, BAD, "surrogate pair cut short"));
    TALLY(run_check("true", 3, BAD, "true cut to 3"));
    TALLY(run_check("1e5", 2, BAD, "1e5 cut to 2"));
    TALLY(run_check("\"\xc3\xa9\"", 2, UTF8, "utf8 cut inside a character"));
    TALLY(run_check(NULL, 0, BAD, "NULL, 0"));
    TALLY(apiv2_json_check("{}", 2, NULL) == OK); /* reason is optional */

    /* Every prefix of every case: no crash and no read past the end under ASan/valgrind. */
    for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        size_t cut;
        for (cut = 0; cut < check_cases[i].len; cut++) {
            char *copy = (char *)malloc(cut ? cut : 1);
            const char *reason = NULL;
            if (copy == NULL) return 2;
            memcpy(copy, check_cases[i].text, cut);
            (void)apiv2_json_check(copy, cut, &reason);
            free(copy);
        }
    }

    free(tb.data);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
