#!/usr/bin/python3
"""hostile.py PORT [FLOOD] — a broken RFC 2217 server for one client.

Accepts on 127.0.0.1:PORT, then sends what a hostile or buggy server might:
an unterminated 10 KB subnegotiation, a SET-BAUDRATE reply of 0xFFFFFFFF,
an empty NOTIFY-MODEMSTATE, a truncated command, unknown telnet commands and
options — and finally the line b'hello \\xff world\\n' (0xFF escaped), which
the client must still deliver intact. With FLOOD, then FLOOD bytes of
`IAC SB IAC SE` (a protocol error every 4 bytes) and the line again.
Prints "LISTENING PORT" when ready.
"""
import socket, sys, time

IAC, SB, SE, WILL, DO = 255, 250, 240, 251, 253

port = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', port))
srv.listen(1)
print('LISTENING', port, flush=True)
conn, _ = srv.accept()
time.sleep(0.2)
garbage = [
    bytes([IAC, DO, 44, IAC, WILL, 0]),
    bytes([IAC, SB, 44, 101]) + b'\x00' * 10000 + bytes([IAC, SE]),   # endless SB
    bytes([IAC, SB, 44, 101]) + bytes([IAC, IAC] * 4) + bytes([IAC, SE]),  # baud 0xFFFFFFFF
    bytes([IAC, SB, 44, 107, IAC, SE]),                               # empty MODEMSTATE
    bytes([IAC, SB, 44, 200, 1, 2, 3, IAC, SE]),                      # unknown command
    bytes([IAC, 0x99, IAC, WILL, 77, IAC, DO, 78]),                   # junk, unknown options
    bytes([IAC, SB, 44, 107, 0x30, IAC, 0x42]),                       # SB cut by garbage
]
for chunk in garbage:
    conn.sendall(chunk)
    time.sleep(0.05)
conn.sendall(b'hello ' + bytes([IAC, IAC]) + b' world\n')
if len(sys.argv) > 2:
    conn.sendall(bytes([IAC, SB, IAC, SE]) * (int(sys.argv[2]) // 4))
    conn.sendall(b'hello ' + bytes([IAC, IAC]) + b' world\n')
time.sleep(5)
conn.close()
