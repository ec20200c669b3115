/* Changing a few keys of one section of a configuration file's text, keeping every
 * other line exactly as it is: comments, blank lines, other sections, the order
 * (`gatescreen upstream enrol` sets [upstream]'s url and files this way). The text
 * is read the way the parser reads it (config_parse.c): lines trimmed, '#' and ';'
 * comments, [section] headers, "key = value" or "key: value". */
#ifndef GS_CONFIG_EDIT_H
#define GS_CONFIG_EDIT_H

#include <stddef.h>
#include <stdio.h>

struct config_setting {
    const char *key, *value;
};

/* The text with each setting's line in [section] replaced by "key = value", in
 * place; settings the section lacks are added after its last key line; a missing
 * section is added at the end with all of them. The new text, malloc'd and
 * NUL-terminated, in *out (*out_len bytes). -1 with "NAME:LINE: message" on errs
 * when the section is there twice, a key is there twice in it, or a value cannot be
 * written on one line (a line end, blanks at either end, an inline " ;" comment). */
int config_edit_section(const char *name, const char *text, size_t len, const char *section,
                        const struct config_setting *set, int n, char **out, size_t *out_len,
                        FILE *errs);
/* The line (from 1) of `key` in [section], or 0 when it is not there (or the section
 * is there twice), for messages that point at the file. */
int config_key_line(const char *text, size_t len, const char *section, const char *key);

#endif
