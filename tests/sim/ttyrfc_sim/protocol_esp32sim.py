"""pyserial URL handler esp32sim://NAME?options — a serial port wired to a
simulated ESP32 dev board (see board.py).  DTR/RTS drive the board's auto-reset
circuit, the baud rate is the bridge's UART speed, reads/writes take wire time.

Options (query string): flash=PATH (image loaded at first open, saved at close),
events=PATH (event log, appended), pace=0|1 (model wire time, default 1),
en_delay=SECONDS (EN RC delay, default 0.010), tick=SECONDS (app output period,
default 0.5; 0 = none), mac=24:0a:c4:xx:xx:xx.
"""
import time
import urllib.parse

import serial
from serial.serialutil import SerialBase, SerialException, PortNotOpenError, Timeout

from . import board as _board


class Serial(SerialBase):
    BAUDRATES = tuple(b for b in SerialBase.BAUDRATES) + (230400, 460800, 921600, 1500000, 2000000)

    def open(self):
        if self._port is None:
            raise SerialException("port must be configured before it can be used")
        if self.is_open:
            raise SerialException("port already open")
        self.board = self._from_url(self._port)
        self.is_open = True
        self._reconfigure_port()
        self._update_dtr_state()
        self._update_rts_state()
        self.reset_input_buffer()

    def _from_url(self, url):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "esp32sim":
            raise SerialException("expected esp32sim://NAME?options, got %r" % url)
        name = (parts.netloc + parts.path).strip("/") or "esp32sim"
        kw = {}
        for k, vs in urllib.parse.parse_qs(parts.query).items():
            v = vs[-1]
            if k == "flash":
                kw["flash_file"] = v
            elif k == "events":
                kw["events_file"] = v
            elif k == "pace":
                kw["pace"] = v not in ("0", "false", "no")
            elif k in ("en_delay", "tick"):
                kw[k] = float(v)
            elif k == "mac":
                kw["mac"] = tuple(int(x, 16) for x in v.split(":"))
            else:
                raise SerialException("esp32sim: unknown option %r" % k)
        return _board.get_board(name, **kw)

    def close(self):
        if self.is_open:
            self.board.save()
        self.is_open = False

    def _reconfigure_port(self, *args):
        if self.is_open:
            self.board.set_line_baud(self._baudrate)

    def _update_dtr_state(self):
        if self.is_open:
            self.board.set_lines(dtr=self._dtr_state)

    def _update_rts_state(self):
        if self.is_open:
            self.board.set_lines(rts=self._rts_state)

    def _update_break_state(self):
        pass

    @property
    def in_waiting(self):
        if not self.is_open:
            raise PortNotOpenError()
        return self.board.host_in_waiting()

    def read(self, size=1):
        if not self.is_open:
            raise PortNotOpenError()
        return self.board.host_read(size, self._timeout)

    def write(self, data):
        if not self.is_open:
            raise PortNotOpenError()
        data = serial.to_bytes(data)
        n = self.board.host_write(data, self._write_timeout)
        if n < len(data):
            raise serial.SerialTimeoutException("Write timeout")
        return n

    def flush(self):
        if not self.is_open:
            raise PortNotOpenError()
        b = self.board
        while True:
            with b.cv:
                left = b.rx_cursor - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def reset_input_buffer(self):
        if not self.is_open:
            raise PortNotOpenError()
        self.board.host_purge_input()

    def reset_output_buffer(self):
        if not self.is_open:
            raise PortNotOpenError()
        self.board.host_purge_output()

    @property
    def cts(self):
        return False

    @property
    def dsr(self):
        return False

    @property
    def ri(self):
        return False

    @property
    def cd(self):
        return True
