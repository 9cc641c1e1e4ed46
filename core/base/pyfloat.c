/* Python's repr(float): the shortest digits that read back as the same
 * double, so messages and reports print numbers as MMEngine's do. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/pyfloat.h"

/* Shortest "%.Ne" rendering that reads back as x: digits and exponent. */
static int shortest_digits(double x, char *digits, int *exp10)
{
    char tmp[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, x);
        if (strtod(tmp, NULL) == x || prec == 16)
            break;
    }
    /* tmp = d.ddde[+-]XX (x > 0 here) */
    char *e = strchr(tmp, 'e');
    *exp10 = atoi(e + 1);
    int n = 0;
    for (char *p = tmp; p < e; p++)
        if (*p != '.')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    return n;
}

char *wi_priv_format_double(double x, char *buf, size_t size)
{
    if (isnan(x)) {
        snprintf(buf, size, "nan");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, size, x < 0 ? "-inf" : "inf");
        return buf;
    }
    const char *sign = signbit(x) ? "-" : "";
    if (x == 0) {
        snprintf(buf, size, "%s0.0", sign);
        return buf;
    }
    char digits[32];
    int exp10, n = shortest_digits(fabs(x), digits, &exp10);
    int decpt = exp10 + 1;
    if (decpt <= -4 || decpt > 16) {
        snprintf(buf, size, "%s%c%s%se%c%02d", sign, digits[0], n > 1 ? "." : "",
                 digits + 1, exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        snprintf(buf, size, "%s0.%0*d%s", sign, -decpt, 0, digits);
        if (decpt == 0) /* "%0*d" with width 0 still prints one zero */
            snprintf(buf, size, "%s0.%s", sign, digits);
    } else if (decpt >= n) {
        snprintf(buf, size, "%s%s%0*d.0", sign, digits, decpt - n, 0);
        if (decpt == n)
            snprintf(buf, size, "%s%s.0", sign, digits);
    } else {
        snprintf(buf, size, "%s%.*s.%s", sign, decpt, digits, digits + decpt);
    }
    return buf;
}
