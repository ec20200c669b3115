/* gatescreen-sim: simulated body-temperature devices over real Modbus (TCP and
 * RTU), driven by a scenario file, commands on stdin, or a random school
 * morning. The daemon and the integration tests talk to it as to hardware.
 * Usage and formats: drivers/sim/README.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config_load.h"
#include "log.h"
#include "scenario.h"
#include "sim_adms.h"
#include "sim_server.h"
#include "sim_terminal.h"
#include "simdev.h"
#include "simrand.h"
#include "textnum.h"
#include "zone.h"

#define LINE_MAX_BYTES 1024
#define DEFAULT_RATE 30.0          /* arrivals per minute per lane */
#define DEFAULT_DURATION_MS 60000
#define DEFAULT_TURNAROUND_US 2000

enum { OPT_SERIAL = 256, OPT_SCENARIO, OPT_RANDOM, OPT_ROSTER, OPT_ARRIVALS, OPT_RATE,
       OPT_DURATION, OPT_WIRE, OPT_TURNAROUND, OPT_ADMS, OPT_ADMS_HEARTBEAT };

struct serial_override {
    char bus[CFG_NAME_MAX];
    const char *path;
};

struct opts {
    const char *config, *scenario, *roster;
    struct serial_override serial[CFG_MAX_BUSES];
    int nserial;
    bool random, rand_tuned; /* rand_tuned: --arrivals/--rate/--duration given */
    struct simrand_opts rand;
    struct sim_server_opts server;
    bool verbose;
    const char *adms[SIM_ADMS_MAX];   /* --adms NAME: ZKTeco ADMS terminals (sim_adms.h) */
    int nadms;
    int64_t adms_heartbeat_ms;        /* 0: the Delay the handshake's answer gives */
};

struct sim {
    struct config *cfg;
    struct scenario *scenario;
    struct simrand *rand;
    struct simdevs *devs;
    struct sim_server *server;
    struct sim_adms *adms[SIM_ADMS_MAX];
    int nadms;
    struct sim_terms *terms; /* NULL without a Hikvision [terminal] */
    int sigfd;
    int64_t start_ms;
    bool stdin_open, quit;
    char line[LINE_MAX_BYTES];
    size_t linelen;
    bool overlong;            /* dropping the rest of a too long stdin line */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gatescreen-sim -c CONFIG [--serial BUS=PATH]... [--scenario FILE]\n"
            "         [--random SEED --roster FILE.csv [--arrivals N] [--rate PER_MIN]\n"
            "          [--duration S]] [--wire-timing] [--turnaround MS]\n"
            "         [--adms NAME]... [--adms-heartbeat MS] [-v]\n"
            "  -c, --config FILE     the daemon's configuration (buses, profiles, devices)\n"
            "      --serial BUS=PATH serve serial bus BUS on PATH instead of its device\n"
            "      --scenario FILE   timed commands (see drivers/sim/README.md)\n"
            "      --random SEED     a random school morning, people from --roster\n"
            "      --arrivals N      ... at most N arrivals\n"
            "      --rate PER_MIN    ... arrivals per minute per lane (default 30)\n"
            "      --duration S      ... for S seconds (default 60)\n"
            "      --wire-timing     RTU replies as late as the serial line would allow\n"
            "      --turnaround MS   ... plus this turnaround (default 2)\n"
            "      --adms NAME       be [terminal NAME], a ZKTeco ADMS terminal (up to 8)\n"
            "      --adms-heartbeat MS  ... heartbeat every MS (default: the server's Delay)\n"
            "  -v, --verbose         debug logging\n"
            "Commands are also read from stdin, one per line; each gets 'ok' or 'error: ...'.\n");
}

/* ---- command line ---------------------------------------------------------- */

static int bad_value(const char *opt, const char *value, const char *expected)
{
    fprintf(stderr, "gatescreen-sim: %s %s: expected %s\n", opt, value, expected);
    return -1;
}

static int add_serial(struct opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    struct serial_override *s = &o->serial[o->nserial];
    if (eq == NULL || eq == arg || eq[1] == '\0' || o->nserial == CFG_MAX_BUSES ||
        eq - arg >= (ptrdiff_t)sizeof s->bus)
        return bad_value("--serial", arg, "BUS=PATH");
    snprintf(s->bus, sizeof s->bus, "%.*s", (int)(eq - arg), arg);
    s->path = eq + 1;
    o->nserial++;
    return 0;
}

static int numeric_option(struct opts *o, int c, const char *arg)
{
    long n;
    double d;
    o->rand_tuned |= c == OPT_ARRIVALS || c == OPT_RATE || c == OPT_DURATION;
    switch (c) {
    case OPT_RANDOM:
        if (tn_long(arg, 0, LONG_MAX, &n) < 0)
            return bad_value("--random", arg, "a seed, a whole number >= 0");
        o->random = true;
        o->rand.seed = (uint64_t)n;
        return 0;
    case OPT_ARRIVALS:
        if (tn_long(arg, 0, LONG_MAX, &o->rand.arrivals) < 0)
            return bad_value("--arrivals", arg, "a whole number >= 0");
        return 0;
    case OPT_RATE:
        if (tn_double(arg, 0.001, 100000, &o->rand.rate_per_min) < 0)
            return bad_value("--rate", arg, "arrivals per minute, more than 0");
        return 0;
    case OPT_DURATION:
        if (scenario_parse_time(arg, &o->rand.duration_ms) < 0)
            return bad_value("--duration", arg, "seconds, e.g. 60 or 90s");
        return 0;
    default:
        if (tn_double(arg, 0, 60000, &d) < 0)
            return bad_value("--turnaround", arg, "milliseconds, e.g. 2 or 3.5");
        o->server.turnaround_us = llround(d * 1000.0);
        return 0;
    }
}

static int check_combination(const struct opts *o)
{
    const char *why = o->config == NULL                 ? "-c CONFIG is required"
                      : o->random && o->roster == NULL  ? "--random needs --roster"
                      : !o->random && o->roster != NULL ? "--roster is only for --random"
                      : !o->random && o->rand_tuned
                          ? "--arrivals, --rate and --duration are only for --random"
                          : NULL;
    if (why != NULL)
        fprintf(stderr, "gatescreen-sim: %s\n", why);
    return why ? -1 : 0;
}

static int adms_option(struct opts *o, int c, const char *arg)
{
    if (c == OPT_ADMS_HEARTBEAT)
        return tn_duration_ms(arg, 100, 3600000, &o->adms_heartbeat_ms) == 0
                   ? 0 : bad_value("--adms-heartbeat", arg, "a duration, e.g. 500ms or 10s");
    if (o->nadms == SIM_ADMS_MAX)
        return bad_value("--adms", arg, "at most 8 terminals");
    o->adms[o->nadms++] = arg;
    return 0;
}

/* Returns -1 to exit 2 (usage), 1 to exit 0 (--help), 0 to run. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},  {"serial", required_argument, NULL, OPT_SERIAL},
        {"scenario", required_argument, NULL, OPT_SCENARIO},
        {"random", required_argument, NULL, OPT_RANDOM},
        {"roster", required_argument, NULL, OPT_ROSTER},
        {"arrivals", required_argument, NULL, OPT_ARRIVALS},
        {"rate", required_argument, NULL, OPT_RATE},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"wire-timing", no_argument, NULL, OPT_WIRE},
        {"turnaround", required_argument, NULL, OPT_TURNAROUND},
        {"adms", required_argument, NULL, OPT_ADMS},
        {"adms-heartbeat", required_argument, NULL, OPT_ADMS_HEARTBEAT},
        {"verbose", no_argument, NULL, 'v'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'v': o->verbose = true; break;
        case 'h': usage(stdout); return 1;
        case OPT_SERIAL: rc = add_serial(o, optarg); break;
        case OPT_SCENARIO: o->scenario = optarg; break;
        case OPT_ROSTER: o->roster = optarg; break;
        case OPT_WIRE: o->server.wire_timing = true; break;
        case OPT_ADMS: case OPT_ADMS_HEARTBEAT: rc = adms_option(o, c, optarg); break;
        case OPT_RANDOM: case OPT_ARRIVALS: case OPT_RATE: case OPT_DURATION:
        case OPT_TURNAROUND: rc = numeric_option(o, c, optarg); break;
        default: rc = -1; break;
        }
    }
    if (rc == 0 && optind < argc) {
        fprintf(stderr, "gatescreen-sim: unexpected argument '%s'\n", argv[optind]);
        rc = -1;
    }
    if (rc == 0)
        rc = check_combination(o);
    if (rc < 0)
        usage(stderr);
    return rc;
}

/* ---- setting up ------------------------------------------------------------ */

static int find_bus(const struct config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nbuses; i++)
        if (strcmp(cfg->buses[i].name, name) == 0)
            return i;
    return -1;
}

/* --serial BUS=PATH: tests hand the simulator one end of a pty pair. */
static int apply_serial(struct config *cfg, const struct opts *o)
{
    for (int i = 0; i < o->nserial; i++) {
        const struct serial_override *s = &o->serial[i];
        int b = find_bus(cfg, s->bus);
        if (b < 0 || cfg->buses[b].is_tcp) {
            fprintf(stderr, "gatescreen-sim: --serial %s: %s has no serial bus '%s'\n",
                    s->bus, o->config, s->bus);
            return -1;
        }
        size_t n = sizeof cfg->buses[b].device;
        if ((size_t)snprintf(cfg->buses[b].device, n, "%s", s->path) >= n) {
            fprintf(stderr, "gatescreen-sim: --serial %s: path too long\n", s->bus);
            return -1;
        }
    }
    return 0;
}

/* Returns the exit status to give up with, or 0. */
static int setup(struct sim *s, const struct opts *o)
{
    s->cfg = config_load(o->config, stderr);
    if (s->cfg == NULL)
        return 1;
    if (apply_serial(s->cfg, o) < 0)
        return 2;
    if (o->scenario && scenario_load(s->cfg, o->scenario, &s->scenario, stderr) != 0)
        return 2;
    if (o->random && (s->rand = simrand_new(s->cfg, o->roster, &o->rand)) == NULL)
        return 1;
    /* ADMS lines are the terminal's local time: the school's, before any thread. */
    if (o->nadms > 0 && zone_set(s->cfg->school.timezone) < 0)
        return 1;
    s->devs = simdevs_new(s->cfg);
    return s->devs ? 0 : 1;
}

static void teardown(struct sim *s)
{
    for (int i = 0; i < SIM_ADMS_MAX; i++)
        sim_adms_stop(s->adms[i]);
    sim_terms_stop(s->terms);
    sim_server_stop(s->server);
    simdevs_free(s->devs);
    simrand_free(s->rand);
    scenario_free(s->scenario);
    config_free(s->cfg);
    if (s->sigfd >= 0)
        close(s->sigfd);
}

/* SIGTERM and SIGINT arrive on a signalfd in the main loop; blocked before the
 * bus threads start, so they inherit the mask and never see them. */
static int setup_signals(struct sim *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-reply is an error return, not death */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
        (s->sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
        log_errno(LOG_LVL_ERR, errno, "signals");
        return -1;
    }
    return 0;
}

/* ---- running --------------------------------------------------------------- */

static void execute(struct sim *s, const struct sim_cmd *cmd)
{
    if (cmd->verb == SIM_QUIT) {
        s->quit = true;
        return;
    }
    simdevs_apply(s->devs, cmd, clock_mono_ms());
    log_debug("applied a command to device %s", s->cfg->devices[cmd->device].name);
}

/* Scenario commands and random arrivals that are due. Each random arrival is
 * printed as the command that would repeat it, so tests know what was sent. */
static void run_timeline(struct sim *s)
{
    int64_t elapsed = clock_mono_ms() - s->start_ms, due;
    const struct sim_cmd *c;
    struct sim_cmd cmd;
    char text[160];
    while (!s->quit && (c = scenario_take(s->scenario, elapsed)) != NULL)
        execute(s, c);
    while (!s->quit && (due = simrand_next_due(s->rand)) >= 0 && due <= elapsed) {
        simrand_take(s->rand, &cmd);
        execute(s, &cmd);
        scenario_format(s->cfg, &cmd, text, sizeof text);
        printf("%s\n", text);
        fflush(stdout);
    }
}

static int next_timeout_ms(const struct sim *s)
{
    int64_t a = scenario_next_due(s->scenario), b = simrand_next_due(s->rand);
    int64_t next = a < 0 ? b : b < 0 || a < b ? a : b;
    if (next < 0)
        return -1;
    int64_t wait = next - (clock_mono_ms() - s->start_ms);
    return wait <= 0 ? 0 : wait > 60000 ? 60000 : (int)wait;
}

static void stdin_command(struct sim *s, char *line)
{
    struct sim_cmd cmd;
    char err[256];
    int adms;
    if (scenario_is_blank(line))
        return;
    if ((adms = sim_adms_command(s->adms, s->nadms, line, err, sizeof err)) > 0) {
        printf("ok\n");
    } else if (adms < 0) {
        printf("error: %s\n", err);
    } else if (sim_terms_is_command(line)) {
        if (sim_terms_command(s->terms, line, err, sizeof err) < 0)
            printf("error: %s\n", err);
        else
            printf("ok\n");
    } else if (scenario_parse_command(s->cfg, line, &cmd, err, sizeof err) < 0) {
        printf("error: %s\n", err);
    } else {
        execute(s, &cmd); /* applied before "ok": the test may read at once */
        printf("ok\n");
    }
    fflush(stdout);
}

static void stdin_byte(struct sim *s, char ch)
{
    if (ch != '\n') {
        if (s->linelen + 1 < sizeof s->line)
            s->line[s->linelen++] = ch;
        else
            s->overlong = true;
        return;
    }
    s->line[s->linelen] = '\0';
    if (s->overlong) {
        printf("error: line longer than %d bytes\n", LINE_MAX_BYTES - 1);
        fflush(stdout);
    } else {
        stdin_command(s, s->line);
    }
    s->linelen = 0;
    s->overlong = false;
}

/* End of stdin is not the end: the simulator serves until quit or a signal. */
static void read_stdin(struct sim *s)
{
    char buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        s->stdin_open = false;
        return;
    }
    for (ssize_t i = 0; i < n && !s->quit; i++)
        stdin_byte(s, buf[i]);
}

static int main_loop(struct sim *s)
{
    for (;;) {
        run_timeline(s);
        if (s->quit)
            return 0;
        struct pollfd fds[2] = {{.fd = s->sigfd, .events = POLLIN},
                                {.fd = STDIN_FILENO, .events = POLLIN}};
        if (poll(fds, s->stdin_open ? 2 : 1, next_timeout_ms(s)) < 0 && errno != EINTR) {
            log_errno(LOG_LVL_ERR, errno, "poll");
            return 1;
        }
        if (fds[0].revents) {
            log_info("stopping on a signal");
            return 0;
        }
        if (fds[1].revents)
            read_stdin(s);
    }
}

static int serve(struct sim *s, const struct opts *o)
{
    if (setup_signals(s) < 0)
        return 1;
    s->server = sim_server_start(s->cfg, s->devs, &o->server);
    if (s->server == NULL)
        return 1;
    for (int i = 0; i < o->nadms; i++) {
        char why[200];
        if (!(s->adms[i] = sim_adms_start(s->cfg, o->adms[i], o->adms_heartbeat_ms, why, sizeof why))) {
            log_err("%s", why);
            return 1;
        }
        s->nadms++;
    }
    int failed;
    s->terms = sim_terms_start(s->cfg, &failed);
    if (failed)
        return 1;
    s->stdin_open = true;
    s->start_ms = clock_mono_ms();
    printf("ready\n");
    fflush(stdout);
    return main_loop(s);
}

int main(int argc, char **argv)
{
    struct opts o = {.rand = {.rate_per_min = DEFAULT_RATE,
                              .duration_ms = DEFAULT_DURATION_MS, .arrivals = -1},
                     .server = {.turnaround_us = DEFAULT_TURNAROUND_US}};
    struct sim s = {.sigfd = -1};
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    log_init("gatescreen-sim", o.verbose ? LOG_LVL_DEBUG : LOG_LVL_NOTICE, LOG_OUT_PLAIN);
    int status = setup(&s, &o);
    if (status == 0)
        status = serve(&s, &o);
    teardown(&s);
    return status;
}
