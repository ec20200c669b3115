/* The documents' schema checker (daemon/documents) from the command line, for the
 * differential test against python3-jsonschema (tests/integration/
 * test_docschema_diff.py): reads one JSON document per line on stdin and prints,
 * per line, "valid" or "invalid POINTER: MESSAGE" ("unparsable: MESSAGE" when it
 * is not JSON). Usage: docschema_check summary|notice|summary-v1 (a version's
 * short name, doc_schemas.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc_schemas.h"

static void check_line(const struct docschema *s, const char *line, size_t len)
{
    json_error_t e;
    json_t *doc = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    struct docschema_problem p;
    if (!doc)
        printf("unparsable: %s\n", e.text);
    else if (docschema_check(s, doc, &p) == 0)
        printf("valid\n");
    else
        printf("invalid %s: %s\n", p.pointer, p.message);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    int version = argc == 2 ? doc_version_parse(argv[1]) : -1;
    if (version < 0) {
        fprintf(stderr, "usage: docschema_check summary|notice|summary-v1 < documents.ndjson\n");
        return 2;
    }
    struct docschema *s = doc_version_load(version, stderr);
    if (!s)
        return 1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            n--;
        check_line(s, line, (size_t)n);
    }
    free(line);
    docschema_free(s);
    return 0;
}
