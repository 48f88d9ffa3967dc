#!/usr/bin/python3
"""open_err.py DEV ERRNO MAX_SECONDS — open(DEV) must fail with ERRNO in time."""
import errno, os, sys, time

dev, want, limit = sys.argv[1], getattr(errno, sys.argv[2]), float(sys.argv[3])
t = time.monotonic()
try:
    os.close(os.open(dev, os.O_RDWR | os.O_NOCTTY))
    sys.exit(f'{dev}: open succeeded, expected {sys.argv[2]}')
except OSError as e:
    secs = time.monotonic() - t
    print(f'{dev}: {errno.errorcode.get(e.errno, e.errno)} after {secs:.3f} s')
    if e.errno != want:
        sys.exit(f'expected {sys.argv[2]}')
    if secs > limit:
        sys.exit(f'took longer than {limit} s')
