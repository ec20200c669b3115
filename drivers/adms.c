/* ZKTeco ADMS lines and answers (adms.h). The protocol, from ZKTeco's public "PUSH
 * SDK" protocol descriptions and open-source receivers (README "ZKTeco ADMS",
 * sources): an ATTLOG line is PIN, time ("YYYY-MM-DD HH:MM:SS", the terminal's
 * local clock), status, verify, workcode and reserved columns, tab-separated; the
 * handshake's answer is "GET OPTION FROM: SN" and KEY=VALUE lines. */
#include "adms.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "textnum.h"

void adms_printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            *s = '?';
}

struct column {
    const char *p;
    size_t n;
};

static int bad(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The reason goes into the log: the line's bytes quoted in it are made printable. */
static int bad(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    adms_printable(why);
    return -1;
}

/* Splits at tabs; -1 over ADMS_MAX_COLUMNS. */
static int split(const char *line, size_t len, struct column *col, int *ncol)
{
    size_t start = 0;
    *ncol = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (*ncol == ADMS_MAX_COLUMNS)
            return -1;
        col[(*ncol)++] = (struct column){line + start, i - start};
        start = i + 1;
    }
    return 0;
}

/* A column as a C string, when it fits. */
static int text_of(const struct column *c, char *out, size_t n)
{
    if (c->n >= n)
        return -1;
    memcpy(out, c->p, c->n);
    out[c->n] = '\0';
    return 0;
}

static bool printable_id(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* "YYYY-MM-DD HH:MM:SS" on the terminal's clock, read in the school's zone. */
static int local_time(const char *s, int64_t *ms)
{
    char day[CIVIL_DAY_LEN];
    long h, mi, se;
    char hh[3] = {0}, mm[3] = {0}, ss[3] = {0};
    if (strlen(s) != 19 || s[10] != ' ' || s[13] != ':' || s[16] != ':')
        return -1;
    memcpy(day, s, 10);
    day[10] = '\0';
    memcpy(hh, s + 11, 2);
    memcpy(mm, s + 14, 2);
    memcpy(ss, s + 17, 2);
    if (tn_long(hh, 0, 23, &h) < 0 || tn_long(mm, 0, 59, &mi) < 0 || tn_long(ss, 0, 59, &se) < 0 ||
        hh[0] == '-' || hh[0] == '+' || mm[0] == '-' || mm[0] == '+' || ss[0] == '-' ||
        ss[0] == '+')
        return -1;
    return civil_ms_at(day, (int)(h * 3600 + mi * 60 + se), ms);
}

/* FNV-1a 64 of the bytes, kept to 63 bits (the ledger's serial is a signed integer). */
static uint64_t line_identity(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h & INT64_MAX;
}

/* 0 and 0.0 are what firmwares write when they measured nothing. */
static int temperature(const struct column *c, const struct adms_columns *cols,
                       struct terminal_event *out, char *why, size_t n)
{
    char text[16];
    double v;
    if (c->n == 0)
        return 0;
    if (text_of(c, text, sizeof text) < 0 || tn_double(text, -100000.0, 100000.0, &v) < 0)
        return bad(why, n, "temperature column %d \"%.*s\" is not a number", cols->temperature,
                   (int)(c->n < 16 ? c->n : 16), c->p);
    if (v == 0.0)
        return 0;
    v /= cols->scale;
    if (cols->fahrenheit)
        v = (v - 32.0) * 5.0 / 9.0;
    if (!isfinite(v) || v < -100.0 || v > 200.0)
        return bad(why, n, "temperature column %d \"%s\" is %g °C, out of any range (check "
                           "temperature_scale and temperature_unit)", cols->temperature, text, v);
    out->has_temp = true;
    out->temp_centi = (int32_t)lround(v * 100.0);
    return 0;
}

static void mask(const struct column *c, struct terminal_event *out)
{
    if (c->n == 1 && (c->p[0] == '0' || c->p[0] == '1'))
        snprintf(out->mask, sizeof out->mask, "%s", c->p[0] == '1' ? "yes" : "no");
    else if (c->n > 0)
        snprintf(out->mask, sizeof out->mask, "unknown");
}

static int small_number(const struct column *c, int *out)
{
    char text[8];
    long v;
    if (text_of(c, text, sizeof text) < 0 || tn_long(text, 0, 255, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

int adms_parse_line(const char *line, size_t len, const struct adms_columns *cols,
                    struct terminal_event *out, char *why, size_t why_len)
{
    struct column col[ADMS_MAX_COLUMNS];
    int ncol;
    *out = (struct terminal_event){.abnormal = -1, .major = -1, .minor = -1};
    if (len > ADMS_MAX_LINE)
        return bad(why, why_len, "a line of %zu bytes (at most %d)", len, ADMS_MAX_LINE);
    if (split(line, len, col, &ncol) < 0)
        return bad(why, why_len, "a line of more than %d columns", ADMS_MAX_COLUMNS);
    if (ncol < 2)
        return bad(why, why_len, "a line without PIN and time (no tab)");
    if (col[0].n == 0 || text_of(&col[0], out->employee, sizeof out->employee) < 0 ||
        !printable_id(out->employee))
        return bad(why, why_len, "PIN \"%.*s\" is empty, longer than %zu or not printable",
                   (int)(col[0].n < 40 ? col[0].n : 40), col[0].p, sizeof out->employee - 1);
    if (text_of(&col[1], out->device_time, sizeof out->device_time) < 0 ||
        local_time(out->device_time, &out->device_ms) < 0)
        return bad(why, why_len, "time \"%.*s\" is not YYYY-MM-DD HH:MM:SS",
                   (int)(col[1].n < 40 ? col[1].n : 40), col[1].p);
    out->has_device_ms = true;
    out->has_employee = true;
    if ((ncol > 2 && col[2].n > 0 && small_number(&col[2], &out->major) < 0) ||
        (ncol > 3 && col[3].n > 0 && small_number(&col[3], &out->minor) < 0))
        return bad(why, why_len, "status or verify (columns 3, 4) is not a number 0..255");
    if (cols->temperature > 0 && cols->temperature <= ncol &&
        temperature(&col[cols->temperature - 1], cols, out, why, why_len) < 0)
        return -1;
    if (cols->mask > 0 && cols->mask <= ncol)
        mask(&col[cols->mask - 1], out);
    int ident = ncol < 4 ? ncol : 4;
    out->has_serial = true;
    out->serial = line_identity(line, (size_t)(col[ident - 1].p + col[ident - 1].n - line));
    return 0;
}

bool adms_next_line(const char *body, size_t len, size_t *pos, const char **line,
                    size_t *line_len)
{
    while (*pos < len) {
        const char *p = body + *pos;
        const char *nl = memchr(p, '\n', len - *pos);
        size_t n = nl ? (size_t)(nl - p) : len - *pos;
        *pos += n + (nl != NULL);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > 0) {
            *line = p;
            *line_len = n;
            return true;
        }
    }
    return false;
}

/* Realtime=1: each punch is sent as it happens (the gate needs it now); Delay: the
 * seconds between heartbeats (offline_after is some multiple of it); TransFlag:
 * attendance lines only, no photos or user data (nothing we would keep). */
int adms_options(const char *sn, char *buf, size_t n)
{
    int w = snprintf(buf, n,
                     "GET OPTION FROM: %s\n"
                     "ATTLOGStamp=None\n"
                     "OPERLOGStamp=9999\n"
                     "ATTPHOTOStamp=None\n"
                     "ErrorDelay=30\n"
                     "Delay=10\n"
                     "TransTimes=00:00;14:05\n"
                     "TransInterval=1\n"
                     "TransFlag=TransData AttLog\n"
                     "Realtime=1\n"
                     "Encrypt=None\n",
                     sn);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}
