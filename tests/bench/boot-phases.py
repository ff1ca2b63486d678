#!/usr/bin/python3
"""Boot phases from timestamped console logs, for tests/bench/boot.sh.

usage: boot-phases.py run [--until TEXT] COMMAND...
                                       run COMMAND, print its output with
                                       the seconds since its start per line;
                                       end it (SIGTERM) once a line has TEXT
       boot-phases.py phases LOG...    the phases of each log, and their
                                       medians over the logs

A log line is "SECONDS TEXT". The phases: QEMU start to SYSLINUX's banner
(firmware and option ROMs), to the kernel's clock zero (the boot loader
reading the kernel and initramfs; cloud-init's "Up N seconds" gives the
guest's clock), to sysvinit's banner (kernel and initramfs), to the default
runlevel (OpenRC sysinit), then to SELFTEST END; and each OpenRC step
(" * NAME ..." to the next step, or to SELFTEST END).
"""

import os
import re
import statistics
import subprocess
import sys
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc")
STEP = re.compile(r"^ \* (.*?)\s*\.\.\.$")
UP = re.compile(r"Cloud-init v\. \S+ running .* Up ([0-9.]+) seconds")


def run(argv):
    until = None
    if len(argv) > 2 and argv[0] == "--until":
        until, argv = argv[1], argv[2:]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = sys.stdout
    buf = b""
    while True:
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode("utf-8", "replace").rstrip("\r")
            out.write("%.3f %s\n" % (time.monotonic() - t0, text))
            out.flush()
            if until is not None and until in text:
                p.terminate()
                until = None
    rc = p.wait()
    out.write("%.3f QEMU-EXIT %d\n" % (time.monotonic() - t0, rc))
    return 0


def phases(path):
    lines = []
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
        for raw in f:
            t, _, text = raw.rstrip("\n").partition(" ")
            lines.append((float(t), ANSI.sub("", text).replace("\r", "")))

    def first(pattern):
        for t, text in lines:
            if re.search(pattern, text):
                return t
        return None

    out = []
    syslinux = first(r"^SYSLINUX ")
    init = first(r"^INIT: version")
    default = first(r"^INIT: Entering runlevel")
    end = first(r"SELFTEST END")
    exit_ = first(r"^QEMU-EXIT ")
    kzero = None
    for t, text in lines:
        m = UP.search(text)
        if m:
            kzero = t - float(m.group(1))
            break
    if end is None:
        end = exit_
    marks = [("firmware, option ROMs", 0.0, syslinux), ("boot loader reads kernel+initramfs", syslinux, kzero),
             ("kernel, initramfs", kzero, init), ("OpenRC sysinit", init, default)]
    for name, a, b in marks:
        if a is not None and b is not None:
            out.append((name, b - a))
    steps = []
    for t, text in lines:
        m = STEP.match(text)
        if m and (init is None or t >= init) and (end is None or t <= end):
            steps.append((t, m.group(1)))
    for i, (t, name) in enumerate(steps):
        nxt = steps[i + 1][0] if i + 1 < len(steps) else end
        if nxt is not None:
            out.append(("  " + name, nxt - t))
    if default is not None and end is not None:
        out.append(("default runlevel to SELFTEST END", end - default))
    if end is not None:
        out.append(("TOTAL: QEMU start to SELFTEST END", end))
    return out


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "run":
        return run(sys.argv[2:])
    if len(sys.argv) > 2 and sys.argv[1] == "phases":
        per = [phases(p) for p in sys.argv[2:]]
        names = []
        for ph in per:
            for n, _ in ph:
                if n not in names:
                    names.append(n)
        for n in names:
            v = [d for ph in per for m, d in ph if m == n]
            print("%-44s %8.2f s  (runs: %s)" % (n, statistics.median(v), " ".join("%.2f" % x for x in v)))
        return 0
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
