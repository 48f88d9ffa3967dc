#!/usr/bin/python3
"""pm_server.py — RFC 2217 server built on pyserial's serial.rfc2217.PortManager.

    pm_server.py [-p PORT] [-b 127.0.0.1] [-v] DEVICE|URL

Serves one client at a time on BIND:PORT (default 127.0.0.1:2217); when it disconnects
the next one is accepted (a new client while one is connected waits in the backlog).
DEVICE is a tty path, e.g. the DEV end of tests/servers/ptypair.py (the test then
reads/writes the PEER end), or any pyserial URL such as loop:// (echo).
A PTY has no modem lines: DTR/RTS/BREAK requests are remembered and logged instead of
failing, and CTS/DSR/RI read as 0, CD as 1. Unlike ser2net it acknowledges SET-CONTROL.
Prints "LISTENING <port>" on stdout once it accepts connections (-p 0: ephemeral).
"""
import argparse, logging, socket, sys

import serial
import serial.rfc2217

from pm_session import Session

log = logging.getLogger('pm_server')


class TolerantSerial(serial.Serial):
    """A POSIX serial port whose modem-line ioctls may fail (PTYs)."""
    _sim = {'cts': False, 'dsr': False, 'ri': False, 'cd': True}
    _warned = set()

    def _try(self, what, fn, *a):
        try:
            return fn(*a)
        except (OSError, serial.SerialException) as e:
            kind = what.split('=')[0]
            lvl = logging.DEBUG if kind in self._warned else logging.INFO
            self._warned.add(kind)
            log.log(lvl, '%s not supported by %s (%s); ignored', what, self.port, e)

    def _update_dtr_state(self):
        self._try('DTR=%d' % self._dtr_state, super()._update_dtr_state)

    def _update_rts_state(self):
        self._try('RTS=%d' % self._rts_state, super()._update_rts_state)

    def _update_break_state(self):
        self._try('BREAK=%d' % self._break_state, super()._update_break_state)

    def _modem(self, name):
        try:
            return getattr(super(), name)
        except (OSError, serial.SerialException):
            return self._sim[name]

    cts = property(lambda self: self._modem('cts'))
    dsr = property(lambda self: self._modem('dsr'))
    ri = property(lambda self: self._modem('ri'))
    cd = property(lambda self: self._modem('cd'))


def open_port(spec):
    if '://' in spec:
        ser = serial.serial_for_url(spec, do_not_open=True)
    else:
        ser = TolerantSerial()
        ser.port = spec
    ser.timeout = 0.2          # lets the reader thread notice a disconnect quickly
    ser.dtr = False
    ser.rts = False
    ser.open()
    return ser


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('device')
    ap.add_argument('-p', '--port', type=int, default=2217)
    ap.add_argument('-b', '--bind', default='127.0.0.1')
    ap.add_argument('-v', '--verbose', action='count', default=0)
    a = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if a.verbose > 1 else logging.INFO,
                        format='pm_server: %(name)s: %(message)s', stream=sys.stderr)

    ser = open_port(a.device)
    settings = ser.get_settings()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.bind, a.port))
    srv.listen(4)
    print('LISTENING %d' % srv.getsockname()[1], flush=True)
    while True:
        try:
            sock, addr = srv.accept()
        except KeyboardInterrupt:
            break
        log.info('connected by %s:%d', *addr)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ser.dtr = True
        ser.rts = True
        try:
            Session(ser, sock, a.verbose > 0).run()
        except KeyboardInterrupt:
            break
        finally:
            sock.close()
            log.info('disconnected')
            ser.dtr = False
            ser.rts = False
            ser.break_condition = False
            ser.apply_settings(settings)   # next client starts from defaults
            try:
                ser.reset_input_buffer()
            except Exception:  # noqa
                pass


if __name__ == '__main__':
    main()
