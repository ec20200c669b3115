/* CSV for spreadsheets (csv_out.h). */
#include "csv_out.h"

#include <stdbool.h>
#include <string.h>

/* What a spreadsheet may read as a formula: = + - @ tab CR, also in their
 * full-width forms (＝＋－＠, which Excel in a Chinese locale may take too). */
static bool formula_start(const char *s)
{
    static const char *const wide[] = {"\xef\xbc\x9d", "\xef\xbc\x8b", "\xef\xbc\x8d",
                                       "\xef\xbc\xa0"};
    if (*s && strchr("=+-@\t\r", *s))
        return true;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (strncmp(s, wide[i], 3) == 0)
            return true;
    return false;
}

static void field(FILE *f, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    if (formula_start(s))
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    if (quote)
        fputc('"', f);
}

void csv_out_bom(FILE *f)
{
    fputs("\xEF\xBB\xBF", f);
}

void csv_out_row(FILE *f, const char *const *fields, int n)
{
    for (int i = 0; i < n; i++) {
        if (i > 0)
            fputc(',', f);
        field(f, fields[i] ? fields[i] : "");
    }
    fputs("\r\n", f);
}
