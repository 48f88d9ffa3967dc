#!/usr/bin/python3
"""esp32_server.py — "the Pi": an RFC 2217 server (pyserial's PortManager) in front
of a simulated ESP32 dev board (ttyrfc_sim, URL esp32sim://).

    esp32_server.py [-p PORT] [-b ADDR] [--flash FILE] [--events FILE] [--no-pace] [-v]

One client at a time (the next waits in the backlog), like ser2net. DTR/RTS and
baud rate changes from the client reach the board's reset circuit and UART in the
order they arrive (those from one network read stamped 1 ms apart, like a USB
bridge applying them back to back); SET-CONTROL is acknowledged (PortManager does). When a client
disconnects the port is "closed": DTR/RTS drop (board keeps running) and the
bridge's baud returns to 115200. Prints "LISTENING <port>" when ready.
The board's event log (--events) says what it saw: resets, boot mode, baud
changes, flash writes, MD5s.  SIGTERM/SIGINT save the flash image (--flash).
"""
import argparse, logging, os, signal, socket, sys, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serial                      # noqa: E402
import serial.rfc2217              # noqa: E402
serial.protocol_handler_packages.append("ttyrfc_sim")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers"))
from pm_session import Session as PMSession  # noqa: E402

log = logging.getLogger("esp32_server")


class Session(PMSession):
    def to_serial(self, data):
        # commands from one read reach the board as if applied back to
        # back (see Board.batch), not at Python's scheduling whims
        with self.ser.board.batch():
            out = b"".join(self.pm.filter(data))
        if out:
            self.ser.write(out)


def board_url(a):
    q = {}
    if a.flash:
        q["flash"] = a.flash
    if a.events:
        q["events"] = a.events
    if a.no_pace:
        q["pace"] = "0"
    if a.tick is not None:
        q["tick"] = str(a.tick)
    if a.en_delay is not None:
        q["en_delay"] = str(a.en_delay)
    return "esp32sim://%s?%s" % (a.name, urllib.parse.urlencode(q))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-p", "--port", type=int, default=2217)
    ap.add_argument("-b", "--bind", default="127.0.0.1")
    ap.add_argument("--flash", help="flash image file (4 MiB; created/saved)")
    ap.add_argument("--events", help="append the board's event log here")
    ap.add_argument("--no-pace", action="store_true", help="no wire time (infinitely fast UART)")
    ap.add_argument("--tick", type=float, help="app output period in s (default 0.5)")
    ap.add_argument("--en-delay", type=float, help="EN RC delay in s (default 0.010)")
    ap.add_argument("--name", default="board0")
    ap.add_argument("-v", "--verbose", action="count", default=0)
    a = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if a.verbose > 1 else logging.INFO,
                        format="esp32_server: %(name)s: %(message)s", stream=sys.stderr)

    ser = serial.serial_for_url(board_url(a), do_not_open=True)
    ser.baudrate = 115200
    ser.timeout = 0.2
    ser.open()

    def stop(*_):
        ser.close()                    # saves the flash image
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    srv = socket.socket(socket.AF_INET6 if ":" in a.bind else socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.bind, a.port))
    srv.listen(4)
    print("LISTENING %d" % srv.getsockname()[1], flush=True)
    while True:
        sock, addr = srv.accept()
        log.info("connected by %s:%d", *addr[:2])
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ser.reset_input_buffer()       # what the board said while nobody listened is gone
        try:
            Session(ser, sock, a.verbose > 0).run()
        except OSError as e:           # e.g. the client left before the greeting
            log.info("session: %s", e)
        finally:
            sock.close()
            log.info("disconnected")
            ser.dtr = False
            ser.rts = False
            ser.baudrate = 115200
            ser.reset_input_buffer()


if __name__ == "__main__":
    main()
