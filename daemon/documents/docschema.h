/* The bureau's documents checked against their JSON Schemas (config/schema/, embedded
 * at build time: doc_schemas.h), in C, on jansson values: the bureau's collector
 * checks what it receives with the very files that describe what schools send.
 * Only the part of
 * JSON Schema 2020-12 those files use is understood (type, const, enum, properties,
 * required, additionalProperties, items, minItems, maxItems, minLength, maxLength,
 * minimum, maximum, pattern, oneOf, anyOf, allOf, $ref to #/$defs/...); a schema
 * with any other keyword is refused when it is loaded, so a schema change that
 * this code would not enforce cannot slip through. tests/integration/
 * test_docschema_diff.py checks it agrees with python3-jsonschema. Patterns are
 * POSIX extended expressions (the files use the part where ECMA and POSIX agree). */
#ifndef GS_DOCSCHEMA_H
#define GS_DOCSCHEMA_H

#include <jansson.h>
#include <stdio.h>

struct docschema;

/* Parses and checks a schema; NULL with a message on errs ("NAME: ..."). */
struct docschema *docschema_new(const char *name, const char *text, size_t len, FILE *errs);
void docschema_free(struct docschema *s);

/* Where a document first fails its schema: a JSON pointer ("" is the whole
 * document) and what is wrong there. */
struct docschema_problem {
    char pointer[256];
    char message[256];
};

/* 0 when `doc` is valid; -1 with the first problem found (the schema's keywords
 * in a fixed order, an object's properties in the document's order). */
int docschema_check(const struct docschema *s, const json_t *doc, struct docschema_problem *p);

#endif
