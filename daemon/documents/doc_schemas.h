/* The documents a school sends the bureau, by kind, and their JSON Schemas as built
 * into the program from config/schema/ (cmake/embed_text.cmake). */
#ifndef GS_DOC_SCHEMAS_H
#define GS_DOC_SCHEMAS_H

#include <stddef.h>
#include <stdio.h>

#include "docschema.h"

enum doc_kind { DOC_SUMMARY, DOC_NOTICE, DOC_KINDS };

/* "summary", "notice": the X-Gatescreen-Kind header's values. */
const char *doc_kind_name(enum doc_kind k);
/* The kind named by `name`, or -1. */
int doc_kind_parse(const char *name);
/* The kind's schema, parsed and checked (docschema_free it); NULL with a message. */
struct docschema *doc_schema_load(enum doc_kind k, FILE *errs);

/* The embedded files (generated). */
extern const char schema_summary_json[];
extern const size_t schema_summary_json_len;
extern const char schema_notice_json[];
extern const size_t schema_notice_json_len;

#endif
