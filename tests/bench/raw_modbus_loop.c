/* The floor for the Modbus TCP benchmark: a bare libmodbus loop reading the same
 * registers from the same simulated devices at the same rate as gatescreend, with
 * nothing else. Prints CPU microseconds per read.
 *   raw_modbus_loop HOST FIRST_PORT NDEVICES RATE_HZ SECONDS REGISTERS [gateway]
 * Devices are on ports FIRST_PORT.. (unit 1 each), or with `gateway` all behind
 * FIRST_PORT as units 1..NDEVICES on one connection. */
#include <errno.h>
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "textnum.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static int arg(const char *s, long min, long max, long *out)
{
    if (tn_long(s, min, max, out) == 0)
        return 0;
    fprintf(stderr, "raw_modbus_loop: bad number '%s'\n", s);
    return -1;
}

int main(int argc, char **argv)
{
    long port, n, hz, secs, regs;
    int gateway = argc == 8 && strcmp(argv[7], "gateway") == 0;
    if ((argc != 7 && !gateway) || arg(argv[2], 1, 65535, &port) || arg(argv[3], 1, 256, &n) ||
        arg(argv[4], 1, 1000, &hz) || arg(argv[5], 1, 3600, &secs) ||
        arg(argv[6], 1, 125, &regs)) {
        fprintf(stderr, "usage: raw_modbus_loop HOST FIRST_PORT N RATE_HZ SECONDS REGISTERS "
                        "[gateway]\n");
        return 2;
    }
    modbus_t *ctx[256];
    long nctx = gateway ? 1 : n;
    for (long i = 0; i < nctx; i++) {
        char p[16];
        snprintf(p, sizeof p, "%ld", port + i);
        ctx[i] = modbus_new_tcp_pi(argv[1], p);
        if (!ctx[i] || modbus_connect(ctx[i]) < 0) {
            fprintf(stderr, "connect %s:%s: %s\n", argv[1], p, modbus_strerror(errno));
            return 1;
        }
        modbus_set_slave(ctx[i], 1);
    }
    uint16_t buf[125];
    long reads = 0, errors = 0;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    double cpu0 = cpu_seconds();
    for (long tick = 0; tick < hz * secs; tick++) {
        for (long i = 0; i < n; i++, reads++) {
            modbus_t *c = ctx[gateway ? 0 : i];
            if (gateway)
                modbus_set_slave(c, (int)i + 1);
            errors += modbus_read_registers(c, 0, (int)regs, buf) != regs;
        }
        next.tv_nsec += 1000000000L / hz;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    double cpu = cpu_seconds() - cpu0;
    printf("raw libmodbus: %ld reads, %ld errors, %.3f s CPU, %.1f us per read\n", reads, errors,
           cpu, cpu * 1e6 / (double)reads);
    for (long i = 0; i < nctx; i++) {
        modbus_close(ctx[i]);
        modbus_free(ctx[i]);
    }
    return errors ? 1 : 0;
}
