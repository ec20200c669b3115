/* The documents' kinds and their built-in schemas (see doc_schemas.h). */
#include "doc_schemas.h"

#include <string.h>

static const struct {
    const char *name;
    const char *file; /* for messages: where the text came from */
    const char *text;
    const size_t *len;
} kinds[DOC_KINDS] = {
    [DOC_SUMMARY] = {"summary", "config/schema/summary.schema.json", schema_summary_json,
                     &schema_summary_json_len},
    [DOC_NOTICE] = {"notice", "config/schema/notice.schema.json", schema_notice_json,
                    &schema_notice_json_len},
};

const char *doc_kind_name(enum doc_kind k)
{
    return kinds[k].name;
}

int doc_kind_parse(const char *name)
{
    for (int k = 0; k < DOC_KINDS; k++)
        if (strcmp(name, kinds[k].name) == 0)
            return k;
    return -1;
}

struct docschema *doc_schema_load(enum doc_kind k, FILE *errs)
{
    return docschema_new(kinds[k].file, kinds[k].text, *kinds[k].len, errs);
}
