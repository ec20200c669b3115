/* The bureau page's files (bureau/page/www/), embedded at build time by
 * cmake/embed_web.cmake (-DPREFIX=bpage); served at "/<path>" ("/" is index.html). */
#ifndef GS_BPAGE_ASSETS_H
#define GS_BPAGE_ASSETS_H

#include <stddef.h>

struct bpage_asset {
    const char *path;
    const char *content_type;
    const unsigned char *data;
    size_t len;
};

extern const struct bpage_asset bpage_assets[];
extern const size_t bpage_nassets;

#endif
