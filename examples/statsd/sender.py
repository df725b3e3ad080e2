#!/usr/bin/env python3
"""A non-Node StatsD sender for examples/statsd/broker.ts (Python 3 standard library only).

Sends DogStatsD lines over UDP: a counter, a timer, a gauge and a set, tagged with the route, several
lines per datagram (kept under 1400 bytes so nothing is fragmented).

    python3 examples/statsd/sender.py --port 8125 --count 100

Per iteration i (0 <= i < count):
    shop.requests:1|c|#route:/cart        counter: `count` in total
    shop.latency_ms:<ms>|ms|#route:/cart  timer: (i % 50) + 1 ms
    shop.queue_depth:<i>|g                gauge: the last one sent is count - 1
    shop.users:user-<i % 7>|s             set: 7 distinct members at most
"""
import argparse
import socket
import sys

MAX_DATAGRAM = 1400


def lines(count):
    for i in range(count):
        yield "shop.requests:1|c|#route:/cart"
        yield "shop.latency_ms:%d|ms|#route:/cart" % (i % 50 + 1)
        yield "shop.queue_depth:%d|g" % i
        yield "shop.users:user-%d|s" % (i % 7)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8125)
    parser.add_argument("--count", type=int, default=100, help="iterations (bounded: at most 1000000)")
    args = parser.parse_args()
    if not 0 < args.count <= 1_000_000:
        parser.error("--count must be between 1 and 1000000")

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    packet, datagrams = b"", 0
    for line in lines(args.count):
        data = line.encode("utf-8")
        if packet and len(packet) + 1 + len(data) > MAX_DATAGRAM:
            sock.sendto(packet, (args.host, args.port))
            datagrams += 1
            packet = b""
        packet = packet + b"\n" + data if packet else data
    if packet:
        sock.sendto(packet, (args.host, args.port))
        datagrams += 1
    sock.close()
    print("sent %d lines in %d datagrams to %s:%d" % (args.count * 4, datagrams, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
