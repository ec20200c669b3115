#include "errbuf.h"

#include <stdlib.h>
#include <string.h>

FILE *errbuf_open(struct errbuf *e, FILE *fallback)
{
    *e = (struct errbuf){0};
    e->f = open_memstream(&e->text, &e->len);
    return e->f ? e->f : fallback;
}

const char *errbuf_text(struct errbuf *e)
{
    if (e->f) {
        fclose(e->f);
        e->f = NULL;
    }
    if (!e->text)
        return "";
    size_t n = strlen(e->text);
    while (n && e->text[n - 1] == '\n')
        e->text[--n] = '\0';
    return e->text;
}

const char *errbuf_joined(struct errbuf *e, char sep)
{
    const char *t = errbuf_text(e);
    for (char *p = e->text; p && (p = strchr(p, '\n'));)
        *p = sep;
    return t;
}

void errbuf_drain(struct errbuf *e, void (*fn)(const char *line, void *arg), void *arg)
{
    errbuf_text(e);
    char *save = NULL;
    /* strtok_r skips empty lines: a blank line is no message. */
    for (char *line = e->text ? strtok_r(e->text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save))
        fn(line, arg);
    errbuf_free(e);
}

void errbuf_free(struct errbuf *e)
{
    if (e->f)
        fclose(e->f);
    free(e->text);
    *e = (struct errbuf){0};
}
