#!/usr/bin/python3
"""matrix_checks.py — the interop matrix's per-server checks (tests/vm/matrix.sh).

    matrix_checks.py termios TTY DEV        baud and framing reach the board's PTY
    matrix_checks.py termios8 TTY DEV       the same, 8 data bits only (pyserial servers)
    matrix_checks.py flow TTY DEV PEER      CRTSCTS/IXON on the board survive a full tty
    matrix_checks.py bpm TTY PEER           break, purge, modem status; session intact
    matrix_checks.py lines TTY PEER         esptool's DTR/RTS reset sequence; session intact
    matrix_checks.py usb_reset TTY          esptool --before usb_reset against recorder.py
                                            ($REC_LOG): its SET-CONTROL sequence and gaps

TTY is /dev/ttyRFCn, DEV the board's PTY as the server opened it (its termios is
what the server applied), PEER the other end of tests/servers/ptypair.py's cable.
termios and flow are control_tests.py's ser2net checks, which only read the PTY.
Exit 0 = pass; the last line printed is the matrix cell's note.
"""
import array, fcntl, os, select, struct, subprocess, sys, termios, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import control_tests as ct  # noqa: E402

TIOCSBRK, TIOCCBRK = 0x5427, 0x5428


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    ct.raw(fd)
    os.set_blocking(fd, True)
    return fd


def expect(fd, want, what, timeout=10.0):
    got, end = b'', time.monotonic() + timeout
    while want not in got:
        left = end - time.monotonic()
        ct.check(left > 0 and select.select([fd], [], [], left)[0],
                 '%s: timeout, got %r' % (what, got[-60:]))
        got += os.read(fd, 4096)


def intact(fd, pfd, tag):
    """Data still flows both ways after what the server was just asked to do."""
    os.write(fd, b'tty-%s\xff\x00\n' % tag)
    expect(pfd, b'tty-%s\xff\x00\n' % tag, 'tty->board after ' + tag.decode())
    os.write(pfd, b'board-%s\xff\n' % tag)
    expect(fd, b'board-%s\xff\n' % tag, 'board->tty after ' + tag.decode())


def modem_bits(fd):
    b = array.array('i', [0])
    fcntl.ioctl(fd, termios.TIOCMGET, b, True)
    names = (('CD', termios.TIOCM_CAR), ('DSR', termios.TIOCM_DSR),
             ('CTS', termios.TIOCM_CTS), ('RI', termios.TIOCM_RNG))
    return ' '.join('%s=%d' % (n, bool(b[0] & m)) for n, m in names)


def t_bpm(tty, peer):
    fd, pfd = open_raw(tty), open_raw(peer)
    t = time.monotonic()
    termios.tcsendbreak(fd, 0)          # 0.25 s of break, SET-CONTROL 5/6
    secs = time.monotonic() - t
    ct.check(secs >= 0.2, 'tcsendbreak returned after %.3f s' % secs)
    fcntl.ioctl(fd, TIOCSBRK)
    fcntl.ioctl(fd, TIOCCBRK)
    intact(fd, pfd, b'break')
    termios.tcflush(fd, termios.TCIOFLUSH)  # PURGE-DATA 3
    intact(fd, pfd, b'purge')
    # the modem state is what the server reported (NOTIFY-MODEMSTATE), read
    # from ttyrfc's cache: a PTY has no lines, so each server reports its own idea
    bits = modem_bits(fd)
    print('break %.2f s, purge, data intact; modem %s' % (secs, bits))


def t_lines(tty, peer):
    fd, pfd = open_raw(tty), open_raw(peer)
    D, R = termios.TIOCM_DTR, termios.TIOCM_RTS
    # esptool's tight reset, then its classic one (DESIGN.md)
    for bits, pause in ((0, 0), (D | R, 0), (R, 0.1), (D, 0.05), (0, 0)):
        fcntl.ioctl(fd, termios.TIOCMSET, struct.pack('i', bits))
        time.sleep(pause)
    for req, bits, pause in ((termios.TIOCMBIC, D, 0), (termios.TIOCMBIS, R, 0.1),
                             (termios.TIOCMBIS, D, 0), (termios.TIOCMBIC, R, 0.05),
                             (termios.TIOCMBIC, D, 0)):
        fcntl.ioctl(fd, req, struct.pack('i', bits))
        time.sleep(pause)
    intact(fd, pfd, b'reset')
    print('PTY has no modem lines; session survives the reset sequences')


def t_termios8(tty, dev):
    # A PTY cannot keep PARENB or a data size other than 8 (drivers/tty/pty.c);
    # glibc's tcsetattr then reports EINVAL although the rest was applied,
    # and PortManager-based servers (pm_server.py, esp_rfc2217_server) die of
    # that exception. A real UART keeps them, so for these servers the sweep
    # is speed and stop bits at 8N.
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    dfd = os.open(dev, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    S2 = termios.CSTOPB
    try:
        for what, sp, cf, m, want in (
                ('57600 8N2', termios.B57600, termios.CS8 | S2, S2, S2),
                ('921600 8N1', termios.B921600, termios.CS8, S2, 0),
                ('9600 8N2', termios.B9600, termios.CS8 | S2, S2, S2),
                ('115200 8N1', termios.B115200, termios.CS8, S2, 0)):
            ct.raw(fd, sp, cf)
            end = time.monotonic() + 5
            while True:
                a = termios.tcgetattr(dfd)
                if a[5] == sp and a[2] & m == want:
                    break
                ct.check(time.monotonic() < end, '%s: the board\'s PTY has ospeed %#o cflag %#o'
                         % (what, a[5], a[2]))
                time.sleep(0.02)
    finally:
        ct.raw(fd)
        os.close(dfd)
        os.close(fd)


def t_usb_reset(tty):
    # esptool 4.7's USBJTAGSerialReset (esptool/reset.py), with only the real
    # line changes on the wire (DTR and RTS start on: open raised them):
    #   RTS off, DTR off, 0.1 s, DTR on, 0.1 s, RTS on, DTR off, 0.1 s, RTS off
    want = [12, 9, 8, 11, 9, 12]
    gaps = {2: 100, 3: 100, 5: 100}           # index -> ms after the one before
    pos = ct.REC.pos()
    r = subprocess.run([sys.executable, '-m', 'esptool', '--chip', 'esp32s3', '-p', tty,
                        '--before', 'usb_reset', '--connect-attempts', '1', 'chip_id'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    ct.check('Connecting' in r.stdout, 'esptool did not try to connect:', r.stdout[-300:])
    ents = ct.REC.since(pos)
    conn = min(e['conn'] for e in ents if e['ev'] == 'conn')
    lines = [e for e in ents if e['ev'] == 'cmd' and e['conn'] == conn and e['cmd'] == ct.CONTROL
             and e['val'][0] in (8, 9, 11, 12)]
    vals = [e['val'][0] for e in lines]
    # open raises DTR, RTS (8, 11); the reset follows
    ct.check(vals[:2] == [8, 11] and vals[2:8] == want,
             'SET-CONTROL DTR/RTS %s, want 8, 11 (open) then %s' % (vals, want))
    seq = lines[2:8]
    tol = float(os.environ.get('GAP_LOOSE_MS', '40'))
    for i, ms in gaps.items():
        got = (seq[i]['t'] - seq[i - 1]['t']) * 1000
        ct.check(abs(got - ms) <= tol, 'gap before command %d: %.0f ms, want %d +- %.0f'
                 % (i, got, ms, tol))
    print('esptool --before usb_reset: SET-CONTROL %s, gaps of 100 ms kept' % want)


def main():
    name, args = sys.argv[1], sys.argv[2:]
    fn = {'termios': ct.t_ser2net, 'termios8': t_termios8, 'flow': ct.t_ser2net_flow,
          'bpm': t_bpm, 'lines': t_lines, 'usb_reset': t_usb_reset}[name]
    try:
        fn(*args)
    except ct.Fail as e:
        print('FAIL: %s' % e)
        sys.exit(1)
    if name == 'termios':
        print('57600 7O2, 921600 8N1, 9600 6E2, mark, space applied to the PTY')
    elif name == 'termios8':
        print('57600 8N2, 921600 8N1, 9600 8N2 applied; parity and 5-7 data bits n/a on a PTY with a pyserial server (glibc EINVAL kills it)')
    elif name == 'flow':
        print('CRTSCTS and IXON|IXOFF kept on the PTY while the tty was full')


if __name__ == '__main__':
    main()
