"""pm_session.py — one client of an RFC 2217 server built on pyserial's PortManager.

Shared by tests/servers/pm_server.py and tests/sim/esp32_server.py: a reader thread
copies serial -> socket (escaped), a poller sends NOTIFY-MODEMSTATE, and run()
feeds socket -> PortManager -> serial until the client leaves. Subclasses may
override to_serial() to change how one network read reaches the port.
"""
import logging, socket, threading

import serial
import serial.rfc2217

log = logging.getLogger('pm_session')


class Session:
    def __init__(self, ser, sock, verbose):
        self.ser, self.sock = ser, sock
        self.lock = threading.Lock()
        self.alive = True
        self.pm = serial.rfc2217.PortManager(
            ser, self, logger=logging.getLogger('rfc2217.server') if verbose else None)

    def write(self, data):          # PortManager's connection interface
        with self.lock:
            self.sock.sendall(data)

    def reader(self):               # serial -> socket
        while self.alive:
            try:
                data = self.ser.read(self.ser.in_waiting or 1)
                if data:
                    self.write(b''.join(self.pm.escape(data)))
            except (OSError, serial.SerialException) as e:
                if self.alive:
                    log.info('reader: %s', e)
                break
        self.alive = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def poller(self):               # NOTIFY-MODEMSTATE
        while self.alive:
            try:
                self.pm.check_modem_lines()
            except Exception as e:  # noqa
                log.info('modem poll: %s', e)
            for _ in range(10):
                if not self.alive:
                    return
                threading.Event().wait(0.1)

    def to_serial(self, data):      # one network read -> serial
        out = b''.join(self.pm.filter(data))
        if out:
            self.ser.write(out)

    def run(self):
        rt = threading.Thread(target=self.reader, daemon=True); rt.start()
        pt = threading.Thread(target=self.poller, daemon=True); pt.start()
        try:
            while self.alive:       # socket -> serial
                data = self.sock.recv(65536)
                if not data:
                    break
                self.to_serial(data)
        except (OSError, serial.SerialException) as e:
            log.info('writer: %s', e)
        finally:
            self.alive = False
            rt.join(); pt.join()
