#!/bin/sh
# Smoke test of the VM GPIO infrastructure: a gpio-sim chip with named lines, driven
# and read with Debian's gpiod 1.6 tools. Run it with: tests/vm/vm.py smoke
# (the job runs inside the VM with gpiodetect, gpioinfo, gpioget, gpioset, gpiomon and
# gpiofind copied in). Exits non-zero if any check fails.
set -u
. /gs/gpiosim.sh

fails=0
check() {   # check DESCRIPTION COMMAND...
    _what=$1
    shift
    if "$@"; then echo "ok   - $_what"; else echo "FAIL - $_what"; fails=$((fails + 1)); fi
}
# now_ms: milliseconds since boot (busybox date has no %N)
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
wait_consumer() {   # wait_consumer CHIP OFFSET CONSUMER: until the line is requested by it
    _i=0
    while ! gpioinfo "$1" | grep -q "line *$2: .*\"$3\""; do
        [ "$_i" -ge 500 ] && return 1
        usleep 10000
        _i=$((_i + 1))
    done
}

echo "kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
check "the clock is sane (year >= 2024)" [ "$(date +%Y)" -ge 2024 ]
check "lo is up" sh -c 'ip link show lo | grep -q "UP"'
check "Asia/Shanghai zoneinfo is there" [ -s /usr/share/zoneinfo/Asia/Shanghai ]
check "TZ=Asia/Shanghai is UTC+8" [ "$(TZ=Asia/Shanghai date +%z)" = "+0800" ]

# offsets:             0          1    2       3      4  5
gpiosim_chip gs-smoke door-relay lamp ir-beam button - spare || { echo "FAIL - gpiosim_chip"; exit 1; }
chip=$GPIOSIM_CHIP
echo "chip: $chip dev=$GPIOSIM_DEV sysfs=$GPIOSIM_SYSFS"
check "$GPIOSIM_DEV is a character device" [ -c "$GPIOSIM_DEV" ]
check "sim_line ir-beam" [ "$(sim_line ir-beam)" = "$GPIOSIM_DEV 2 $GPIOSIM_SYSFS/sim_gpio2" ]
check "gpiosim_dev gs-smoke" [ "$(gpiosim_dev gs-smoke)" = "$GPIOSIM_DEV" ]

gpiodetect
gpioinfo "$chip" > /tmp/info
cat /tmp/info
check "gpioinfo: 6 lines" grep -q "^$chip - 6 lines:" /tmp/info
for l in "0 door-relay" "1 lamp" "2 ir-beam" "3 button" "5 spare"; do
    check "gpioinfo: line ${l% *} is \"${l#* }\"" grep -q "line *${l% *}: *\"${l#* }\"" /tmp/info
done
check "gpioinfo: line 4 is unnamed" grep -q 'line *4: *unnamed' /tmp/info
check "gpiofind ir-beam" [ "$(gpiofind ir-beam)" = "$chip 2" ]

# ---- output lines: a consumer drives, the sim reads --------------------------------
check "door-relay reads 0 before anyone drives it" [ "$(sim_value door-relay)" = 0 ]
gpioset --mode=signal "$chip" 0=1 &
pid=$!
check "gpioset 0=1: sim sees door-relay 1" sim_wait_value door-relay 1 5
sim_pull door-relay down
check "a pull does not move a line a consumer drives: still 1" [ "$(sim_value door-relay)" = 1 ]
kill -TERM "$pid"; wait "$pid"
echo "after gpioset (0=1) ended by SIGTERM: door-relay = $(sim_value door-relay)"
check "released output falls back to the pull (pull-down): 0" [ "$(sim_value door-relay)" = 0 ]

sim_pull door-relay up
gpioset --mode=signal "$chip" 0=0 &
pid=$!
check "gpioset 0=0 with pull-up: sim sees 0" sim_wait_value door-relay 0 5
kill -KILL "$pid"; wait "$pid" 2>/dev/null
echo "after gpioset (0=0) killed by SIGKILL, pull-up: door-relay = $(sim_value door-relay)"
check "killed consumer: output falls back to the pull (pull-up): 1" [ "$(sim_value door-relay)" = 1 ]
sim_pull door-relay down

gpioset --mode=exit "$chip" 1=1
echo "after gpioset --mode=exit 1=1: lamp = $(sim_value lamp)"
check "gpioset --mode=exit: lamp is back to the pull at once: 0" [ "$(sim_value lamp)" = 0 ]

# ---- input lines: the sim pulls, a consumer reads ------------------------------------
sim_pull ir-beam up
check "pull-up ir-beam: gpioget reads 1" [ "$(gpioget "$chip" 2)" = 1 ]
check "pull-up ir-beam: sim_value 1" [ "$(sim_value ir-beam)" = 1 ]
sim_pull ir-beam down
check "pull-down ir-beam: gpioget reads 0" [ "$(gpioget "$chip" 2)" = 0 ]
check "active-low read of pulled-down ir-beam: 1" [ "$(gpioget -l "$chip" 2)" = 1 ]
# A consumer's bias request is a pull too: gpio-sim applies it to the line's pull, and
# it stays after the consumer is gone (until the next sim_pull).
check "gpioget --bias=pull-up on a pulled-down line reads 1" [ "$(gpioget -B pull-up "$chip" 2)" = 1 ]
echo "after gpioget --bias=pull-up exited: ir-beam = $(sim_value ir-beam)"
check "the consumer's bias stays as the pull after it exits: 1" [ "$(sim_value ir-beam)" = 1 ]
sim_pull ir-beam down
check "sim_pull takes over again: gpioget reads 0" [ "$(gpioget "$chip" 2)" = 0 ]

# ---- a second chip; helper checks ------------------------------------------------------
check "gpiosim_chip refuses a line name already taken" sh -c '. /gs/gpiosim.sh; ! gpiosim_chip gs-dup lamp 2>/dev/null'
check "gpiosim_chip refuses a name given twice" sh -c '. /gs/gpiosim.sh; ! gpiosim_chip gs-dup2 a a 2>/dev/null'
gpiosim_chip gs-second aux-in aux-out > /dev/null || { echo "FAIL - second chip"; exit 1; }
chip2=$GPIOSIM_CHIP
check "second chip is another gpiochip ($chip2)" [ "$chip2" != "$chip" ]
sim_pull aux-in up
check "second chip: pull-up aux-in, gpioget reads 1" [ "$(gpioget "$chip2" 0)" = 1 ]
check "first chip lines still found after the second chip" [ "$(sim_line button)" = "/dev/$chip 3 /sys/devices/platform/gpio-sim.0/$chip/sim_gpio3" ]

# ---- edges: pull writes produce interrupts -------------------------------------------
n=20
sim_pull button up
timeout 30 gpiomon --num-events=$n --falling-edge --format='%o %e' "$chip" 3 > /tmp/mon 2>&1 &
mon=$!
check "gpiomon holds button" wait_consumer "$chip" 3 gpiomon
t0=$(now_ms)
i=0
while [ "$i" -lt "$n" ]; do
    sim_pull button down
    sim_pull button up
    i=$((i + 1))
done
t1=$(now_ms)
wait "$mon"
rc=$?
check "gpiomon --num-events=$n --falling-edge exited 0 (rc=$rc)" [ "$rc" = 0 ]
check "gpiomon saw $n falling edges on line 3" [ "$(grep -c '^3 0$' /tmp/mon)" = "$n" ]
[ "$(grep -c '^3 0$' /tmp/mon)" = "$n" ] || cat /tmp/mon
echo "$((2 * n)) pull writes took $((t1 - t0)) ms"

# Both edges: rising and falling alternate, none lost.
sim_pull button down
timeout 30 gpiomon --num-events=10 --format='%e' "$chip" 3 > /tmp/mon2 2>&1 &
mon=$!
check "gpiomon (both edges) holds button" wait_consumer "$chip" 3 gpiomon
for i in 1 2 3 4 5; do sim_pull button up; sim_pull button down; done
wait "$mon"
check "gpiomon both edges: 1 0 1 0 ... (10 events)" [ "$(tr '\n' ' ' < /tmp/mon2)" = "1 0 1 0 1 0 1 0 1 0 " ]

# Cost of pull writes (informational).
t0=$(now_ms)
i=0
while [ "$i" -lt 500 ]; do sim_pull spare up; sim_pull spare down; i=$((i + 1)); done
t1=$(now_ms)
echo "1000 sim_pull calls (no consumer) took $((t1 - t0)) ms"
timeout 30 gpiomon --silent "$chip" 5 &
mon=$!
wait_consumer "$chip" 5 gpiomon
t0=$(now_ms)
i=0
while [ "$i" -lt 500 ]; do sim_pull spare up; sim_pull spare down; i=$((i + 1)); done
t1=$(now_ms)
kill "$mon"; wait "$mon" 2>/dev/null
echo "1000 sim_pull calls (gpiomon watching both edges) took $((t1 - t0)) ms"

echo "$fails failed"
[ "$fails" = 0 ]
