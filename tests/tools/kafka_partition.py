"""Where Kafka producers put a key: murmur2 (the Java client's default, librdkafka's
murmur2_random, netpulse's generator and repartition topic) and librdkafka's default
(consistent_random: CRC-32). With bounded partials a worker keeps a record keyed by its
source only in the key's murmur2 partition (ARCHITECTURE.md, Re-keying); tests that write
keyed records to explicit partitions pick keys that belong there.

Usage as a module (sys.path.insert(0, ".../tests/tools")):
    murmur2_partition(key, n), crc32_partition(key, n), key_for(p, n, template)
"""
import zlib


def murmur2(b):
    """Kafka's murmur2 of bytes b (as org.apache.kafka.common.utils.Utils.murmur2)."""
    m, h = 0x5bd1e995, (0x9747b28c ^ len(b)) & 0xffffffff
    for i in range(0, len(b) - len(b) % 4, 4):
        k = (int.from_bytes(b[i:i + 4], "little") * m) & 0xffffffff
        k = ((k ^ (k >> 24)) * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
    t, e = len(b) & ~3, len(b) % 4
    if e == 3:
        h ^= b[t + 2] << 16
    if e >= 2:
        h ^= b[t + 1] << 8
    if e >= 1:
        h = ((h ^ b[t]) * m) & 0xffffffff
    h = ((h ^ (h >> 13)) * m) & 0xffffffff
    return h ^ (h >> 15)


def murmur2_partition(key, n):
    return (murmur2(key.encode()) & 0x7fffffff) % n


def crc32_partition(key, n):
    return zlib.crc32(key.encode()) % n


def key_for(p, n, template, start=1):
    """The first template.format(i) (i = start, start + 1, ...) whose murmur2 partition is p."""
    i = start
    while murmur2_partition(template.format(i), n) != p:
        i += 1
    return template.format(i)


def keys_for(p, n, template, count, start=1):
    """count such keys, in order."""
    out, i = [], start
    while len(out) < count:
        k = template.format(i)
        if murmur2_partition(k, n) == p:
            out.append(k)
        i += 1
    return out
