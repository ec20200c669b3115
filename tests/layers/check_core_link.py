"""The pure core links libc and libm only (docs/design.md, "Layers"): every symbol
that an object of libgs_core.a needs from outside the archive must be defined by
libc or libm (sanitizer hooks aside, in the sanitizer builds, and the compiler's
own runtime helpers from libgcc, such as armhf's 64-bit division __aeabi_uldivmod).
A core object that called SQLite, libmodbus, libgpiod, libcurl or libmicrohttpd - or
any other library - fails here, with the symbol and the object named.
Usage: check_core_link.py BUILD_DIR [C_COMPILER]  (the build's compiler, so that a
cross build is checked against its target's libc, not the machine's)"""
import os
import re
import subprocess
import sys

# Instrumentation the compiler adds in the sanitizer builds, not calls of ours.
SANITIZER = re.compile(r"^(__asan_|__ubsan_|__tsan_|__sanitizer_|__lsan_|__msan_)")
FORBIDDEN = re.compile(r"^(sqlite3_|modbus_|gpiod_|curl_|MHD_|json_|crypto_|sodium_|ini_)")


def nm(*args):
    return subprocess.run(["nm", *args], check=True, capture_output=True, text=True).stdout


def lib_symbols(cc, name):
    """The symbols the target's library defines: a shared one's dynamic symbols, or
    an archive's (libgcc.a, where -print-file-name gives the compiler's runtime)."""
    option = "-print-libgcc-file-name" if name == "libgcc.a" else "-print-file-name=" + name
    path = subprocess.run([cc, option], check=True, capture_output=True,
                          text=True).stdout.strip()
    dynamic = ["-D"] if name.endswith(".so.6") else []
    out = set()
    if not dynamic and not os.path.isfile(path):
        return out  # a compiler without libgcc (clang with compiler-rt): no helpers allowed
    for line in nm(*dynamic, "--defined-only", path).splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.add(parts[2].split("@")[0])
    return out


def main():
    archive = os.path.join(sys.argv[1], "libgs_core.a")
    defined, needed = set(), {}
    obj = "?"
    for line in nm(archive).splitlines():
        if line.endswith(":") and not line.startswith(" "):
            obj = line[:-1]
            continue
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            needed.setdefault(parts[1], obj)
        elif len(parts) == 3 and parts[1] not in "Uw":
            defined.add(parts[2])
    cc = sys.argv[2] if len(sys.argv) > 2 else "cc"
    libc = lib_symbols(cc, "libc.so.6") | lib_symbols(cc, "libm.so.6")
    libc |= {s for s in lib_symbols(cc, "libgcc.a") if s.startswith("__")}
    bad = []
    for sym, o in sorted(needed.items()):
        if sym in defined or SANITIZER.match(sym) or sym == "_GLOBAL_OFFSET_TABLE_":
            continue
        if FORBIDDEN.match(sym) or sym not in libc:
            bad.append("%s needs %s, which is not in libc or libm" % (o, sym))
    for b in bad:
        print(b)
    outside = [s for s in needed if s not in defined]
    print("libgs_core.a: %d symbols from outside, all in libc/libm: %s"
          % (len(outside), "no" if bad else "yes"))
    print("%d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
