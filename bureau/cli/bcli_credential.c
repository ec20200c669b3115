/* gatescreen-bureau credential add | revoke, quarantine list. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bcli.h"
#include "bstore_admin.h"
#include "certid.h"
#include "secret_file.h"
#include "textnum.h"
#include "token.h"

#define PREVIEW 160 /* bytes of a quarantined body shown by default */

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

/* The token file: a secret file (no group or other bit), one line. Its SHA-256 into
 * digest; the token itself is wiped. */
static int token_digest(const char *path, char digest[65])
{
    static const struct secret_alloc heap = {heap_alloc, free};
    char *text = NULL;
    size_t len = 0;
    struct errbuf e;
    FILE *errs = bcli_errs_open(&e);
    int rc = secret_file_read(path, "token file", TOKEN_MAX + 8, &heap, &text, &len, errs);
    if (rc == 0) {
        len = token_trim(text, len);
        if (!token_valid(text, len)) {
            fprintf(errs, "%s: the token must be one line of %d to %d printable ASCII "
                          "characters without spaces", path, TOKEN_MIN, TOKEN_MAX);
            rc = -1;
        } else {
            token_sha256_hex(text, len, digest);
        }
        explicit_bzero(text, len);
    }
    free(text);
    bcli_errs_report(&e, BSTORE_OK);
    return rc;
}

static void print_expiry(const struct certid *id)
{
    char when[32] = "?";
    time_t t = (time_t)(id->not_after_ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    printf("credential for %s registered: certificate serial %s, SHA-256 %s, valid until %s\n",
           id->code, id->serial, id->sha256, when);
}

static int add_options(int argc, char **argv, const char **cert, const char **token)
{
    static const struct option opts[] = {{"cert", required_argument, NULL, 'c'},
                                          {"token-file", required_argument, NULL, 't'},
                                          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            *cert = optarg;
        else if (c == 't')
            *token = optarg;
        else
            return bcli_usage_error("credential add: bad option");
    }
    if (optind != argc - 1 || !*cert || !*token)
        return bcli_usage_error("credential add: expected CODE --cert FILE.pem --token-file "
                                "FILE");
    return EXIT_OK;
}

int bcli_credential_add(struct bcli *cli, int argc, char **argv)
{
    const char *cert = NULL, *token = NULL;
    struct certid id;
    char digest[65];
    long long cred = 0;
    struct errbuf e;
    int rc = add_options(argc, argv, &cert, &token);
    if (rc != EXIT_OK)
        return rc;
    const char *code = argv[optind];
    if (certid_from_pem_file(cert, &id, stderr) < 0)
        return EXIT_FAILED;
    if (strcmp(id.code, code) != 0)
        return bcli_fail("%s names school %s, not %s: the collector would refuse every "
                         "upload", cert, id.code, code);
    if (token_digest(token, digest) < 0)
        return EXIT_FAILED;
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st =
        bstore_credential_add(cli->store, code, &id, digest, bcli_actor(), &cred, errs);
    if (st == BSTORE_OK)
        print_expiry(&id);
    return bcli_errs_report(&e, st);
}

int bcli_credential_revoke(struct bcli *cli, int argc, char **argv)
{
    struct errbuf e;
    int rc, n = 0;
    if (argc != 2 || argv[1][0] == '-')
        return bcli_usage_error("revoke: expected one school CODE");
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_credential_revoke(cli->store, argv[1], bcli_actor(), &n, errs);
    if (st == BSTORE_OK)
        printf("school %s: %d credential%s revoked; its uploads are refused from now on\n",
               argv[1], n, n == 1 ? "" : "s");
    return bcli_errs_report(&e, st);
}

/* A body on one line: printable UTF-8 as it is, anything else as \xNN. */
static void print_body(const unsigned char *b, size_t n, size_t max)
{
    size_t i = 0;
    while (i < n && i < max) {
        size_t k = tn_utf8_char((const char *)b + i, n - i);
        if (k == 0 || b[i] < 0x20 || b[i] == 0x7f || b[i] == '\\') {
            printf("\\x%02X", b[i]);
            i++;
        } else {
            fwrite(b + i, 1, k, stdout);
            i += k;
        }
    }
    if (i < n)
        printf("... (%zu bytes)", n);
}

struct qopts {
    bool full;
};

static void print_quarantined(const struct bstore_quarantine_view *v, void *arg)
{
    const struct qopts *o = arg;
    printf("%lld\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t", v->id, v->received_at, v->received_by,
           v->school_code ? v->school_code : "-", v->kind ? v->kind : "-",
           v->idem_key ? v->idem_key : "-", v->http_status, v->reason,
           v->json_pointer ? v->json_pointer : "-");
    if (v->body)
        print_body(v->body, v->body_len, o->full ? v->body_len : PREVIEW);
    else
        printf("-");
    printf("\n");
}

int bcli_quarantine_list(struct bcli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"limit", required_argument, NULL, 'l'},
                                          {"body", no_argument, NULL, 'b'},
                                          {NULL, 0, NULL, 0}};
    struct qopts o = {0};
    long limit = 50;
    int c, rc;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'b')
            o.full = true;
        else if (c != 'l' || tn_long(optarg, 1, 100000, &limit) < 0)
            return bcli_usage_error("quarantine list: --limit takes 1 to 100000; --body shows "
                                    "whole bodies");
    }
    if (optind != argc)
        return bcli_usage_error("quarantine list: unexpected argument '%s'", argv[optind]);
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    printf("id\treceived_at\treceived_by\tschool\tkind\tkey\tstatus\treason\tpointer\tbody\n");
    return bstore_quarantine_list(cli->store, (int)limit, print_quarantined, &o) < 0
               ? EXIT_FAILED : EXIT_OK;
}
