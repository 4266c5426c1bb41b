#!/usr/bin/env python3
"""eiftool.py: crafts and corrupts EIF files for the must-fail tests, with nothing but Python's
standard library (so the checks do not share code with alcove's own EIF reader).

  eiftool.py flip IN OUT SECTION_INDEX      flip one byte in a section's data, keep the CRC
  eiftool.py flip-fixcrc IN OUT SECTION_INDEX  the same, then fix the CRC (signature tests)
  eiftool.py flip-last-fixcrc IN OUT SECTION_INDEX  flip the low bit of the section's last byte
                                            (in a signature: the last byte of s, still valid
                                            CBOR), then fix the CRC
  eiftool.py truncate IN OUT BYTES          cut the file
  eiftool.py oversize IN OUT                make the last section's size run past the end
  eiftool.py sections33 IN OUT              claim 33 sections
  eiftool.py bzimage OUT                    an EIF whose kernel is a Linux bzImage
  eiftool.py info IN                        print section types, offsets and sizes
"""
import struct
import sys
import zlib

HDR = 548


def parse(buf):
    nsec = struct.unpack(">H", buf[0x1A:0x1C])[0]
    offs = list(struct.unpack(">32Q", buf[0x1C:0x11C]))[:nsec]
    sizes = list(struct.unpack(">32Q", buf[0x11C:0x21C]))[:nsec]
    types = [struct.unpack(">H", buf[o:o + 2])[0] for o in offs]
    return nsec, offs, sizes, types


def fix_crc(buf):
    crc = zlib.crc32(bytes(buf[:544]))
    crc = zlib.crc32(bytes(buf[HDR:]), crc)
    buf[544:548] = struct.pack(">I", crc & 0xFFFFFFFF)


def build(secs):
    offs, pos = [], HDR
    for _, d in secs:
        offs.append(pos)
        pos += 12 + len(d)
    pad = lambda v: v + [0] * (32 - len(v))
    hdr = b".eif" + struct.pack(">HHQQHH32Q32QI", 4, 0, 1 << 30, 2, 0, len(secs), *pad(offs),
                                *pad([len(d) for _, d in secs]), 0)
    body = b"".join(struct.pack(">HHQ", t, 0, len(d)) + d for t, d in secs)
    return bytearray(hdr + struct.pack(">I", zlib.crc32(body, zlib.crc32(hdr))) + body)


def main():
    cmd = sys.argv[1]
    if cmd == "bzimage":
        kernel = bytearray(0x300)
        kernel[0x202:0x206] = b"HdrS"
        meta = b'{"ImageName":"x","ImageVersion":"1","BuildMetadata":{"BuildTime":"t","BuildTool":"t","BuildToolVersion":"t","OperatingSystem":"t","KernelVersion":"t"},"DockerInfo":null,"CustomMetadata":null}'
        out = build([(1, bytes(kernel)), (2, b"console=ttyS0"), (5, meta), (3, b"rd0"), (3, b"rd1")])
        open(sys.argv[2], "wb").write(out)
        return
    buf = bytearray(open(sys.argv[2], "rb").read())
    nsec, offs, sizes, types = parse(buf)
    if cmd == "info":
        for i in range(nsec):
            print(i, types[i], offs[i], sizes[i])
        return
    out = sys.argv[3]
    if cmd in ("flip", "flip-fixcrc", "flip-last-fixcrc"):
        i = int(sys.argv[4])
        at = offs[i] + 12 + (sizes[i] - 1 if cmd == "flip-last-fixcrc" else sizes[i] // 2)
        buf[at] ^= 0x01
        if cmd != "flip":
            fix_crc(buf)
    elif cmd == "truncate":
        buf = buf[:int(sys.argv[4])]
    elif cmd == "oversize":
        i = nsec - 1
        big = sizes[i] + 1000
        buf[0x11C + 8 * i:0x11C + 8 * i + 8] = struct.pack(">Q", big)
        buf[offs[i] + 4:offs[i] + 12] = struct.pack(">Q", big)
        fix_crc(buf)
    elif cmd == "sections33":
        buf[0x1A:0x1C] = struct.pack(">H", 33)
        fix_crc(buf)
    open(out, "wb").write(buf)


if __name__ == "__main__":
    main()
