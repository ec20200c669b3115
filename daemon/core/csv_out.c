/* CSV for spreadsheets (csv_out.h). */
#include "csv_out.h"

#include <string.h>

bool csv_out_formula(const char *s)
{
    static const char *const wide[] = {"\xef\xbc\x9d", "\xef\xbc\x8b", "\xef\xbc\x8d",
                                       "\xef\xbc\xa0"}; /* ＝ ＋ － ＠ */
    if (*s && strchr("=+-@\t\r", *s))
        return true;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (strncmp(s, wide[i], 3) == 0)
            return true;
    return false;
}

void csv_out_field(FILE *f, const char *s, bool first)
{
    if (!first)
        fputc(',', f);
    if (!s)
        return;
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    if (csv_out_formula(s))
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    if (quote)
        fputc('"', f);
}

void csv_out_record(FILE *f, const char *const *fields, int n)
{
    for (int i = 0; i < n; i++)
        csv_out_field(f, fields[i], i == 0);
    fputs("\r\n", f);
}
