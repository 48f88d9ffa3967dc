#!/usr/bin/python3
"""esp_time.py ARGS... — run esptool once, as the `esptool` command would
(esptool.main(ARGS), a FatalError is exit 2), and say how the time split:

    ESPTIME {"import_s": ..., "main_s": ..., "rc": ...}

import_s is the interpreter loading esptool (the same for every port, and
large under TCG); main_s is esptool.main() alone: opening the port, reset,
SYNC, the commands, hard reset, close. Needs PYTHONPATH with esptool.
"""
import json, sys, time

t0 = time.monotonic()
import esptool  # noqa: E402

t1 = time.monotonic()
rc = 0
try:
    esptool.main(sys.argv[1:])
except esptool.FatalError as e:
    print('\nA fatal error occurred: %s' % e)
    rc = 2
except SystemExit as e:
    rc = e.code if isinstance(e.code, int) else 1
t2 = time.monotonic()
sys.stdout.flush()
print('ESPTIME %s' % json.dumps(dict(import_s=round(t1 - t0, 3), main_s=round(t2 - t1, 3), rc=rc)),
      flush=True)
sys.exit(rc)
