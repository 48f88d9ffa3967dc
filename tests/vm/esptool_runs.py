#!/usr/bin/python3
"""esptool_runs.py N PORT [esptool args...] — run esptool N times in a row in this
one process (esptool.main(argv), exactly what the esptool command runs: open the
port, reset into the bootloader with --before default_reset, talk, hard reset,
close), so the count is not dominated by the interpreter's start-up under TCG.
Default args: --chip esp32 --no-stub chip_id. Needs PYTHONPATH with esptool.
Prints one line per failure, then a summary; exit 1 if any run failed.
"""
import contextlib, io, re, sys, time

import esptool

n, port = int(sys.argv[1]), sys.argv[2]
args = sys.argv[3:] or ["--chip", "esp32", "--no-stub", "chip_id"]
fails = retries = 0
times = []
for i in range(n):
    out = io.StringIO()
    t = time.monotonic()
    try:
        with contextlib.redirect_stdout(out):
            esptool.main(["-p", port] + args)
        ok = "Chip is ESP32" in out.getvalue()
    except (esptool.FatalError, OSError, Exception) as e:  # noqa
        ok = False
        out.write("\n%s: %s\n" % (type(e).__name__, e))
    times.append(time.monotonic() - t)
    # "Connecting..." prints one dot per failed SYNC attempt
    if re.search(r"^\.+$", out.getvalue(), re.M):
        retries += 1
    if not ok:
        fails += 1
        print("run %d failed after %.1fs:" % (i + 1, times[-1]))
        print("  " + "\n  ".join(out.getvalue().strip().splitlines()[-6:]))
print("%d runs: %d failed, %d needed SYNC retries; per run %.2f s avg, %.2f s max" %
      (n, fails, retries, sum(times) / n, max(times)))
sys.exit(1 if fails else 0)
