#!/usr/bin/python3
"""open_err.py DEV ERRNO MAX_SECONDS — open(DEV) must fail with ERRNO in time.

ERRNO ANY: any error will do (only the time is checked).
"""
import errno, os, sys, time

dev, limit = sys.argv[1], float(sys.argv[3])
want = None if sys.argv[2] == 'ANY' else getattr(errno, sys.argv[2])
t = time.monotonic()
try:
    os.close(os.open(dev, os.O_RDWR | os.O_NOCTTY))
    sys.exit(f'{dev}: open succeeded, expected {sys.argv[2]}')
except OSError as e:
    secs = time.monotonic() - t
    print(f'{dev}: {errno.errorcode.get(e.errno, e.errno)} after {secs:.3f} s')
    if want is not None and e.errno != want:
        sys.exit(f'expected {sys.argv[2]}')
    if secs > limit:
        sys.exit(f'took longer than {limit} s')
