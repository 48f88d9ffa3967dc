#!/usr/bin/python3
"""nl_eperm.py — every ttyrfc netlink command must refuse an unprivileged caller.

Run as a user without CAP_NET_ADMIN. Sends each command the family implements,
with plausible attributes, and expects EPERM; the kernel->helper event commands
have no handler and must be refused too. Prints one line per command.
"""
import errno, os, socket, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ttyrfc_abi import CMD, ATTR  # noqa: E402

NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 16, 3, 1, 2
NLMSG_ERROR = 2


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack('HH', n, t) + payload + b'\0' * ((4 - n % 4) % 4)


def msg(family, cmd, attrs, flags=NLM_F_REQUEST | NLM_F_ACK, seq=1):
    body = struct.pack('BBH', cmd, 1, 0) + b''.join(attrs)
    return struct.pack('IHHII', 16 + len(body), family, flags, seq, 0) + body


def call(sock, m):
    sock.send(m)
    while True:
        data = sock.recv(65536)
        off = 0
        while off < len(data):
            ln, typ = struct.unpack_from('IH', data, off)
            if typ == NLMSG_ERROR:
                return -struct.unpack_from('i', data, off + 16)[0], None
            if typ != 3:  # not NLMSG_DONE
                return 0, data[off:off + ln]
            off += (ln + 3) & ~3


def family_id(sock):
    # no ACK asked: the reply alone, so nothing is left to confuse the next call
    err, reply = call(sock, msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                [attr(CTRL_ATTR_FAMILY_NAME, b'ttyrfc\0')],
                                flags=NLM_F_REQUEST))
    if err:
        sys.exit(f'cannot resolve family ttyrfc: {os.strerror(err)}')
    off = 20
    while off < len(reply):
        ln, t = struct.unpack_from('HH', reply, off)
        if t == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from('H', reply, off + 4)[0]
        off += (ln + 3) & ~3
    sys.exit('no family id')


def main():
    if os.geteuid() == 0:
        sys.exit('run me unprivileged')
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
    s.bind((0, 0))
    fam = family_id(s)
    u32 = lambda v: struct.pack('I', v)
    u64 = lambda v: struct.pack('Q', v)
    idx = attr(ATTR['INDEX'], u32(0))
    sid = attr(ATTR['SESSION'], u32(1))
    tests = {
        'HELLO': [attr(ATTR['VERSION'], u32(2))],
        'LINK': [idx, sid, attr(ATTR['LINK'], b'\2')],
        'RX': [idx, sid, attr(ATTR['RX_POS'], u64(0)), attr(ATTR['DATA'], b'hello')],
        'CONFIRM': [idx, sid, attr(ATTR['TX_POS'], u64(0)), attr(ATTR['CTRL_SEQ'], u64(0))],
        'STATUS': [idx, sid, attr(ATTR['MODEM'], u32(0x40))],
        'ADD': [attr(ATTR['HOST'], b'127.0.0.1\0'), attr(ATTR['PORT'], struct.pack('H', 9))],
        'DEL': [idx],
        'GET': [],
    }
    bad = 0
    for name, cmd in CMD.items():
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if name == 'GET' else 0)
        err, _ = call(s, msg(fam, cmd, tests.get(name, [idx]), flags))
        want = (errno.EPERM,) if name in tests else (errno.EPERM, errno.EOPNOTSUPP)
        ok = err in want
        bad += not ok
        print(f'{"ok" if ok else "FAIL"}: {name}: {os.strerror(err) if err else "accepted"}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
