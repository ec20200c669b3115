/* Rows written as they come (row_stream.h). */
#include "row_stream.h"

#include <stdlib.h>
#include <string.h>

#include "csv_out.h"

void row_stream_begin(struct row_stream *s, FILE *f, enum rollup_format format, json_t *head,
                      const char *array)
{
    *s = (struct row_stream){.f = f, .format = format};
    if (format == ROLLUP_CSV) {
        json_decref(head);
        fputs(CSV_OUT_BOM, f);
        return;
    }
    char *text = head ? json_dumps(head, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(head);
    if (!text) {
        s->failed = true;
        return;
    }
    /* the object without its closing brace, then the rows */
    fprintf(f, "%.*s,\"%s\":[", (int)strlen(text) - 1, text, array);
    free(text);
}

void row_stream_json(struct row_stream *s, json_t *row, size_t flags)
{
    if (!row || (s->rows++ > 0 && fputc(',', s->f) == EOF) ||
        json_dumpf(row, s->f, flags) < 0)
        s->failed = true;
    json_decref(row);
}

int row_stream_end(struct row_stream *s)
{
    if (s->format == ROLLUP_JSON)
        fputs("]}\n", s->f);
    return s->failed || ferror(s->f) ? -1 : 0;
}
