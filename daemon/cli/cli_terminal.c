/* `gatescreen terminal setup NAME`: the terminal's HTTP listening host, set over
 * ISAPI (README "HTTP terminals"). The XML names are those of the terminal's
 * HttpHostNotification (as public integrations read and write it: url,
 * protocolType, parameterFormatType, addressingFormatType, ipAddress, portNo,
 * httpAuthenticationMethod). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_terminal.h"
#include "config_load.h"
#include "secret_file.h"
#include "textnum.h"

#define PASSWORD_MAX 256

struct setup {
    const struct cfg_terminal *t;
    const char *host;   /* where the terminal is to push */
    int port;           /* ... and its port */
    long isapi_port;    /* the terminal's own HTTP port */
    char *password;
};

static int parse(int argc, char **argv, const char **name, const char **host, long *isapi_port)
{
    static const struct option opts[] = {{"host", required_argument, NULL, 'h'},
                                          {"isapi-port", required_argument, NULL, 'p'},
                                          {NULL, 0, NULL, 0}};
    int c;
    *host = NULL;
    *isapi_port = 0; /* not given: the terminal's isapi_port */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h')
            *host = optarg;
        else if (c != 'p' || tn_long(optarg, 1, 65535, isapi_port) < 0)
            return cli_usage_error("terminal setup: bad option or port%s", "");
    }
    if (optind + 1 != argc)
        return cli_usage_error("terminal setup: give one terminal NAME%s", "");
    *name = argv[optind];
    return EXIT_OK;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

/* The PUT itself, Digest as the ISAPI asks; the HTTP status into *status. */
static int put_host(const struct setup *s, const char *xml, long *status)
{
    char url[160], user[CFG_NAME_MAX];
    bool v6 = strchr(s->t->address, ':') != NULL;
    snprintf(url, sizeof url, "http://%s%s%s:%ld/ISAPI/Event/notification/httpHosts/1",
             v6 ? "[" : "", s->t->address, v6 ? "]" : "", s->isapi_port);
    snprintf(user, sizeof user, "%s", s->t->user);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/xml");
    if (!c || !h) {
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, xml);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
    curl_easy_setopt(c, CURLOPT_USERNAME, user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    else
        fprintf(stderr, "gatescreen: terminal %s at %s: %s\n", s->t->name, url,
                curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

static int build_and_put(const struct setup *s)
{
    char xml[1024];
    bool auth = s->t->password_file[0] != '\0';
    snprintf(xml, sizeof xml,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<HttpHostNotification version=\"2.0\" xmlns=\"http://www.isapi.org/ver20/XMLSchema\">\n"
             "<id>1</id>\n<url>/gatescreen/event</url>\n<protocolType>HTTP</protocolType>\n"
             "<parameterFormatType>JSON</parameterFormatType>\n"
             "<addressingFormatType>ipaddress</addressingFormatType>\n"
             "<ipAddress>%s</ipAddress>\n<portNo>%d</portNo>\n"
             "<httpAuthenticationMethod>%s</httpAuthenticationMethod>\n"
             "</HttpHostNotification>\n",
             s->host, s->port, auth ? "MD5digest" : "none");
    long status = 0;
    if (put_host(s, xml, &status) < 0)
        return EXIT_FAILED;
    if (status == 401)
        return cli_fail("terminal %s refused user %s and the password in %s (401)", s->t->name,
                        s->t->user, s->t->password_file);
    if (status < 200 || status > 299)
        return cli_fail("terminal %s answered %ld to the PUT of its HTTP host", s->t->name, status);
    printf("terminal %s: pushes its events to %s:%d now\n", s->t->name, s->host, s->port);
    return EXIT_OK;
}

/* Where the terminal should push: the listener's address, unless it is a wildcard. */
static const char *push_host(const struct config *cfg, const char *given)
{
    const char *l = cfg->terminals.listen;
    if (given)
        return given;
    return strcmp(l, "0.0.0.0") == 0 || strcmp(l, "::") == 0 ? NULL : l;
}

int cli_terminal_setup(struct cli *cli, int argc, char **argv)
{
    const char *name = NULL, *given = NULL; /* set by parse when it returns EXIT_OK */
    struct setup s = {0};
    int rc = parse(argc, argv, &name, &given, &s.isapi_port);
    if (rc != EXIT_OK)
        return rc;
    if (!cli->cfg && !(cli->cfg = config_load(cli->config_path, stderr)))
        return EXIT_USAGE;
    for (int i = 0; i < cli->cfg->nterminals; i++)
        if (strcmp(cli->cfg->terminal[i].name, name) == 0)
            s.t = &cli->cfg->terminal[i];
    if (!s.t)
        return cli_fail("no [terminal %s] in %s", name, cli->config_path);
    if (s.t->mode == CFG_TERM_STREAM)
        return cli_fail("[terminal %s] is mode = stream: gatescreend reads its alertStream, "
                        "there is nothing to set up on the terminal", name);
    if (!s.isapi_port)
        s.isapi_port = s.t->isapi_port;
    if (!s.t->user[0] || !s.t->password_file[0])
        return cli_fail("[terminal %s] needs user and password_file (the terminal's login)", name);
    unsigned char a[16];
    if (given && inet_pton(AF_INET, given, a) != 1 && inet_pton(AF_INET6, given, a) != 1)
        return cli_usage_error("terminal setup: --host %s is not an IPv4 or IPv6 address", given);
    if (!(s.host = push_host(cli->cfg, given)))
        return cli_fail("[terminals] listen is %s: give --host ADDR, this box's address as the "
                        "terminal reaches it", cli->cfg->terminals.listen);
    s.port = cli->cfg->terminals.port;
    if (secret_file_read_line(s.t->password_file, "terminal password file", PASSWORD_MAX,
                              &s.password, stderr) < 0)
        return EXIT_FAILED;
    rc = build_and_put(&s);
    free(s.password);
    return rc;
}
