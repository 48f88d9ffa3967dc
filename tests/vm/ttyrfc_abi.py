"""The ttyrfc netlink ABI numbers, read from the one header that defines them."""
import os
import re

_HDR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    '../../include/uapi/linux/ttyrfc.h')


def _enum(text, name, prefix):
    body = re.search(r'enum %s \{(.*?)\};' % name, text, re.S).group(1)
    out, n = {}, 0
    for line in body.splitlines():
        m = re.match(r'\s*(%s\w+)\s*(?:=\s*(\d+))?,' % prefix, line)
        if m:
            n = int(m.group(2)) if m.group(2) else n
            if not m.group(1).startswith('__') and 'UNSPEC' not in m.group(1):
                out[m.group(1)[len(prefix):]] = n
            n += 1
    return out


_text = open(_HDR).read()
CMD = _enum(_text, 'ttyrfc_cmd', 'TTYRFC_CMD_')
ATTR = _enum(_text, 'ttyrfc_attr', 'TTYRFC_A_')
