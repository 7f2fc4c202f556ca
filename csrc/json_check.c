/* Strict RFC 8259 validator. One iterative pass with an explicit bracket stack (no recursion),
   after a whole-buffer UTF-8 check. Member names are remembered as (offset, length, hash) spans
   into the input; when an object closes, its names are compared by decoded content:
   pairwise for small objects, heapsort plus a neighbour scan for larger ones, so the cost is
   O(n log n) comparisons whatever the input. (Top-level names the caller wants recorded are
   told apart by their slot instead, as they come: see top_level_member.) No static mutable
   state: everything lives in the caller's stack frame, plus one heap array for objects with
   many member names. */
#include "json_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Member names kept on the C stack before the first malloc; JWT headers never get near it. */
#define INLINE_NAME_SLOTS 32
/* Objects with at most this many members are checked pairwise; a sort costs more below it. */
#define PAIRWISE_CHECK_MAX 8

#define FNV_OFFSET_BASIS 2166136261u
#define FNV_PRIME 16777619u

/* One member name: the raw bytes between the quotes, and a hash of the decoded UTF-8 bytes, so
   "\u0061" and "a" hash alike, set only when its object is big enough to be sorted (0 until
   then, so compare_names goes by the bytes alone). has_escape lets plain names compare byte
   by byte without decoding. */
typedef struct {
    size_t start;
    size_t length;
    unsigned int hash;
    int has_escape;
} member_name;

typedef struct {
    const unsigned char *text;
    size_t len;
    size_t pos;
    member_name *names; /* inline_names or a heap array */
    size_t name_count;  /* names of all currently open objects, innermost last */
    size_t name_capacity;
    member_name inline_names[INLINE_NAME_SLOTS];
    const apiv2_json_want *want; /* top-level members to record, or NULL */
    size_t want_count;
    apiv2_json_span *found;
    int wanted_repeated;     /* a wanted top-level member came twice (reported when the object
                            closes, where the pairwise check would have found it) */
    size_t dropped_names;    /* wanted top-level names top_level_member did not keep, which
                                reserve_name_slot still counts (see top_level_member) */
    apiv2_json_sizes *sizes; /* container sizes to record, or NULL */
} json_parser;

#define NO_SIZE ((size_t)-1) /* a container whose size is not recorded */

/* Walks a validated member name yielding the bytes of its decoded UTF-8 form. */
typedef struct {
    const unsigned char *cur;
    const unsigned char *end;
    unsigned char pending[4];
    int pending_len;
    int pending_pos;
} name_cursor;

int apiv2_utf8_valid(const char *buf, size_t len) {
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;

    if (s == NULL) return len == 0;
    while (i < len) {
        unsigned char lead = s[i];
        size_t need;
        unsigned char second_min = 0x80, second_max = 0xBF;
        size_t k;

        if (lead < 0x80) {
            /* Claims are mostly ASCII: skip it eight bytes at a time. */
            while (len - i >= 8) {
                uint64_t word;
                memcpy(&word, s + i, 8);
                if (word & UINT64_C(0x8080808080808080)) break;
                i += 8;
            }
            while (i < len && s[i] < 0x80) i++;
            continue;
        }
        /* NOLINTNEXTLINE(bugprone-branch-clone): two different defects, one answer */
        if (lead < 0xC2) { /* stray continuation, or overlong C0/C1 */
            return 0;
        } else if (lead < 0xE0) {
            need = 1;
        } else if (lead < 0xF0) {
            need = 2;
            if (lead == 0xE0) second_min = 0xA0;      /* below is an overlong 3-byte form */
            else if (lead == 0xED) second_max = 0x9F; /* above is a UTF-16 surrogate */
        } else if (lead < 0xF5) {
            need = 3;
            if (lead == 0xF0) second_min = 0x90;      /* below is an overlong 4-byte form */
            else if (lead == 0xF4) second_max = 0x8F; /* above is past U+10FFFF */
        } else {
            return 0; /* F5..FF never occur in UTF-8 */
        }
        if (len - i - 1 < need) return 0;
        if (s[i + 1] < second_min || s[i + 1] > second_max) return 0;
        for (k = 2; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
        }
        i += need + 1;
    }
    return 1;
}

static int hex_digit_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads "uXXXX" at p (p[0] is the 'u'); needs 5 bytes available. */
static int read_u_escape(const unsigned char *p, unsigned long *unit) {
    unsigned long value = 0;
    int k;

    if (p[0] != 'u') return -1;
    for (k = 1; k <= 4; k++) {
        int digit = hex_digit_value(p[k]);
        if (digit < 0) return -1;
        value = value * 16 + (unsigned long)digit;
    }
    *unit = value;
    return 0;
}

/* Decodes the escape starting at the backslash p (end bounds the buffer). Surrogates must come
   as a high-low \u pair; either half alone is an error. Returns 0 and sets *code_point and
   *consumed, or -1. */
static int decode_escape(const unsigned char *p, const unsigned char *end,
                         unsigned long *code_point, size_t *consumed) {
    size_t available = (size_t)(end - p);
    unsigned long high, low;

    if (available < 2) return -1;
    *consumed = 2;
    switch (p[1]) {
    case '"':
        *code_point = '"';
        return 0;
    case '\\':
        *code_point = '\\';
        return 0;
    case '/':
        *code_point = '/';
        return 0;
    case 'b':
        *code_point = 0x08;
        return 0;
    case 'f':
        *code_point = 0x0C;
        return 0;
    case 'n':
        *code_point = 0x0A;
        return 0;
    case 'r':
        *code_point = 0x0D;
        return 0;
    case 't':
        *code_point = 0x09;
        return 0;
    case 'u':
        break;
    default:
        return -1;
    }
    if (available < 6 || read_u_escape(p + 1, &high) != 0) return -1;
    if (high >= 0xDC00 && high <= 0xDFFF) return -1; /* low surrogate with no high one before it */
    if (high < 0xD800 || high > 0xDBFF) {
        *code_point = high;
        *consumed = 6;
        return 0;
    }
    if (available < 12 || p[6] != '\\' || read_u_escape(p + 7, &low) != 0)
        return -1; /* high surrogate not followed by a \u escape */
    if (low < 0xDC00 || low > 0xDFFF) return -1;
    *code_point = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
    *consumed = 12;
    return 0;
}

/* Code points here are <= U+10FFFF and never surrogates (decode_escape guarantees it). */
static int encode_utf8(unsigned long cp, unsigned char *out) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The bytes that end a run of plain string content: the quote, the backslash, and the control
   characters (an error). */
static const unsigned char STRING_STOP[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The bytes of the 8 at s that may be a quote, a backslash or below 0x20, as a mask of their
   high bits (SWAR: in (x - 0x01..) & ~x & 0x80.., the lowest zero byte of x sets its high bit;
   bytes above it may be flagged falsely). So 0 means none of the 8 is one, and the flagged byte
   that comes first in memory always is one. */
static uint64_t string_stops(const unsigned char *s) {
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t x, quote, backslash;
    memcpy(&x, s, 8);
    quote = x ^ (ones * '"');
    backslash = x ^ (ones * '\\');
    return (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
            ((x - ones * 0x20) & ~x)) &
        highs;
}

/* The offset of the first stop byte among the 8 at s, given their nonzero string_stops mask:
   the mask's lowest byte in memory order (its lowest bits on a little-endian machine). */
static size_t first_stop(const unsigned char *s, uint64_t stops) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)s;
    return (size_t)__builtin_ctzll(stops) >> 3;
#else
    size_t k = 0;
    (void)stops;
    while (!STRING_STOP[s[k]]) k++; /* stops != 0: one of the 8 is a stop byte */
    return k;
#endif
}

/* Scans the string whose opening quote is at p->pos; on success leaves p->pos after the
   closing quote and, when name is not NULL, fills it in. */
static int scan_string(json_parser *p, member_name *name) {
    const unsigned char *s = p->text;
    size_t start = p->pos + 1;
    size_t i = start;
    int has_escape = 0;

    while (i < p->len) {
        unsigned char c;

        /* Plain bytes (>= 0x80 were checked as UTF-8 already) are skipped 8 at a time, then
           straight to the first byte that is not. */
        if (p->len - i >= 8) {
            uint64_t stops = string_stops(s + i);
            if (stops == 0) {
                i += 8;
                continue;
            }
            i += first_stop(s + i, stops);
        } else if (!STRING_STOP[s[i]]) {
            i++;
            continue;
        }
        c = s[i];
        if (c == '"') {
            if (name != NULL) {
                name->start = start;
                name->length = i - start;
                name->hash = 0; /* computed only when the object is big enough to sort */
                name->has_escape = has_escape;
            }
            p->pos = i + 1;
            return APIV2_JSON_OK;
        }
        if (c < 0x20) return APIV2_JSON_INVALID; /* raw control characters must be escaped */
        {
            unsigned long cp;
            size_t consumed;

            if (decode_escape(s + i, s + p->len, &cp, &consumed) != 0) return APIV2_JSON_INVALID;
            has_escape = 1;
            i += consumed;
        }
    }
    return APIV2_JSON_INVALID; /* no closing quote */
}

static void cursor_init(name_cursor *c, const unsigned char *text, const member_name *name) {
    c->cur = text + name->start;
    c->end = c->cur + name->length;
    c->pending_len = 0;
    c->pending_pos = 0;
}

/* Next decoded byte, or -1 at the end of the name. */
static int cursor_next(name_cursor *c) {
    unsigned long cp;
    size_t consumed;

    if (c->pending_pos < c->pending_len) return c->pending[c->pending_pos++];
    if (c->cur >= c->end) return -1;
    if (*c->cur != '\\' || decode_escape(c->cur, c->end, &cp, &consumed) != 0)
        return *c->cur++; /* escapes were validated by scan_string, so this is a plain byte */
    c->cur += consumed;
    c->pending_len = encode_utf8(cp, c->pending);
    c->pending_pos = 1;
    return c->pending[0];
}

/* The FNV-1a hash of a name's decoded UTF-8 bytes, so "\u0061" and "a" hash alike. */
static unsigned int name_hash(const unsigned char *text, const member_name *name) {
    unsigned int hash = FNV_OFFSET_BASIS;
    if (!name->has_escape) {
        size_t i;
        for (i = 0; i < name->length; i++) hash = (hash ^ text[name->start + i]) * FNV_PRIME;
    } else {
        name_cursor c;
        int x;
        cursor_init(&c, text, name);
        while ((x = cursor_next(&c)) >= 0) hash = (hash ^ (unsigned char)x) * FNV_PRIME;
    }
    return hash;
}

/* memcmp(a, b, n) == 0 for the short runs names are: a loop, not a library call per pair. */
static int same_bytes(const unsigned char *a, const unsigned char *b, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* Total order on decoded names: hash first (cheap), then the decoded bytes. Plain bytes
   compared on raw UTF-8 give the same order as the cursor, so mixing both paths stays consistent. */
static int compare_names(const unsigned char *text, const member_name *a, const member_name *b) {
    if (a->hash != b->hash) return a->hash < b->hash ? -1 : 1;
    if (!a->has_escape && !b->has_escape) {
        size_t shorter = a->length < b->length ? a->length : b->length, i;
        const unsigned char *ta = text + a->start, *tb = text + b->start;
        for (i = 0; i < shorter; i++) /* names are short: a loop, not a library call per pair */
            if (ta[i] != tb[i]) return ta[i] < tb[i] ? -1 : 1;
        if (a->length != b->length) return a->length < b->length ? -1 : 1;
        return 0;
    } else {
        name_cursor ca, cb;
        cursor_init(&ca, text, a);
        cursor_init(&cb, text, b);
        for (;;) {
            int xa = cursor_next(&ca);
            int xb = cursor_next(&cb);
            if (xa != xb) return xa < xb ? -1 : 1;
            if (xa < 0) return 0;
        }
    }
}

static void swap_names(member_name *a, member_name *b) {
    member_name tmp = *a;
    *a = *b;
    *b = tmp;
}

static void sift_down(const unsigned char *text, member_name *v, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && compare_names(text, &v[child], &v[child + 1]) < 0) child++;
        if (compare_names(text, &v[root], &v[child]) >= 0) return;
        swap_names(&v[root], &v[child]);
        root = child;
    }
}

/* Heapsort: O(n log n) worst case, in place, and qsort has no context pointer for text. */
static void sort_names(const unsigned char *text, member_name *v, size_t n) {
    size_t i;

    if (n < 2) return;
    for (i = n / 2; i-- > 0;) sift_down(text, v, i, n);
    for (i = n - 1; i > 0; i--) {
        swap_names(&v[0], &v[i]);
        sift_down(text, v, 0, i);
    }
}

/* Checks the names of the object being closed (those from index base on), then forgets them. */
static int has_duplicate_names(json_parser *p, size_t base) {
    member_name *v = p->names + base;
    size_t n = p->name_count - base;
    size_t i;
    int found = 0;

    if (n <= PAIRWISE_CHECK_MAX) {
        for (i = 0; i < n && !found; i++) {
            size_t j;
            for (j = i + 1; j < n; j++) {
                if (compare_names(p->text, &v[i], &v[j]) == 0) { /* hashes unset: 0 == 0 */
                    found = 1;
                    break;
                }
            }
        }
    } else {
        for (i = 0; i < n; i++) v[i].hash = name_hash(p->text, &v[i]);
        sort_names(p->text, v, n);
        for (i = 1; i < n; i++) {
            if (compare_names(p->text, &v[i - 1], &v[i]) == 0) {
                found = 1;
                break;
            }
        }
    }
    p->name_count = base;
    return found;
}

/* Makes room for one more name; the inline array moves to the heap on first overflow. */
static int reserve_name_slot(json_parser *p) {
    member_name *grown;
    size_t new_capacity;

    if (p->name_count + p->dropped_names < p->name_capacity) return APIV2_JSON_OK;
    if (p->name_capacity > ((size_t)-1) / 2 / sizeof(member_name)) return APIV2_JSON_NO_MEMORY;
    new_capacity = p->name_capacity * 2;
    if (p->names == p->inline_names) {
        grown = (member_name *)malloc(new_capacity * sizeof(member_name));
        if (grown == NULL) return APIV2_JSON_NO_MEMORY;
        memcpy(grown, p->inline_names, p->name_count * sizeof(member_name));
    } else {
        /* On failure the old block stays owned by p and is freed by the caller. */
        grown = (member_name *)realloc(p->names, new_capacity * sizeof(member_name));
        if (grown == NULL) return APIV2_JSON_NO_MEMORY;
    }
    p->names = grown;
    p->name_capacity = new_capacity;
    return APIV2_JSON_OK;
}

static void skip_whitespace_run(json_parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
        p->pos++;
    }
}

/* Most texts have no whitespace at all: test the next byte before calling. */
#define SKIP_WHITESPACE(p) \
    do { \
        if ((p)->pos < (p)->len && (p)->text[(p)->pos] <= ' ') skip_whitespace_run(p); \
    } while (0)

/* Parses `"name" :` and records the name for the innermost open object. */
static int parse_member_name(json_parser *p) {
    int rc;

    SKIP_WHITESPACE(p);
    if (p->pos >= p->len || p->text[p->pos] != '"') return APIV2_JSON_INVALID;
    rc = reserve_name_slot(p);
    if (rc != APIV2_JSON_OK) return rc;
    rc = scan_string(p, &p->names[p->name_count]);
    if (rc != APIV2_JSON_OK) return rc;
    p->name_count++;
    SKIP_WHITESPACE(p);
    if (p->pos >= p->len || p->text[p->pos] != ':') return APIV2_JSON_INVALID;
    p->pos++;
    return APIV2_JSON_OK;
}

static int is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

/* number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ].
   A digit right after a leading "0" is caught by the caller as a missing separator. */
static int scan_number(json_parser *p) {
    const unsigned char *s = p->text;
    size_t i = p->pos;

    if (s[i] == '-') i++;
    if (i >= p->len) return APIV2_JSON_INVALID;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < p->len && is_digit(s[i])) i++;
    } else {
        return APIV2_JSON_INVALID;
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(s[i])) return APIV2_JSON_INVALID;
        while (i < p->len && is_digit(s[i])) i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || !is_digit(s[i])) return APIV2_JSON_INVALID;
        while (i < p->len && is_digit(s[i])) i++;
    }
    p->pos = i;
    return APIV2_JSON_OK;
}

static int scan_literal(json_parser *p, const char *word, size_t word_len) {
    if (p->len - p->pos < word_len || memcmp(p->text + p->pos, word, word_len) != 0)
        return APIV2_JSON_INVALID;
    p->pos += word_len;
    return APIV2_JSON_OK;
}

/* Any value that is not an array or object, starting at p->pos (< p->len). */
static int parse_scalar(json_parser *p) {
    unsigned char c = p->text[p->pos];

    if (c == '"') return scan_string(p, NULL);
    if (c == '-' || is_digit(c)) return scan_number(p);
    if (c == 't') return scan_literal(p, "true", 4);
    if (c == 'f') return scan_literal(p, "false", 5);
    if (c == 'n') return scan_literal(p, "null", 4);
    return APIV2_JSON_INVALID;
}

/* The slot of want that the member name just parsed names, or -1. */
static long wanted_slot(const json_parser *p) {
    const member_name *name = &p->names[p->name_count - 1];
    size_t i;

    if (!name->has_escape) {
        const unsigned char *text = p->text + name->start;
        for (i = 0; i < p->want_count; i++) {
            const apiv2_json_want *w = &p->want[i];
            if (name->length == w->name_len &&
                same_bytes(text, (const unsigned char *)w->name, w->name_len))
                return (long)i;
        }
        return -1;
    }
    for (i = 0; i < p->want_count; i++) {
        const apiv2_json_want *w = &p->want[i];
        name_cursor c;
        size_t k = 0;
        int x;
        cursor_init(&c, p->text, name);
        while ((x = cursor_next(&c)) >= 0) {
            if (k >= w->name_len || (unsigned char)w->name[k] != (unsigned char)x) break;
            k++;
        }
        if (x < 0 && k == w->name_len) return (long)i;
    }
    return -1;
}

/* After a top-level member name: the slot of want it names, or -1. A wanted name is checked
   for repeats here, by its slot (found[slot].kind is set once its first value began), and is
   then dropped from the object's names: an unwanted name never equals a wanted one, so the
   pairwise check at the close needs only the unwanted ones (a JWT's members are mostly
   wanted: no pairs left to compare). It still counts against name_capacity (dropped_names),
   so the array grows, or fails to, exactly where apiv2_json_check's does; that room goes
   unused. */
static long top_level_member(json_parser *p) {
    long slot = wanted_slot(p);
    if (slot >= 0) {
        if (p->found[slot].kind != 0) p->wanted_repeated = 1;
        p->name_count--;
        p->dropped_names++;
    }
    return slot;
}

/* The grammar as a loop: read a value (opening brackets push a frame and go round again),
   then pop through any closing brackets until a comma asks for the next value. */
static int parse_document(json_parser *p) {
    unsigned char frame_is_object[APIV2_JSON_MAX_DEPTH];
    size_t frame_name_base[APIV2_JSON_MAX_DEPTH];
    size_t frame_size_slot[APIV2_JSON_MAX_DEPTH];
    size_t depth = 0;
    long slot = -1; /* the wanted member whose value is being read */
    int rc;

    for (;;) {
        unsigned char c;

        SKIP_WHITESPACE(p);
        if (p->pos >= p->len) return APIV2_JSON_INVALID;
        c = p->text[p->pos];
        /* cppcheck-suppress uninitvar ; frames below depth were all set when opened */
        if (depth > 0 && frame_size_slot[depth - 1] != NO_SIZE)
            p->sizes->sizes[frame_size_slot[depth - 1]]++; /* one more element or member */
        if (slot >= 0 && depth == 1) {
            p->found[slot].start = p->pos;
            p->found[slot].kind = c;
        }
        if (c == '{' || c == '[') {
            unsigned char closer = (unsigned char)(c == '{' ? '}' : ']');

            if (depth == APIV2_JSON_MAX_DEPTH) return APIV2_JSON_TOO_DEEP;
            frame_is_object[depth] = (unsigned char)(c == '{');
            frame_name_base[depth] = p->name_count;
            frame_size_slot[depth] = NO_SIZE;
            if (p->sizes != NULL && p->sizes->count < p->sizes->capacity) {
                frame_size_slot[depth] = p->sizes->count++;
                p->sizes->sizes[frame_size_slot[depth]] = 0;
            }
            depth++;
            p->pos++;
            SKIP_WHITESPACE(p);
            if (p->pos < p->len && p->text[p->pos] == closer) {
                p->pos++;
                depth--; /* empty container: a complete value */
            } else if (c == '{') {
                rc = parse_member_name(p);
                if (rc != APIV2_JSON_OK) return rc;
                if (depth == 1 && p->want != NULL) slot = top_level_member(p);
                continue; /* now read the member's value */
            } else {
                continue; /* now read the first element */
            }
        } else {
            rc = parse_scalar(p);
            if (rc != APIV2_JSON_OK) return rc;
        }

        /* A value just ended. */
        for (;;) {
            int in_object;

            if (slot >= 0 && depth == 1) {
                p->found[slot].end = p->pos;
                slot = -1;
            }
            SKIP_WHITESPACE(p);
            if (depth == 0) return p->pos == p->len ? APIV2_JSON_OK : APIV2_JSON_INVALID;
            if (p->pos >= p->len) return APIV2_JSON_INVALID;
            c = p->text[p->pos];
            in_object = frame_is_object[depth - 1];
            if (c == ',') {
                p->pos++;
                if (in_object) {
                    rc = parse_member_name(p);
                    if (rc != APIV2_JSON_OK) return rc;
                    if (depth == 1 && p->want != NULL) slot = top_level_member(p);
                }
                break; /* read the next value */
            }
            if (c != (in_object ? '}' : ']')) return APIV2_JSON_INVALID;
            p->pos++;
            if (in_object &&
                (has_duplicate_names(p, frame_name_base[depth - 1]) ||
                 (depth == 1 && p->wanted_repeated)))
                return APIV2_JSON_DUPLICATE;
            depth--;
        }
    }
}

static const char *reason_for(int code) {
    switch (code) {
    case APIV2_JSON_OK:
        return "ok";
    case APIV2_JSON_BAD_UTF8:
        return "invalid utf8";
    case APIV2_JSON_DUPLICATE:
        return "duplicate member";
    case APIV2_JSON_TOO_DEEP:
        return "too deep";
    case APIV2_JSON_NO_MEMORY:
        return "out of memory";
    default:
        return "invalid json";
    }
}

int apiv2_json_check(const char *buf, size_t len, const char **reason) {
    return apiv2_json_check_members(buf, len, reason, NULL, 0, NULL, NULL);
}

size_t apiv2_json_unescape(const char *s, size_t n, unsigned char *out) {
    const unsigned char *cur = (const unsigned char *)s, *end = cur + n;
    size_t o = 0;

    while (cur < end) {
        unsigned long cp;
        size_t consumed;
        if (*cur != '\\' || decode_escape(cur, end, &cp, &consumed) != 0) {
            out[o++] = *cur++;
            continue;
        }
        o += (size_t)encode_utf8(cp, out + o); /* never longer than its escape */
        cur += consumed;
    }
    return o;
}

int apiv2_json_check_members(const char *buf, size_t len, const char **reason,
                             const apiv2_json_want *want, size_t want_count, apiv2_json_span *found,
                             apiv2_json_sizes *sizes) {
    int code;
    size_t i;

    if (sizes != NULL) sizes->count = 0;
    for (i = 0; i < want_count; i++) {
        found[i].start = found[i].end = 0;
        found[i].kind = 0;
    }
    if (buf == NULL && len != 0) {
        code = APIV2_JSON_INVALID;
    } else if (!apiv2_utf8_valid(buf, len)) {
        code = APIV2_JSON_BAD_UTF8;
    } else {
        json_parser parser;

        parser.text = (const unsigned char *)buf;
        parser.len = len;
        parser.pos = 0;
        parser.names = parser.inline_names;
        parser.name_count = 0;
        parser.name_capacity = INLINE_NAME_SLOTS;
        parser.want = want;
        parser.want_count = want_count;
        parser.found = found;
        parser.wanted_repeated = 0;
        parser.dropped_names = 0;
        parser.sizes = sizes;
        code = parse_document(&parser);
        if (parser.names != parser.inline_names) free(parser.names);
    }
    if (reason != NULL) *reason = reason_for(code);
    return code;
}
