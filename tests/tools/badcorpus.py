#!/usr/bin/env python3
"""Writes a corpus of hostile records for tests/integration/0152-bad-records.sh.

Usage: badcorpus.py OUT T_MS NOW_MS COPIES

OUT gets `key|value` records separated by the delimiter @@NPEND@@ (kcat -K '|' -D
'@@NPEND@@'), so values may hold newlines, NUL and any byte. T_MS is an event time inside
the good stream, NOW_MS the wall clock. Each kind is written COPIES times (a flood), except
the 10 MB values (twice). The reasons are not written here: the oracle decides them with
its own decoder, and the test compares the workers' counts with the oracle's.
Kinds: truncated and nested JSON, deep arrays, huge (100 KB) and 10 MB values, NUL bytes,
invalid UTF-8 (in an IP and in an ignored field), mixed IPv4/IPv6, overflowing counters,
negative and far-past and far-future times, wrong types, empty values, wrong CSV columns.
"""
import sys

DELIM = b"@@NPEND@@"


def main():
    out, t, now, copies = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    ok = b'"src_ip":"10.152.0.1","dst_ip":"10.0.0.2"'
    kinds = [
        b'{"src_ip":"10.152.0.1","dst_ip":"10.0.0.2","ts":',                      # truncated
        b'{"src_ip":"10.152.0.1","dst_ip":"10.0.0.2","ts":%d' % t,                 # unterminated
        b'{"src_ip":{"a":"10.152.0.1"},"dst_ip":"10.0.0.2","ts":%d}' % t,          # nested where a string goes
        b'{"src_ip":["10.152.0.1"],"dst_ip":"10.0.0.2","ts":%d}' % t,             # array where a string goes
        b'[' * 5000 + b']' * 5000,                                                  # deep arrays
        b'{' * 3000,                                                                # deep objects, unterminated
        b'{%s,"ts":%d,"pad":"%s"}' % (ok, t, b"x" * 100000),                        # huge
        b'{"src_ip":"10.152.0.1\x00","dst_ip":"10.0.0.2","ts":%d}' % t,            # NUL in an IP
        b'{"src_ip":"10.152.0.1","dst_ip":"10.0.0.2",\x00"ts":%d}' % t,            # NUL between members
        b'\x00\x00\x00\x00',                                                        # only NULs
        b'{"src_ip":"10.152.\xff.1","dst_ip":"10.0.0.2","ts":%d}' % t,             # invalid UTF-8 in an IP
        b'\xc3\x28\xa0\xa1,\xe2\x28\xa1,\xf0\x28\x8c\x28',                          # invalid UTF-8 CSV
        b'{%s,"ts":%d,"bytes":18446744073709551616}' % (ok, t),                     # counter overflows u64
        b'{%s,"ts":%d,"bytes":-1}' % (ok, t),                                       # negative counter
        b'{%s,"ts":%d,"packets":99999999999999999999999}' % (ok, t),                # packets overflow
        b'{%s,"ts":%d,"dst_port":65536}' % (ok, t),                                  # port out of range
        b'{%s,"ts":-5}' % ok,                                                        # negative time
        b'{%s,"ts":%d}' % (ok, now + 86400000),                                     # a day ahead
        b'{%s,"ts":%d}' % (ok, now + 10 * 365 * 86400000),                          # ten years ahead
        b'{%s,"ts":99999999999999999999}' % ok,                                      # time overflows
        b'{%s,"ts":"2026-13-45T99:99:99Z"}' % ok,                                    # impossible date
        b'{%s,"ts":true}' % ok,                                                      # wrong type
        b'{"src_ip":17,"dst_ip":"10.0.0.2","ts":%d}' % t,                           # wrong type
        b'{%s,"ts":%d,"bytes":"many"}' % (ok, t),                                   # wrong type
        b'{"src_ip":"10.152.0.1","dst_ip":"10.0.0.2","src_ip":"10.152.0.2","ts":%d,"dst_ip":null}' % t,
        b'{"dst_ip":"10.0.0.2","ts":%d}' % t,                                       # missing field
        b'',                                                                        # empty
        b'   \n\t  ',                                                               # blank
        b'10.152.0.1,10.0.0.2',                                                     # CSV: 2 columns
        b'10.152.0.1,10.0.0.2,5,6,7',                                               # CSV: 5 columns
        b'src,dst,bytes',                                                           # CSV header
        b'10.152.0.1,fd00::zz,5',                                                   # CSV: bad IPv6
        b'{"src_ip":"::ffff:10.152.0.1:80","dst_ip":"10.0.0.2","ts":%d}' % t,      # address with a port
    ]
    with open(out, "wb") as f:
        for c in range(copies):
            for i, v in enumerate(kinds):
                f.write(b"bad-%d-%d|" % (i, c) + v + DELIM)
        for c in range(2):
            f.write(b"bad-10mb-%d|{%s,\"ts\":%d,\"pad\":\"%s\"}" % (c, ok, t, b"y" * (10 << 20)) + DELIM)
    # Records that look hostile but are valid, keyed by their source as a producer would:
    # they must be counted like any other (the oracle decides). Mixed IPv4/IPv6 and
    # invalid UTF-8 or nesting in fields netpulse does not read.
    with open(out + ".odd", "wb") as f:
        for c in range(copies // 10 + 1):
            for src, v in (
                (b"10.152.1.1", b'{"src_ip":"10.152.1.1","dst_ip":"2001:db8::1","ts":%d,"bytes":10}' % t),
                (b"fd00::152", b'{"src_ip":"fd00::152","dst_ip":"10.0.0.9","ts":%d,"bytes":20}' % t),
                (b"10.152.1.2", b'{"src_ip":"10.152.1.2","dst_ip":"10.0.0.2","ts":%d,"note":"\xff\xfe"}' % t),
                (b"10.152.1.3", b'{"src_ip":"10.152.1.3","dst_ip":"10.0.0.2","ts":%d,"x":{"y":[1,{"z":[]}]}}' % t),
                (b"10.152.1.4", b'{"src_ip":"10.152.1.4","dst_ip":"10.0.0.2","ts":1000}'),  # 1970: late
            ):
                f.write(src + b"|" + v + DELIM)


if __name__ == "__main__":
    main()
