#!/usr/bin/env python3
"""netdelay.py -- a point-to-point IP link with added latency between two network namespaces.

    netdelay.py NS_A TUN_A NS_B TUN_B DELAY_MS SECONDS [READY_FILE]

The kernels this project runs on have no sch_netem, so latency is added in user space:
bench/run creates two namespaces (ip netns add) with a persistent TUN device in each
(ip tuntap add mode tun), addresses on both; this program attaches to both devices and
copies every IP packet from one to the other after DELAY_MS milliseconds. TCP then sees
a real path with that one-way delay: the SYN/SYN-ACK of connect(), delayed ACKs, Nagle,
and every request/reply turn cost what they would on a network. Packets keep their order
(every packet waits the same time). Exits by itself after SECONDS. SIGUSR1 prints the
packet counts on stderr. With NETDELAY_LOG=FILE every TCP packet is logged there as
"TIME DIRECTION FLAGS PAYLOAD_BYTES" (A>B or B>A), to see the turns of a conversation.
"""
import ctypes
import fcntl
import heapq
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def attach(ns, dev):
    """Open the persistent TUN device dev that lives in namespace ns."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    try:
        setns(target)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TUN | IFF_NO_PI))
    finally:
        setns(home)
        os.close(home)
        os.close(target)
    os.set_blocking(fd, False)
    return fd


def main():
    if len(sys.argv) not in (7, 8):
        sys.exit(__doc__)
    ns_a, dev_a, ns_b, dev_b = sys.argv[1:5]
    delay = float(sys.argv[5]) / 1000.0
    deadline = time.monotonic() + float(sys.argv[6])
    a = attach(ns_a, dev_a)
    b = attach(ns_b, dev_b)
    other = {a: b, b: a}
    count = {a: 0, b: 0}
    signal.signal(signal.SIGUSR1, lambda *_: print(
        "netdelay: %d packets A->B, %d B->A" % (count[a], count[b]), file=sys.stderr))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if len(sys.argv) == 8:
        with open(sys.argv[7] + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(sys.argv[7] + ".tmp", sys.argv[7])
    heap = []
    seq = 0
    log = open(os.environ["NETDELAY_LOG"], "w", buffering=1) if os.environ.get(
        "NETDELAY_LOG") else None
    t_start = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        wait = min(deadline - now, 0.5)
        if heap:
            wait = max(0.0, min(wait, heap[0][0] - now))
        try:
            ready, _, _ = select.select([a, b], [], [], wait)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd in ready:
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                count[fd] += 1
                seq += 1
                if log is not None and len(pkt) >= 40 and pkt[9] == 6:
                    ihl = (pkt[0] & 15) * 4
                    thl = (pkt[ihl + 12] >> 4) * 4
                    fl = pkt[ihl + 13]
                    flags = "".join(c for c, bit in (("S", 2), ("F", 1), ("R", 4), ("P", 8),
                                                     (".", 16)) if fl & bit)
                    total = struct.unpack("!H", pkt[2:4])[0]
                    log.write("%.4f %s %s %d\n" % (now - t_start, "A>B" if fd == a else "B>A",
                                                    flags, total - ihl - thl))
                heapq.heappush(heap, (now + delay, seq, other[fd], pkt))
        now = time.monotonic()
        while heap and heap[0][0] <= now:
            _, _, fd, pkt = heapq.heappop(heap)
            try:
                os.write(fd, pkt)
            except OSError:
                pass  # a full device queue drops the packet, as a network would


if __name__ == "__main__":
    main()
