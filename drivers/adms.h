/* ZKTeco ADMS ("iClock" push protocol) as face/thermal terminals speak it (README
 * "HTTP terminals", "ZKTeco ADMS"): the options block answering the handshake and
 * the tab-separated ATTLOG lines of an upload. Pure parsing over a buffered,
 * bounded body: no I/O. Where thermal firmwares put the temperature and the mask
 * flag is not public for every model, so the columns come from the config. */
#ifndef GS_ADMS_H
#define GS_ADMS_H

#include <stdbool.h>
#include <stddef.h>

#include "events.h"

#define ADMS_MAX_LINE 1024    /* bytes of one ATTLOG line */
#define ADMS_MAX_COLUMNS 32

/* Where a terminal's firmware writes what a thermal model adds to a line. */
struct adms_columns {
    int temperature;   /* 1-based column, 0: none */
    int mask;          /* 1-based column, 0: none */
    int scale;         /* the column's number / scale = degrees (10: "365" is 36.5) */
    bool fahrenheit;
};

/* One ATTLOG line (without its end of line) into `out`: PIN as the roster id,
 * time (the terminal's local clock, read in the school's zone), status and verify
 * (as major and minor), the configured temperature and mask columns, and as
 * serial a 63-bit hash of the line's first four columns (the line names no event
 * number; the same punch sent again is the same line). 0, or -1 with `why`. */
int adms_parse_line(const char *line, size_t len, const struct adms_columns *cols,
                    struct terminal_event *out, char *why, size_t why_len);

/* The next line of an upload at *pos (advanced past it and its "\r\n" or "\n");
 * blank lines are skipped. false at the end. */
bool adms_next_line(const char *body, size_t len, size_t *pos, const char **line,
                    size_t *line_len);

/* Control characters to '?': what a terminal sent, fit for a log line. */
void adms_printable(char *s);

/* The handshake's answer for terminal `sn`, into buf; -1 when it does not fit. */
int adms_options(const char *sn, char *buf, size_t n);

#endif
