/* Numbers, times and flags from text: strict, whole-string, range-checked.
 * All return 0 on success and -1 on malformed or out-of-range input, leaving
 * *out untouched; the caller reports what was expected and where. */
#ifndef GS_TEXTNUM_H
#define GS_TEXTNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal integer, optional sign, no spaces, within [min, max]. */
int tn_long(const char *s, long min, long max, long *out);
/* The same for 64-bit values, whatever the size of long: card numbers (up to
 * 2^32 - 1) and database ids, which do not fit a 32-bit target's long. */
int tn_int64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Like tn_long, also accepting 0x hex (for bit masks and register addresses). */
int tn_long_hex(const char *s, long min, long max, long *out);
/* Decimal number with at most two decimals, as hundredths: "37.3" -> 3730.
 * Exact (no floating point), so 37.29 and 37.30 never blur. */
int tn_centi(const char *s, long min, long max, long *out);
/* Hundredths as text: 3730 -> "37.30", -50 -> "-0.50". Returns buf. */
char *tn_format_centi(long centi, char *buf, size_t n);
/* Finite floating-point number within [min, max] (scales and factors). */
int tn_double(const char *s, double min, double max, double *out);
/* Duration with a unit: "250ms", "2s", "1.5s", "5min", "2h" -> milliseconds. */
int tn_duration_ms(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out);
/* A duration as the config file would write it: "2h", "5min", "2s", "250ms" (the
 * largest unit that divides it), into buf; returns buf. */
#define TN_DURATION_LEN 24
const char *tn_format_ms(int64_t ms, char buf[TN_DURATION_LEN]);
/* The same in microseconds, also "20us": Wiegand pulse limits. */
int tn_duration_us(const char *s, int64_t min_us, int64_t max_us, int64_t *out);
/* "HH:MM" (00:00..23:59) -> minutes after midnight. */
int tn_hhmm(const char *s, int *out);
/* "HH:MM-HH:MM" with start < end, same day -> minutes after midnight. */
int tn_span(const char *s, int *start, int *end);
/* "YYYY-MM-DD", a real calendar date. */
int tn_date(const char *s, int *year, int *month, int *day);
/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int tn_bool(const char *s, bool *out);
/* Offset of the first byte that is not valid UTF-8 (overlongs, surrogates and
 * code points above U+10FFFF are invalid), or -1 when all n bytes are valid. */
long tn_utf8_invalid_at(const char *s, size_t n);
/* Length of the valid UTF-8 character at s (n bytes left), 0 when it is not one:
 * the one UTF-8 check of the tree, the strict one. */
size_t tn_utf8_char(const char *s, size_t n);
/* Number of code points in s[n], or -1 when it is not valid UTF-8. */
long tn_utf8_length(const char *s, size_t n);
/* Replaces each byte that starts no valid character with `repl` (ASCII), in place. */
void tn_utf8_scrub(char *s, char repl);

/* Appends printf-style text to the NUL-terminated text in buf[n]; what does not fit
 * is cut (audit details, messages: a shorter text is harmless there). */
void tn_append(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
