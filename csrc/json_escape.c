#include "json_escape.h"

static const char HEX[] = "0123456789abcdef";

/* The short escape for c, or 0 when c uses \u00xx or needs none. */
static char short_escape(unsigned char c) {
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return 0;
    }
}

size_t apiv2_json_escaped_len(const char *s, size_t n, int *overflow) {
    size_t i, len = 0, add;
    unsigned char c;
    *overflow = 0;
    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        add = short_escape(c) ? 2 : (c < 0x20 ? 6 : 1);
        if (len > (size_t)-1 - add) {
            *overflow = 1;
            return 0;
        }
        len += add;
    }
    return len;
}

void apiv2_json_escape(const char *s, size_t n, char *out) {
    size_t i;
    unsigned char c;
    char e;
    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        e = short_escape(c);
        if (e) {
            *out++ = '\\';
            *out++ = e;
        } else if (c < 0x20) {
            *out++ = '\\';
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = HEX[c >> 4];
            *out++ = HEX[c & 15];
        } else {
            *out++ = (char)c;
        }
    }
}
