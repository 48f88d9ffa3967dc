#!/usr/bin/python3
"""esp_pty_server.py — Espressif's esp_rfc2217_server.py (Debian's esptool 4.7,
examples/) in front of a PTY "board" (the DEV end of ptypair.py).

    PYTHONPATH=$ESPPKG esp_pty_server.py [--server PATH] -- -p PORT DEV

The server runs unmodified but for what a PTY cannot do: it has no modem lines,
so pyserial's DTR/RTS/BREAK ioctls on it fail, and esp_rfc2217_server would
drop the client on the first SET-CONTROL (its writer treats any OSError as a
disconnect). Its port is pm_server.py's TolerantSerial (failed line ioctls are
logged and ignored), and its reset thread sets the lines through it instead of
TIOCMSET. The server's protocol handling and reset detection stay as they are.
"""
import argparse, os, runpy, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import serial                      # noqa: E402
import esptool.reset               # noqa: E402
from pm_server import TolerantSerial  # noqa: E402

_for_url = serial.serial_for_url


def for_url(url, *args, **kwargs):
    if '://' in url:
        return _for_url(url, *args, **kwargs)
    do_not_open = kwargs.pop('do_not_open', False)
    ser = TolerantSerial(None, *args, **kwargs)
    ser.port = url
    if not do_not_open:
        ser.open()
    return ser


def set_dtr_and_rts(self, dtr=False, rts=False):
    self.port.dtr, self.port.rts = dtr, rts


serial.serial_for_url = for_url
esptool.reset.ResetStrategy._setDTRandRTS = set_dtr_and_rts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--server', help='esp_rfc2217_server.py (default: next to the esptool package)')
    ap.add_argument('rest', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    server = a.server or os.path.join(os.path.dirname(os.path.dirname(esptool.reset.__file__)),
                                      '../../../share/doc/esptool/examples/esp_rfc2217_server.py')
    sys.argv = [os.path.normpath(server)] + [x for x in a.rest if x != '--']
    runpy.run_path(sys.argv[0], run_name='__main__')


if __name__ == '__main__':
    main()
