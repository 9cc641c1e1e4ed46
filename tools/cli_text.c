/* Human output with names from files in it: a tensor name from a
 * checkpoint, a key of a model file or a file name may hold any byte,
 * and a terminal takes some bytes as commands (ESC c clears the screen,
 * ESC ] 0; sets the title, a CR overwrites the line).  Every line the
 * command prints for people goes through here and shows such bytes as
 * `ls -b` does; the machine outputs (--json, --report, plan --json) are
 * JSON and stay exact. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The length of the UTF-8 sequence at s (at most n bytes) when it is
 * well formed (shortest form, no surrogate, at most U+10FFFF) and not a
 * C1 control (U+0080..U+009F: 0x9b is CSI to many terminals); else 0. */
static size_t utf8_printable(const unsigned char *s, size_t n)
{
    unsigned cp;
    size_t len;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return len;
}

/* Appends s[0..n) escaped to out (out_size includes the NUL; the text is
 * cut at a character boundary when it does not fit).  Returns the length
 * written. */
static size_t escape_into(const char *s, size_t n, int keep_newlines, char *out,
                          size_t out_size)
{
    static const char named[] = "\aa\bb\tt\nn\vv\ff\rr\\\\";
    const unsigned char *u = (const unsigned char *)s;
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        char piece[8];
        size_t k, plen;
        const char *hit = u[i] ? memchr(named, u[i], sizeof named - 1) : NULL;
        if (u[i] == '\n' && keep_newlines) {
            piece[0] = '\n', plen = 1, k = 1;
        } else if (hit && (hit - named) % 2 == 0) {
            piece[0] = '\\', piece[1] = hit[1], plen = 2, k = 1;
        } else if (u[i] >= 0x20 && u[i] < 0x7f) {
            piece[0] = (char)u[i], plen = 1, k = 1;
        } else if (u[i] >= 0x80 && (k = utf8_printable(u + i, n - i)) != 0) {
            memcpy(piece, u + i, k);
            plen = k;
        } else {
            plen = (size_t)snprintf(piece, sizeof piece, "\\%03o", u[i]);
            k = 1;
        }
        if (len + plen >= out_size)
            break;
        memcpy(out + len, piece, plen);
        len += plen;
        i += k;
    }
    out[len] = '\0';
    return len;
}

char *cli_escape(const char *s, int keep_newlines)
{
    size_t n = strlen(s), size = 4 * n + 1; /* "\ooo" for every byte at most */
    char *out = malloc(size);
    if (out)
        escape_into(s, n, keep_newlines, out, size);
    return out;
}

void cli_fputs_escaped(const char *s, int keep_newlines, FILE *fp)
{
    char buf[1024];
    size_t n = strlen(s);
    /* In pieces of at most 255 bytes: 4 output bytes for each fits. */
    for (size_t i = 0; i < n;) {
        size_t k = n - i < 255 ? n - i : 255;
        /* Do not split a UTF-8 sequence between pieces. */
        while (k < n - i && k > 251 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k--;
        escape_into(s + i, k, keep_newlines, buf, sizeof buf);
        fputs(buf, fp);
        i += k;
    }
}

void cli_vprintf(FILE *fp, const char *fmt, va_list ap)
{
    char small[512], *text = small;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small && (text = malloc((size_t)n + 1)) != NULL)
        vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    if (n < 0 || !text) {
        fputs("(out of memory)\n", fp);
        return;
    }
    size_t len = (size_t)n;
    int newline = len && text[len - 1] == '\n';
    if (newline)
        text[len - 1] = '\0';
    cli_fputs_escaped(text, 0, fp);
    if (newline)
        fputc('\n', fp);
    if (text != small)
        free(text);
}

void cli_printf(FILE *fp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vprintf(fp, fmt, ap);
    va_end(ap);
}
