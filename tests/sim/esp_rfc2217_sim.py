#!/usr/bin/python3
"""esp_rfc2217_sim.py — Espressif's esp_rfc2217_server.py (as shipped in Debian's
esptool package, examples/) in front of the simulated ESP32 (esp32sim:// URL).

    PYTHONPATH=/var/cache/ttyrfc/esptool/usr/lib/python3/dist-packages \
    esp_rfc2217_sim.py [--server PATH] [--flash F] [--events F] [--no-pace] -- [server args] 

The server is run unmodified, except for one test-only substitution: on Linux its
reset thread uses esptool's "tight" reset, which calls TIOCMGET/TIOCMSET on the
port's file descriptor; a pyserial URL port has none. Here that step
(ResetStrategy._setDTRandRTS) sets both lines of the simulated board at once,
which is what TIOCMSET does on a real USB-serial bridge. The server's own
detection logic (which DTR/RTS command starts which reset) stays as is.
The server binds all addresses on its TCP port (-p); it logs "TCP/IP port: N".
"""
import argparse, os, runpy, sys, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import serial                      # noqa: E402
serial.protocol_handler_packages.append("ttyrfc_sim")
import esptool.reset               # noqa: E402


def _set_dtr_and_rts(self, dtr=False, rts=False):
    board = getattr(self.port, "board", None)
    if board is None:               # a real tty: esptool's own ioctl version
        return _orig(self, dtr, rts)
    self.port._dtr_state, self.port._rts_state = bool(dtr), bool(rts)
    board.set_lines(dtr=dtr, rts=rts)


_orig = esptool.reset.ResetStrategy._setDTRandRTS
esptool.reset.ResetStrategy._setDTRandRTS = _set_dtr_and_rts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", help="esp_rfc2217_server.py (default: next to the esptool package)")
    ap.add_argument("--flash")
    ap.add_argument("--events")
    ap.add_argument("--no-pace", action="store_true")
    ap.add_argument("--tick", type=float)
    ap.add_argument("--name", default="board0")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    server = a.server
    if not server:
        pkg = os.path.dirname(os.path.dirname(os.path.abspath(esptool.reset.__file__)))
        server = os.path.join(pkg, "../../../share/doc/esptool/examples/esp_rfc2217_server.py")
    server = os.path.normpath(server)
    q = {}
    if a.flash:
        q["flash"] = a.flash
    if a.events:
        q["events"] = a.events
    if a.no_pace:
        q["pace"] = "0"
    if a.tick is not None:
        q["tick"] = str(a.tick)
    url = "esp32sim://%s?%s" % (a.name, urllib.parse.urlencode(q))
    rest = [x for x in a.rest if x != "--"]
    sys.argv = [server] + rest + [url]
    runpy.run_path(server, run_name="__main__")


if __name__ == "__main__":
    main()
