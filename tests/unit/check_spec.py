#!/usr/bin/python3
"""check_spec.py — docs/netlink/ttyrfc.yaml and include/uapi/linux/ttyrfc.h agree.

Every enum of the header (commands, attributes, counters and the value enums)
must list the spec's entries in the spec's order with the same values, and the
constants must match. TAP output, final line "N passed, N failed".
"""
import os
import re
import sys

import yaml

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
SPEC = os.path.join(TOP, 'docs', 'netlink', 'ttyrfc.yaml')
HDR = os.path.join(TOP, 'include', 'uapi', 'linux', 'ttyrfc.h')


def c_name(prefix, name):
    return (prefix + name).upper().replace('-', '_')


def header_enum(text, enum):
    body = re.search(r'enum %s \{(.*?)\};' % enum, text, re.S)
    if not body:
        return None
    out, n = [], 0
    for line in body.group(1).splitlines():
        m = re.match(r'\s*(\w+)\s*(?:=\s*(\d+))?,', line)
        if m:
            n = int(m.group(2)) if m.group(2) else n
            if not m.group(1).startswith('__'):
                out.append((m.group(1), n))
            n += 1
    return out


def header_defines(text):
    return {m.group(1): m.group(2).strip() for m in
            re.finditer(r'#define[ \t]+(\w+)[ \t]+([^/\n]+)', text)}


def main():
    spec = yaml.safe_load(open(SPEC))
    text = open(HDR).read()
    defs = header_defines(text)
    checks = []

    def listed(what, enum, prefix, names):
        want = [(c_name(prefix, n), i) for i, n in enumerate(names)]
        checks.append((what, header_enum(text, enum) == want,
                       '%s: header %s, spec %s' % (enum, header_enum(text, enum), want)))

    listed('commands', 'ttyrfc_cmd', 'ttyrfc-cmd-',
           [o['name'] for o in spec['operations']['list']])
    for aset, enum in (('ttyrfc', 'ttyrfc_attr'), ('stats', 'ttyrfc_stat'),
                       ('tls', 'ttyrfc_tls_attr')):
        s = next(a for a in spec['attribute-sets'] if a['name'] == aset)
        listed('attribute set ' + aset, enum, s['name-prefix'],
               [a['name'] for a in s['attributes']])
    for d in spec['definitions']:
        if d['type'] == 'enum':
            listed('enum ' + d['name'], 'ttyrfc_' + d['name'].replace('-', '_'),
                   d['name-prefix'], d['entries'])
        elif d['type'] == 'flags':
            ok = all(defs.get(c_name(d['name-prefix'], e), '').replace(' ', '') ==
                     '(1U<<%d)' % i for i, e in enumerate(d['entries']))
            checks.append(('flags ' + d['name'], ok, 'bit values differ'))
        elif d['type'] == 'const':
            name = 'TTYRFC_' + d['name'].upper().replace('-', '_')
            checks.append(('const ' + d['name'], defs.get(name) == str(d['value']),
                           '%s: header %s, spec %s' % (name, defs.get(name), d['value'])))
    # every operation names only attributes of its set
    names = {a['name'] for a in spec['attribute-sets'][0]['attributes']}
    for o in spec['operations']['list']:
        used = []
        for part in ('do', 'dump', 'event'):
            p = o.get(part) or {}
            for sub in ('request', 'reply'):
                used += (p.get(sub) or {}).get('attributes', [])
            used += p.get('attributes', [])
        bad = [u for u in used if u not in names]
        checks.append(('operation %s attributes exist' % o['name'], not bad, 'unknown: %s' % bad))

    fail = 0
    print('1..%d' % len(checks))
    for i, (what, ok, why) in enumerate(checks, 1):
        print('%s %d - spec and header agree: %s' % ('ok' if ok else 'not ok', i, what))
        if not ok:
            print('# ' + why)
            fail += 1
    print('%d passed, %d failed' % (len(checks) - fail, fail))
    return 1 if fail else 0


if __name__ == '__main__':
    sys.exit(main())
