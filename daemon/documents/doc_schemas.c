/* The documents' kinds, their versions and built-in schemas (see doc_schemas.h). */
#include "doc_schemas.h"

#include <string.h>

struct doc_version {
    enum doc_kind kind;
    const char *id;   /* the document's "schema" member */
    const char *name; /* for docschema_check and messages */
    const char *file; /* for messages: where the text came from */
    const char *text;
    const size_t *len;
};

/* The current version of each kind first (in enum order), older ones after. */
static const struct doc_version versions[] = {
    {DOC_SUMMARY, "gatescreen.summary/2", "summary", "config/schema/summary.schema.json",
     schema_summary_json, &schema_summary_json_len},
    {DOC_NOTICE, "gatescreen.notice/1", "notice", "config/schema/notice.schema.json",
     schema_notice_json, &schema_notice_json_len},
    {DOC_SUMMARY, "gatescreen.summary/1", "summary-v1", "config/schema/summary-v1.schema.json",
     schema_summary_v1_json, &schema_summary_v1_json_len},
};

#define NVERSIONS ((int)(sizeof versions / sizeof versions[0]))

static const char *const kind_names[DOC_KINDS] = {[DOC_SUMMARY] = "summary",
                                                  [DOC_NOTICE] = "notice"};

const char *doc_kind_name(enum doc_kind k)
{
    return kind_names[k];
}

int doc_kind_parse(const char *name)
{
    for (int k = 0; k < DOC_KINDS; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

struct docschema *doc_schema_load(enum doc_kind k, FILE *errs)
{
    return doc_version_load((int)k, errs);
}

int doc_version_count(void)
{
    return NVERSIONS;
}

enum doc_kind doc_version_kind(int v)
{
    return versions[v].kind;
}

const char *doc_version_id(int v)
{
    return versions[v].id;
}

const char *doc_version_name(int v)
{
    return versions[v].name;
}

int doc_version_parse(const char *name)
{
    for (int v = 0; v < NVERSIONS; v++)
        if (strcmp(name, versions[v].name) == 0)
            return v;
    return -1;
}

int doc_version_find(enum doc_kind k, const char *id)
{
    for (int v = 0; id && v < NVERSIONS; v++)
        if (versions[v].kind == k && strcmp(versions[v].id, id) == 0)
            return v;
    return -1;
}

struct docschema *doc_version_load(int v, FILE *errs)
{
    return docschema_new(versions[v].file, versions[v].text, *versions[v].len, errs);
}
