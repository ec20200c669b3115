# gpio-sim helpers for job scripts inside the test VM (busybox sh). Source it:
#     . /gs/gpiosim.sh
#
#   gpiosim_chip CHIP LINE...    make a simulated chip CHIP with one bank of lines
#                                named LINE... (offsets 0, 1, ...; "-" = unnamed) and
#                                bring it live. Prints "CHIP /dev/gpiochipN SYSFS_DIR",
#                                sets GPIOSIM_DEV (/dev/gpiochipN), GPIOSIM_CHIP
#                                (gpiochipN) and GPIOSIM_SYSFS (the dir holding sim_gpioK).
#   gpiosim_dev CHIP             print /dev/gpiochipN of a chip made above
#   sim_line LINE                print "DEV OFFSET SIM_DIR" of a named line
#   sim_pull LINE up|down        drive an input line (what a consumer reading it sees)
#   sim_value LINE               print 0/1: the level of the line (an output line:
#                                what the consumer set; an input: the pull)
#   sim_wait_value LINE V [SECS] wait until sim_value LINE is V (default 5 s); 1 if not
#
# Line names must be unique across the chips made here (and hold no "/" or space).
# /run/gpiosim/by-name/LINE is a symlink to the line's sim_gpioK dir, so a job can
# also write "pull-up"/"pull-down" to /run/gpiosim/by-name/LINE/pull and read
# .../value directly. sim_pull and sim_value use only shell builtins (no fork): a
# pull write costs ~0.1-0.5 ms under TCG. /run/gpiosim/lines lists
# "LINE CHIP DEV OFFSET SIM_DIR".

GPIOSIM_CONFIGFS=/sys/kernel/config/gpio-sim
GPIOSIM_REG=/run/gpiosim

gpiosim_chip() {
    if [ "$#" -lt 2 ]; then
        echo "usage: gpiosim_chip CHIP LINE..." >&2
        return 2
    fi
    _gs_chip=$1
    shift
    _gs_seen=" "
    for _gs_name in "$@"; do
        [ "$_gs_name" = "-" ] && continue
        case "$_gs_name" in
            ""|*/*|*" "*) echo "gpiosim_chip: bad line name '$_gs_name' (empty, / or space)" >&2; return 1 ;;
        esac
        case "$_gs_seen" in
            *" $_gs_name "*) echo "gpiosim_chip: line name $_gs_name given twice" >&2; return 1 ;;
        esac
        if [ -e "$GPIOSIM_REG/by-name/$_gs_name" ] || [ -L "$GPIOSIM_REG/by-name/$_gs_name" ]; then
            echo "gpiosim_chip: line name $_gs_name is already taken" >&2
            return 1
        fi
        _gs_seen="$_gs_seen$_gs_name "
    done
    _gs_cfg=$GPIOSIM_CONFIGFS/$_gs_chip
    mkdir "$_gs_cfg" || return 1
    mkdir "$_gs_cfg/bank0" || return 1
    echo "$#" > "$_gs_cfg/bank0/num_lines" || return 1
    echo "$_gs_chip" > "$_gs_cfg/bank0/label" 2>/dev/null
    _gs_off=0
    for _gs_name in "$@"; do
        if [ "$_gs_name" != "-" ]; then
            mkdir "$_gs_cfg/bank0/line$_gs_off" || return 1
            echo "$_gs_name" > "$_gs_cfg/bank0/line$_gs_off/name" || return 1
        fi
        _gs_off=$((_gs_off + 1))
    done
    echo 1 > "$_gs_cfg/live" || { echo "gpiosim_chip: $_gs_chip did not go live" >&2; return 1; }
    GPIOSIM_CHIP=$(cat "$_gs_cfg/bank0/chip_name")
    _gs_platdev=$(cat "$_gs_cfg/dev_name")
    GPIOSIM_DEV=/dev/$GPIOSIM_CHIP
    GPIOSIM_SYSFS=/sys/devices/platform/$_gs_platdev/$GPIOSIM_CHIP
    # devtmpfs creates the node asynchronously; wait a little for it.
    _gs_i=0
    while [ ! -c "$GPIOSIM_DEV" ] && [ "$_gs_i" -lt 100 ]; do
        usleep 10000
        _gs_i=$((_gs_i + 1))
    done
    if [ ! -c "$GPIOSIM_DEV" ] || [ ! -d "$GPIOSIM_SYSFS/sim_gpio0" ]; then
        echo "gpiosim_chip: $GPIOSIM_DEV or $GPIOSIM_SYSFS/sim_gpio0 missing" >&2
        return 1
    fi
    export GPIOSIM_CHIP GPIOSIM_DEV GPIOSIM_SYSFS
    mkdir -p "$GPIOSIM_REG/by-name"
    echo "$_gs_chip $GPIOSIM_DEV" >> "$GPIOSIM_REG/chips"
    _gs_off=0
    for _gs_name in "$@"; do
        if [ "$_gs_name" != "-" ]; then
            ln -s "$GPIOSIM_SYSFS/sim_gpio$_gs_off" "$GPIOSIM_REG/by-name/$_gs_name"
            echo "$_gs_name $_gs_chip $GPIOSIM_DEV $_gs_off $GPIOSIM_SYSFS/sim_gpio$_gs_off" >> "$GPIOSIM_REG/lines"
        fi
        _gs_off=$((_gs_off + 1))
    done
    echo "$_gs_chip $GPIOSIM_DEV $GPIOSIM_SYSFS"
}

gpiosim_dev() {
    _gs_r=$(awk -v c="$1" '$1 == c { print $2; exit }' "$GPIOSIM_REG/chips" 2>/dev/null)
    [ -n "$_gs_r" ] || { echo "gpiosim_dev: no chip $1" >&2; return 1; }
    echo "$_gs_r"
}

sim_line() {
    _gs_r=$(awk -v l="$1" '$1 == l { print $3 " " $4 " " $5; exit }' "$GPIOSIM_REG/lines" 2>/dev/null)
    [ -n "$_gs_r" ] || { echo "sim_line: no line named $1" >&2; return 1; }
    echo "$_gs_r"
}

sim_pull() {
    case "$2" in
        up|down) ;;
        *) echo "usage: sim_pull LINE up|down" >&2; return 2 ;;
    esac
    if [ ! -e "$GPIOSIM_REG/by-name/$1/pull" ]; then
        echo "sim_pull: no line named $1" >&2
        return 1
    fi
    echo "pull-$2" > "$GPIOSIM_REG/by-name/$1/pull"
}

sim_value() {
    read -r _gs_v < "$GPIOSIM_REG/by-name/$1/value" || { echo "sim_value: no line named $1" >&2; return 1; }
    echo "$_gs_v"
}

sim_wait_value() {
    [ -e "$GPIOSIM_REG/by-name/$1/value" ] || { echo "sim_wait_value: no line named $1" >&2; return 1; }
    _gs_end=$(( ${3:-5} * 100 ))
    _gs_i=0
    while read -r _gs_v < "$GPIOSIM_REG/by-name/$1/value" && [ "$_gs_v" != "$2" ]; do
        [ "$_gs_i" -ge "$_gs_end" ] && return 1
        usleep 10000
        _gs_i=$((_gs_i + 1))
    done
    return 0
}
