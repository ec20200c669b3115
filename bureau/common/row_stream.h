/* An answer of many rows written as they come, so a long one is never held twice:
 * a JSON object whose last member is the array of rows, or CSV (UTF-8 with a BOM, a
 * header, a record per row). The roll-ups (rollup.c) and the notices
 * (notice_list.c) are written through it. */
#ifndef GS_ROW_STREAM_H
#define GS_ROW_STREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum rollup_format { ROLLUP_JSON, ROLLUP_CSV };

struct row_stream {
    FILE *f;
    enum rollup_format format;
    long rows;
    bool failed;
};

/* Starts the answer. JSON: head's members (head is taken, may be NULL when it could
 * not be made: the answer then fails) and then `"array":[`. CSV: the BOM; the caller
 * writes its header line next. */
void row_stream_begin(struct row_stream *s, FILE *f, enum rollup_format format, json_t *head,
                      const char *array);
/* One JSON row (taken; NULL counts as a failure), dumped with these jansson flags. */
void row_stream_json(struct row_stream *s, json_t *row, size_t flags);
/* Ends the answer: 0, or -1 when something could not be made or written. */
int row_stream_end(struct row_stream *s);

#endif
