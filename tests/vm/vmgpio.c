/* vmgpio: the VM test's hands on the gpio-sim chip (tests/vm/gpio_vm_job.sh).
 * Drives inputs by writing the sim lines' pull (what a reader or sensor would do
 * to the wire) and reads outputs from the sim lines' value (what a lamp would
 * show). Paths are the sim line directories, e.g.
 * /sys/devices/platform/gpio-sim.0/gpiochip1/sim_gpio5.
 *
 *   vmgpio frames SPEC D0 D1 [SPEC D0 D1]...   Wiegand frames, interleaved bit by
 *        bit when several (readers at two lanes at once). SPEC: 26:NUMBER,
 *        34:NUMBER, 26:NUMBER:badparity (last bit flipped), raw:BITS where a bit
 *        is 0 (D0), 1 (D1) or 2 (both lines low at once).
 *   vmgpio pull DIR up|down
 *   vmgpio bounce DIR COUNT            COUNT short pulses up (one write each way,
 *        ~0.5 ms), ending down: a contact bouncing, shorter than any debounce
 *   vmgpio get DIR...                  prints each value (0/1) on one line
 *   vmgpio wait DIR VALUE TIMEOUT_MS   exit 0 once the value is VALUE (prints
 *        the ms waited), 1 on timeout (prints what it saw)
 *   vmgpio hold DIR VALUE MS           exit 0 if the value stays VALUE for MS
 *
 * A pull write costs 0.2–0.5 ms under TCG, so a pulse here is about that long
 * and bits are about 1 ms apart: the daemon's test config widens the limits. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "textnum.h"
#include "wiegand.h"

#define MAX_FRAMES 4

struct frame {
    uint8_t bits[WIEGAND_MAX_BITS + 1];
    int n;
    const char *line[2];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) {
        fprintf(stderr, "vmgpio: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return close(fd);
}

static int read_value(const char *dir)
{
    char path[512], buf[8] = "";
    snprintf(path, sizeof path, "%s/value", dir);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        fprintf(stderr, "vmgpio: %s: cannot read\n", path);
        return -1;
    }
    return buf[0] == '1';
}

static int parse_spec(const char *spec, struct frame *f)
{
    if (strncmp(spec, "raw:", 4) == 0) {
        for (const char *p = spec + 4; *p; p++) {
            if ((*p != '0' && *p != '1' && *p != '2') || f->n > WIEGAND_MAX_BITS)
                return -1;
            f->bits[f->n++] = (uint8_t)(*p - '0');
        }
        return f->n > 0 ? 0 : -1;
    }
    char copy[64];
    snprintf(copy, sizeof copy, "%s", spec);
    char *num = strchr(copy, ':');
    if (!num)
        return -1;
    *num++ = '\0';
    char *flag = strchr(num, ':');
    if (flag)
        *flag++ = '\0';
    long bits;
    long long number;
    char *end;
    errno = 0;
    number = strtoll(num, &end, 10);
    if (tn_long(copy, 26, 34, &bits) < 0 || errno || *end || number < 0 ||
        wiegand_encode((int)bits, (uint64_t)number, f->bits) < 0)
        return -1;
    f->n = (int)bits;
    if (flag && strcmp(flag, "badparity") == 0)
        f->bits[f->n - 1] ^= 1;
    else if (flag)
        return -1;
    return 0;
}

static int pulse(const struct frame *f, int bit, const char *level)
{
    uint8_t b = f->bits[bit];
    if ((b == 0 || b == 2) && write_file(f->line[0], "pull", level) < 0)
        return -1;
    if ((b == 1 || b == 2) && write_file(f->line[1], "pull", level) < 0)
        return -1;
    return 0;
}

static int cmd_frames(int argc, char **argv)
{
    struct frame fr[MAX_FRAMES] = {0};
    int nf = 0, longest = 0;
    for (int i = 0; i + 2 < argc && nf < MAX_FRAMES; i += 3, nf++) {
        if (parse_spec(argv[i], &fr[nf]) < 0) {
            fprintf(stderr, "vmgpio: bad frame %s\n", argv[i]);
            return 2;
        }
        fr[nf].line[0] = argv[i + 1];
        fr[nf].line[1] = argv[i + 2];
        if (fr[nf].n > longest)
            longest = fr[nf].n;
    }
    if (nf == 0 || argc % 3 != 0)
        return 2;
    for (int bit = 0; bit < longest; bit++) {
        for (int k = 0; k < nf; k++)
            if (bit < fr[k].n && pulse(&fr[k], bit, "pull-down") < 0)
                return 1;
        for (int k = 0; k < nf; k++)
            if (bit < fr[k].n && pulse(&fr[k], bit, "pull-up") < 0)
                return 1;
        usleep(2000); /* bits ~3 ms apart: well after the test's interval_min */
    }
    return 0;
}

static int cmd_wait(const char *dir, const char *value, const char *timeout, bool hold)
{
    long want, ms;
    if (tn_long(value, 0, 1, &want) < 0 || tn_long(timeout, 0, 600000, &ms) < 0)
        return 2;
    int64_t t0 = now_ms();
    int v = -1;
    for (;;) {
        v = read_value(dir);
        if (v < 0)
            return 1;
        int64_t waited = now_ms() - t0;
        if (hold ? v != want : v == want) {
            printf("%s after %lld ms\n", hold ? "changed" : "reached", (long long)waited);
            return hold ? 1 : 0;
        }
        if (waited >= ms)
            break;
        usleep(1000);
    }
    printf("%s: value %d after %ld ms\n", hold ? "held" : "timeout", v, ms);
    return hold ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "frames") == 0)
        return cmd_frames(argc - 2, argv + 2);
    if (argc == 4 && strcmp(argv[1], "pull") == 0)
        return write_file(argv[2], "pull",
                          strcmp(argv[3], "up") == 0 ? "pull-up" : "pull-down") < 0;
    if (argc >= 3 && strcmp(argv[1], "get") == 0) {
        for (int i = 2; i < argc; i++) {
            int v = read_value(argv[i]);
            if (v < 0)
                return 1;
            printf("%s%d", i > 2 ? " " : "", v);
        }
        printf("\n");
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "bounce") == 0) {
        long n;
        if (tn_long(argv[3], 1, 1000, &n) < 0)
            return 2;
        for (long i = 0; i < n; i++)
            if (write_file(argv[2], "pull", "pull-up") < 0 ||
                write_file(argv[2], "pull", "pull-down") < 0)
                return 1;
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "wait") == 0)
        return cmd_wait(argv[2], argv[3], argv[4], false);
    if (argc == 5 && strcmp(argv[1], "hold") == 0)
        return cmd_wait(argv[2], argv[3], argv[4], true);
    fprintf(stderr, "usage: vmgpio frames SPEC D0 D1 ... | pull DIR up|down | bounce DIR N | "
                    "get DIR... | "
                    "wait DIR VALUE MS | hold DIR VALUE MS\n");
    return 2;
}
