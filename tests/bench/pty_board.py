#!/usr/bin/python3
"""pty_board.py — the local reference for the esptool benchmarks: the simulated
ESP32 (tests/sim/ttyrfc_sim, esp32sim://) on the far end of a pseudo-terminal,
with no network and no RFC 2217 in between, as if the board were plugged in.

    pty_board.py --link /tmp/esp-pty [--flash F] [--events F]

esptool runs on the PTY (the --link path) directly. A PTY has no modem lines,
so esptool is run with --before no_reset --after no_reset, and this process
does the bootloader reset itself when it gets SIGUSR1: esptool's reset on the
board's DTR/RTS, each step setting both lines at once (RTS on = EN low, 100 ms,
DTR on with RTS off, 50 ms, both off), then it prints "RESET" on stdout. Baud rate changes made on
the PTY (tcsetattr by esptool) are applied to the board's UART before the next data is passed on,
read from the master side (on Linux the master's TCGETS reports the slave's
termios). Wire time is the simulator's (10 bits per byte at the line rate).
Prints "READY <link>" when the PTY exists.
"""
import argparse, errno, os, select, signal, sys, termios, threading, time, tty

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'sim'))
import serial                      # noqa: E402
serial.protocol_handler_packages.append('ttyrfc_sim')

SPEEDS = {getattr(termios, n): int(n[1:]) for n in dir(termios)
          if n.startswith('B') and n[1:].isdigit()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--link', required=True)
    ap.add_argument('--flash')
    ap.add_argument('--events')
    a = ap.parse_args()
    q = 'tick=0'
    if a.flash:
        q += '&flash=' + a.flash
    if a.events:
        q += '&events=' + a.events
    ser = serial.serial_for_url('esp32sim://ptyboard?' + q, do_not_open=True)
    ser.baudrate = 115200
    ser.timeout = 0.05
    ser.dtr = ser.rts = False
    ser.open()

    m, s = os.openpty()
    tty.setraw(s)                   # held open: the master never sees EIO
    os.set_blocking(m, False)
    try:
        os.unlink(a.link)
    except FileNotFoundError:
        pass
    os.symlink(os.ttyname(s), a.link)
    baud = [115200]

    def follow_baud():
        sp = SPEEDS.get(termios.tcgetattr(m)[5])
        if sp and sp != baud[0]:
            baud[0] = sp
            ser.baudrate = sp

    def lines(dtr, rts):            # both at once, as TIOCMSET on a USB bridge
        ser._dtr_state, ser._rts_state = dtr, rts
        ser.board.set_lines(dtr=dtr, rts=rts)

    def reset():
        lines(False, True)          # EN low: chip in reset
        time.sleep(0.1)
        lines(True, False)          # IO0 low, EN high: out of reset into the ROM loader
        time.sleep(0.05)
        lines(False, False)
        print('RESET', flush=True)

    def board_to_pty():
        while True:
            d = ser.read(max(1, ser.in_waiting))
            while d:
                try:
                    n = os.write(m, d)
                    d = d[n:]
                except OSError as e:
                    if e.errno != errno.EAGAIN:
                        raise
                    time.sleep(0.001)

    def bye(*_):
        try:
            os.unlink(a.link)
        except OSError:
            pass
        ser.close()                 # saves the flash image
        os._exit(0)

    signal.signal(signal.SIGUSR1, lambda *_: threading.Thread(target=reset).start())
    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    threading.Thread(target=board_to_pty, daemon=True).start()
    print('READY %s' % a.link, flush=True)
    while True:
        r = select.select([m], [], [], 0.05)[0]
        follow_baud()
        if r:
            try:
                d = os.read(m, 65536)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EIO):
                    continue
                raise
            follow_baud()
            ser.write(d)


if __name__ == '__main__':
    main()
