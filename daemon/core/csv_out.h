/* CSV for spreadsheets, written: the school's day exports (daemon/web/web_csv.c)
 * and the bureau's roll-ups and notices (bureau/common/) write their files with
 * these, so that both guard their cells the same way.
 *
 * RFC 4180: fields separated by commas, records ended by CRLF, a field holding a
 * comma, quote, CR or LF in double quotes with its quotes doubled. A file starts
 * with CSV_OUT_BOM, so that Excel reads UTF-8 (Chinese names) as such.
 *
 * A field that a spreadsheet would take for a formula (it starts with =, +, -, @,
 * a tab or a CR, or the full-width ＝＋－＠ that Excel in a Chinese locale may take
 * too) gets a leading apostrophe: names, classes and notes are typed by people,
 * and opening an export must never run anything. */
#ifndef GS_CSV_OUT_H
#define GS_CSV_OUT_H

#include <stdbool.h>
#include <stdio.h>

#define CSV_OUT_BOM "\xEF\xBB\xBF"

/* Whether a spreadsheet may read s as a formula. */
bool csv_out_formula(const char *s);
/* One field (NULL is an empty one), preceded by a comma unless it is the first. */
void csv_out_field(FILE *f, const char *s, bool first);
/* One record: n fields and CRLF. */
void csv_out_record(FILE *f, const char *const *fields, int n);

#endif
