#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

struct fd_watch {
    loop_fd_cb cb; /* NULL: slot unused */
    void *arg;
};

/* An unsorted array: a daemon has tens of timers (a few per lane), so a linear scan
 * per wake-up costs less than keeping a heap in order. */
struct timer {
    uint64_t id;
    int64_t deadline_ms;
    int64_t period_ms;
    loop_timer_cb cb;
    void *arg;
};

struct signal_watch {
    loop_signal_cb cb;
    void *arg;
};

struct loop {
    int epfd;
    int sigfd;
    sigset_t sigmask;
    struct signal_watch signals[NSIG];
    struct fd_watch *fds;
    int nfds; /* size of fds[], indexed by fd */
    struct timer *timers;
    int ntimers, timers_cap;
    uint64_t next_timer_id;
    volatile int stopping;
};

int64_t loop_now_ms(void)
{
    return clock_mono_ms();
}

int64_t loop_now_us(void)
{
    return clock_mono_us();
}

struct loop *loop_new(void)
{
    struct loop *loop = calloc(1, sizeof *loop);
    if (!loop)
        return NULL;
    loop->sigfd = -1;
    loop->next_timer_id = 1;
    sigemptyset(&loop->sigmask);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        log_errno(LOG_LVL_ERR, errno, "epoll_create1");
        goto fail;
    }
    return loop;
fail:
    loop_free(loop);
    return NULL;
}

void loop_free(struct loop *loop)
{
    if (!loop)
        return;
    if (loop->sigfd >= 0)
        close(loop->sigfd);
    if (loop->epfd >= 0)
        close(loop->epfd);
    free(loop->fds);
    free(loop->timers);
    free(loop);
}

static int grow_fds(struct loop *loop, int fd)
{
    if (fd < loop->nfds)
        return 0;
    int n = loop->nfds ? loop->nfds : 16;
    while (n <= fd)
        n *= 2;
    struct fd_watch *w = realloc(loop->fds, (size_t)n * sizeof *w);
    if (!w)
        return -1;
    memset(w + loop->nfds, 0, (size_t)(n - loop->nfds) * sizeof *w);
    loop->fds = w;
    loop->nfds = n;
    return 0;
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
    if (fd < 0 || grow_fds(loop, fd) < 0)
        return -1;
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_errno(LOG_LVL_ERR, errno, "epoll_ctl(ADD, fd %d)", fd);
        return -1;
    }
    loop->fds[fd] = (struct fd_watch){cb, arg};
    return 0;
}

int loop_del_fd(struct loop *loop, int fd)
{
    if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].cb)
        return -1;
    loop->fds[fd].cb = NULL;
    return epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

uint64_t loop_timer_add(struct loop *loop, int64_t delay_ms, int64_t period_ms,
                        loop_timer_cb cb, void *arg)
{
    if (loop->ntimers == loop->timers_cap) {
        int cap = loop->timers_cap ? loop->timers_cap * 2 : 16;
        struct timer *t = realloc(loop->timers, (size_t)cap * sizeof *t);
        if (!t)
            return 0;
        loop->timers = t;
        loop->timers_cap = cap;
    }
    uint64_t id = loop->next_timer_id++;
    loop->timers[loop->ntimers++] = (struct timer){
        .id = id,
        .deadline_ms = loop_now_ms() + (delay_ms > 0 ? delay_ms : 0),
        .period_ms = period_ms > 0 ? period_ms : 0,
        .cb = cb,
        .arg = arg,
    };
    return id;
}

static int timer_index(const struct loop *loop, uint64_t id)
{
    for (int i = 0; i < loop->ntimers; i++)
        if (loop->timers[i].id == id)
            return i;
    return -1;
}

static void timer_remove_at(struct loop *loop, int i)
{
    loop->timers[i] = loop->timers[--loop->ntimers];
}

int loop_timer_cancel(struct loop *loop, uint64_t id)
{
    int i = timer_index(loop, id);
    if (i < 0)
        return -1;
    timer_remove_at(loop, i);
    return 0;
}

/* Index of the timer due first (ties: lower id, i.e. added first), or -1. */
static int earliest_timer(const struct loop *loop)
{
    int best = -1;
    for (int i = 0; i < loop->ntimers; i++) {
        const struct timer *t = &loop->timers[i];
        if (best < 0 || t->deadline_ms < loop->timers[best].deadline_ms ||
            (t->deadline_ms == loop->timers[best].deadline_ms && t->id < loop->timers[best].id))
            best = i;
    }
    return best;
}

/* Fires every timer due by `now`, earliest first. A periodic timer that fell
 * behind fires once and is re-armed from now, not in a burst. */
static void run_timers(struct loop *loop, int64_t now)
{
    int i;
    while (!loop->stopping && (i = earliest_timer(loop)) >= 0 &&
           loop->timers[i].deadline_ms <= now) {
        struct timer t = loop->timers[i];
        if (t.period_ms) {
            int64_t next = t.deadline_ms + t.period_ms;
            loop->timers[i].deadline_ms = next > now ? next : now + t.period_ms;
        } else {
            timer_remove_at(loop, i);
        }
        t.cb(loop, t.arg);
    }
}

static int epoll_timeout(const struct loop *loop)
{
    int i = earliest_timer(loop);
    if (i < 0)
        return -1;
    int64_t wait = loop->timers[i].deadline_ms - loop_now_ms();
    if (wait <= 0)
        return 0;
    return wait > 60000 ? 60000 : (int)wait;
}

static void on_signalfd(struct loop *loop, int fd, uint32_t events, void *arg)
{
    (void)events;
    (void)arg;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < NSIG && loop->signals[signo].cb)
            loop->signals[signo].cb(loop, signo, loop->signals[signo].arg);
    }
}

int loop_on_signal(struct loop *loop, int signo, loop_signal_cb cb, void *arg)
{
    if (signo <= 0 || signo >= NSIG)
        return -1;
    sigaddset(&loop->sigmask, signo);
    if (pthread_sigmask(SIG_BLOCK, &loop->sigmask, NULL) != 0)
        return -1;
    int first = loop->sigfd < 0;
    int fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        log_errno(LOG_LVL_ERR, errno, "signalfd");
        return -1;
    }
    loop->sigfd = fd;
    loop->signals[signo] = (struct signal_watch){cb, arg};
    return first ? loop_add_fd(loop, fd, EPOLLIN, on_signalfd, NULL) : 0;
}

static void dispatch(struct loop *loop, const struct epoll_event *ev)
{
    int fd = ev->data.fd;
    /* A callback earlier in this batch may have removed this watcher. */
    if (fd < loop->nfds && loop->fds[fd].cb)
        loop->fds[fd].cb(loop, fd, ev->events, loop->fds[fd].arg);
}

int loop_run(struct loop *loop)
{
    struct epoll_event evs[32];
    loop->stopping = 0;
    while (!loop->stopping) {
        int n = epoll_wait(loop->epfd, evs, 32, epoll_timeout(loop));
        if (n < 0 && errno != EINTR) {
            log_errno(LOG_LVL_ERR, errno, "epoll_wait");
            return -1;
        }
        for (int i = 0; i < n && !loop->stopping; i++)
            dispatch(loop, &evs[i]);
        run_timers(loop, loop_now_ms());
    }
    return 0;
}

void loop_stop(struct loop *loop) { loop->stopping = 1; }
