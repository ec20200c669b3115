#!/bin/bash
# Makes tests/fixtures/ledger-schema1.db: a ledger written by the first release's
# schema (version 1, sql/001_initial.sql alone), for the upgrade test
# (tests/integration/test_db_upgrade.py). It is made by that release's own programs,
# not by today's code: the commit before the second migration is built in a
# temporary worktree, its end-to-end gate test runs a school morning through the
# simulator (readings, checks, fevers, flags, referrals, certificates), and its CLI
# adds what the morning does not (absences with symptoms, follow-ups, leaves, a
# sweep, the day's figures and summary, a queued upload, users).
# Run from the repository: tests/tools/make_ledger_fixture.sh (a few minutes).
set -euo pipefail
REV=ae1ba33   # "Tree: daemon/ in one folder per layer": the last commit at schema 1
repo=$(git rev-parse --show-toplevel)
src=$(mktemp -d /tmp/gs-fixture-src.XXXXXX)
build=$(mktemp -d /tmp/gs-fixture-build.XXXXXX)
tmp=
trap 'git -C "$repo" worktree remove --force "$src"; rm -rf "$build" $tmp' EXIT
git -C "$repo" worktree add -q --detach "$src" "$REV"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target gatescreen gatescreend gatescreen-sim >/dev/null
tmp=$(mktemp -d /tmp/gs-fixture-run.XXXXXX)
TMPDIR=$tmp GS_BUILD_DIR=$build GS_SOURCE_DIR=$src \
    python3 "$src/tests/integration/test_gate_e2e.py" >/dev/null
dir=$(echo "$tmp"/gs-it-*)
conf=$dir/gatescreen.conf
cli() { "$build/gatescreen" -c "$conf" "$@"; }
day=$(sqlite3 "$dir/ledger.db" "SELECT max(day) FROM checks")
cli absence S4 --date "$day" --cause illness --symptoms fever,cough --onset "$day" \
    --clinic yes --diagnosis 流感 --note 家长电话 --by 王老师
cli absence S7 --date "$day" --cause personal --note 家中有事 --by 王老师
cli followup S4 --date "$day" "电话随访：已就医" --by 校医
cli leave S8 --from "$day" --to "$day" --reason 事假 --by 王老师
cli sweep --date "$(date -d "$day -1 day" +%F)" --by 校医   # today's runs after the window
cli recheck S2 38.4 --instrument ear --by 校医
cli referral S2 --outcome sent-home --note 家长接回 --by 校医
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=fixture-ca \
    -days 3650 -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
head -c 32 /dev/urandom > "$dir/pseudonym.key"
chmod 600 "$dir/pseudonym.key"
printf '\n[upstream]\nurl = https://127.0.0.1:9/upload\nca_file = %s\nsecret_file = %s\n' \
    "$dir/ca.pem" "$dir/pseudonym.key" >> "$conf"
cli upload --date "$day"          # queued only: nothing listens at that address
printf 'nurse-pass-1234\nnurse-pass-1234\n' | cli user add nurse1 --role nurse --by admin
printf 'gate-pass-12345\ngate-pass-12345\n' | cli user add gate1 --role gate --by admin
cli db check >/dev/null
sqlite3 "$dir/ledger.db" "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;" >/dev/null
test "$(sqlite3 "$dir/ledger.db" 'PRAGMA user_version')" = 1
cp "$dir/ledger.db" "$repo/tests/fixtures/ledger-schema1.db"
echo "tests/fixtures/ledger-schema1.db written from $REV's programs"
