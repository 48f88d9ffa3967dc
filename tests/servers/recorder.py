#!/usr/bin/python3
"""recorder.py — a recording RFC 2217 server for tests.

    recorder.py --port 4100 --log /tmp/rec.jsonl [--ctl /tmp/rec.ctl]
                [--echo] [--save-data DIR] [--ack-delay SEC | --no-ack]
                [--clamp-baud RATE]

Listens on 127.0.0.1:PORT, one client at a time (a new connection ends the old one).
Telnet, as a server: WILL COM-PORT-OPTION is answered DO, BINARY is accepted both
ways, every other option is refused (DONT/WONT). IAC escaping is undone everywhere.

Every COM-PORT command and every run of data is one JSON line in LOG:
    {"ev": "conn", "t": T, "conn": C}                       a client connected
    {"ev": "cmd", "t": T, "conn": C, "read": R, "off": O, "cmd": N, "val": [...]}
    {"ev": "data", "t": T, "conn": C, "read": R, "off": O, "len": L, "sha": H, "hex": X}
    {"ev": "close", "t": T, "conn": C}
T is when the kernel queued the last segment of the recv() that completed the item
(SO_TIMESTAMPNS, moved from CLOCK_REALTIME to time.monotonic()'s CLOCK_MONOTONIC, so it
is comparable with C programs in the same machine and free of this process's own
scheduling delays; "tu" is time.monotonic() after the recv() returned), R the index of that recv() within the
connection, O the number of data bytes received on the connection before the item.
"hex" is only there for runs of at most 256 bytes. With --save-data DIR the data
stream of connection C is also written to DIR/conn-C.bin.

Acknowledgements (command n -> n+100 with the same value) are sent at once, after
--ack-delay seconds, or never (--no-ack). Data is dropped, or echoed with --echo.
With --clamp-baud RATE a SET-BAUDRATE above RATE is answered with RATE.

Control socket (--ctl PATH, a UNIX stream socket; one command per line, answer "ok"):
    modem N        send NOTIFY-MODEMSTATE N (e.g. 176 = CD|DSR|CTS)
    line N         send NOTIFY-LINESTATE N (16 break, 8 framing, 4 parity, 2 overrun)
    data HEX       send these data bytes to the client (escaped)
    ack now|none|delay SEC
    echo on|off
    drop                 close the client's connection (link loss)
"""
import argparse, hashlib, json, os, socket, struct, threading, time

IAC, SB, SE, WILL, WONT, DO, DONT = 255, 250, 240, 251, 252, 253, 254
COMPORT, BINARY = 44, 0
SO_TIMESTAMPNS = getattr(socket, 'SO_TIMESTAMPNS', 35)


class Server:
    def __init__(self, a):
        self.a = a
        self.log = open(a.log, 'a', buffering=1)
        self.loglock = threading.Lock()
        self.ack = 'none' if a.no_ack else ('delay' if a.ack_delay else 'now')
        self.ack_delay = a.ack_delay or 0.0
        self.echo = a.echo
        self.conn = None          # current client socket
        self.sendlock = threading.Lock()
        self.nconn = 0

    def record(self, **kw):
        line = json.dumps(kw, separators=(',', ':'))
        with self.loglock:
            self.log.write(line + '\n')

    # ---- sending (all writes to the client go through here)
    def send(self, sock, raw):
        with self.sendlock:
            try:
                sock.sendall(raw)
            except OSError:
                pass

    def send_cmd(self, sock, cmd, val):
        self.send(sock, bytes([IAC, SB, COMPORT, cmd]) + esc(val) + bytes([IAC, SE]))

    def reply(self, sock, cmd, val):
        if self.ack == 'none':
            return
        if cmd == 1 and self.a.clamp_baud and len(val) == 4:
            # a server that cannot do every rate answers the one it set
            rate = min(int.from_bytes(val, 'big'), self.a.clamp_baud)
            val = rate.to_bytes(4, 'big')
        if self.ack == 'delay':
            threading.Timer(self.ack_delay, self.send_cmd, (sock, cmd + 100, val)).start()
        else:
            self.send_cmd(sock, cmd + 100, val)

    # ---- one client
    def client(self, sock, cno):
        self.record(ev='conn', t=time.monotonic(), conn=cno)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        save = None
        if self.a.save_data:
            save = open(os.path.join(self.a.save_data, 'conn-%d.bin' % cno), 'wb')
        answered = set()
        state, opt_verb, sb = 'data', 0, bytearray()
        off, nread = 0, 0
        while True:
            try:
                buf, anc, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16))
            except OSError:
                buf = b''
            if not buf:
                break
            tu = time.monotonic()
            t = tu
            for lvl, typ, cd in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(cd) >= 16:
                    sec, nsec = struct.unpack('qq', cd[:16])
                    t = sec + nsec / 1e9 - (time.time() - time.monotonic())
            data = bytearray()

            def flush_data():
                nonlocal off
                if not data:
                    return
                d = bytes(data)
                ent = dict(ev='data', t=t, tu=tu, conn=cno, read=nread, off=off, len=len(d),
                           sha=hashlib.sha256(d).hexdigest()[:16])
                if len(d) <= 256:
                    ent['hex'] = d.hex()
                self.record(**ent)
                if save:
                    save.write(d)
                if self.echo:
                    self.send(sock, esc(d))
                off += len(d)
                data.clear()

            i, n = 0, len(buf)
            while i < n:
                if state == 'data':             # bulk: copy up to the next IAC
                    j = buf.find(b'\xff', i)
                    if j < 0:
                        data += buf[i:]
                        break
                    data += buf[i:j]
                    state, i = 'iac', j + 1
                    continue
                b = buf[i]
                i += 1
                if state == 'iac':
                    if b == IAC:
                        data.append(IAC)
                        state = 'data'
                    elif b in (WILL, WONT, DO, DONT):
                        opt_verb, state = b, 'opt'
                    elif b == SB:
                        sb.clear()
                        state = 'sb'
                    else:
                        state = 'data'          # NOP, GA, ...: ignore
                elif state == 'opt':
                    self.negotiate(sock, opt_verb, b, answered)
                    state = 'data'
                elif state == 'sb':
                    if b == IAC:
                        state = 'sbiac'
                    else:
                        sb.append(b)
                elif state == 'sbiac':
                    if b == IAC:
                        sb.append(IAC)
                        state = 'sb'
                    else:               # SE (or anything else) ends the subnegotiation
                        state = 'data'
                        if len(sb) >= 2 and sb[0] == COMPORT:
                            flush_data()
                            cmd, val = sb[1], bytes(sb[2:])
                            self.record(ev='cmd', t=t, tu=tu, conn=cno, read=nread, off=off,
                                        cmd=cmd, val=list(val))
                            if cmd < 100:
                                self.reply(sock, cmd, val)
            flush_data()
            nread += 1
        self.record(ev='close', t=time.monotonic(), conn=cno)
        if save:
            save.close()
        sock.close()

    def negotiate(self, sock, verb, opt, answered):
        ok = opt in (COMPORT, BINARY) if verb in (WILL, DO) else True
        if verb == WILL:
            ans = DO if ok else DONT
        elif verb == DO:
            ans = WILL if ok and opt == BINARY else WONT
        elif verb == WONT:
            ans = DONT
        else:
            ans = WONT
        key = (verb, opt)
        if key in answered:                 # never answer the same thing twice: no loops
            return
        answered.add(key)
        self.send(sock, bytes([IAC, ans, opt]))

    # ---- control socket
    def control(self, path):
        if os.path.exists(path):
            os.unlink(path)
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(path)
        ls.listen(4)
        while True:
            c, _ = ls.accept()
            threading.Thread(target=self.control_client, args=(c,), daemon=True).start()

    def control_client(self, c):
        f = c.makefile('rw', buffering=1)
        for line in f:
            w = line.split()
            try:
                ans = self.control_cmd(w)
            except Exception as e:          # noqa: BLE001 - report anything to the caller
                ans = 'error %s' % e
            f.write(ans + '\n')
        c.close()

    def control_cmd(self, w):
        sock = self.conn
        if w[0] in ('modem', 'line', 'data') and sock is None:
            return 'error no client'
        if w[0] == 'modem':
            self.send_cmd(sock, 107, bytes([int(w[1], 0)]))
        elif w[0] == 'line':
            self.send_cmd(sock, 106, bytes([int(w[1], 0)]))
        elif w[0] == 'data':
            self.send(sock, esc(bytes.fromhex(w[1])))
        elif w[0] == 'ack':
            self.ack = w[1]
            if w[1] == 'delay':
                self.ack_delay = float(w[2])
        elif w[0] == 'echo':
            self.echo = w[1] == 'on'
        elif w[0] == 'drop':                # the server goes away mid-session
            if sock is None:
                return 'error no client'
            sock.shutdown(socket.SHUT_RDWR)
        else:
            return 'error unknown command'
        return 'ok'

    def serve(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(('127.0.0.1', self.a.port))
        ls.listen(4)
        if self.a.ctl:
            threading.Thread(target=self.control, args=(self.a.ctl,), daemon=True).start()
        print('LISTENING %d' % self.a.port, flush=True)
        while True:
            s, _ = ls.accept()
            old, self.conn = self.conn, s
            if old is not None:
                try:
                    old.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.nconn += 1
            threading.Thread(target=self.client, args=(s, self.nconn), daemon=True).start()


def esc(b):
    return bytes(b).replace(b'\xff', b'\xff\xff')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--ctl')
    ap.add_argument('--echo', action='store_true')
    ap.add_argument('--save-data')
    ap.add_argument('--ack-delay', type=float)
    ap.add_argument('--no-ack', action='store_true')
    ap.add_argument('--clamp-baud', type=int, help='answer SET-BAUDRATE with at most this rate')
    Server(ap.parse_args()).serve()


if __name__ == '__main__':
    main()
