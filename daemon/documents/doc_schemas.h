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
/* The kind's current schema, parsed and checked (docschema_free it); NULL with a
 * message. */
struct docschema *doc_schema_load(enum doc_kind k, FILE *errs);

/* Every version of the documents the bureau accepts, numbered 0..count-1: the
 * current one of each kind has the kind's number (DOC_SUMMARY, DOC_NOTICE), older
 * ones follow. A school sends the version it was built with; its "schema" member
 * names it ("gatescreen.summary/1"), and the collector checks the document against
 * that version's schema, so a school not updated yet still reports. */
int doc_version_count(void);
enum doc_kind doc_version_kind(int v);
/* The "schema" member's value: "gatescreen.summary/2". */
const char *doc_version_id(int v);
/* A short name: "summary", "notice", "summary-v1"; and back (-1: no such). */
const char *doc_version_name(int v);
int doc_version_parse(const char *name);
/* The version of kind k whose "schema" member is `id`; -1 when none (or id NULL). */
int doc_version_find(enum doc_kind k, const char *id);
struct docschema *doc_version_load(int v, FILE *errs);

/* The embedded files (generated). */
extern const char schema_summary_json[];
extern const size_t schema_summary_json_len;
extern const char schema_notice_json[];
extern const size_t schema_notice_json_len;
extern const char schema_summary_v1_json[];
extern const size_t schema_summary_v1_json_len;

#endif
