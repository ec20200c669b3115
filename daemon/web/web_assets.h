/* The nurse page's files (daemon/web/page/), embedded at build time by
 * cmake/embed_web.cmake; served by web_server.c at "/<path>" ("/" is index.html). */
#ifndef GS_WEB_ASSETS_H
#define GS_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *path;         /* relative to daemon/web/page/: "index.html", "app.js" */
    const char *content_type; /* from the extension */
    const unsigned char *data;
    size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_nassets;

#endif
