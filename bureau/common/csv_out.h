/* CSV for people's spreadsheets, written by the bureau's programs (the missing list
 * now; the roll-ups may share it): UTF-8 with a BOM first, so that Excel opens
 * Chinese names as such; RFC 4180 (CRLF rows; a field with a comma, quote, CR or LF
 * in double quotes, quotes doubled). A field a spreadsheet would take for a formula
 * (=, +, -, @, tab, CR, or their full-width forms) gets a leading apostrophe, as the
 * school's exports do (daemon/web/web_csv.c): names and phones are typed by people,
 * and an export must never run anything. */
#ifndef GS_CSV_OUT_H
#define GS_CSV_OUT_H

#include <stdio.h>

/* The byte order mark; once, before the header. */
void csv_out_bom(FILE *f);
/* One record of n fields (NULL is an empty field), ended by CRLF. */
void csv_out_row(FILE *f, const char *const *fields, int n);

#endif
