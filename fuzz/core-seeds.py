#!/usr/bin/env python3
"""Write the seed corpus of fuzz_core (fuzz/corpus/core/): small ELF64
x86-64 cores like the ones tests/check_core.c builds, plain and
compressed.  usage: fuzz/core-seeds.py DIR"""
import gzip
import lzma
import os
import struct
import sys

NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO = 1, 3, 0x53494749
NT_FILE = 0x46494C45
PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4


def note(name, ntype, desc):
    name = name.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def prstatus(tid, sig, rip):
    # struct elf_prstatus (336 bytes): pr_cursig at 12, pr_pid at 32,
    # pr_reg (27 words, rip the 17th) at 112.
    b = bytearray(336)
    struct.pack_into("<h", b, 12, sig)
    struct.pack_into("<i", b, 32, tid)
    regs = [0] * 27
    regs[16] = rip
    regs[19] = 0x7FFC0000 + tid  # rsp
    struct.pack_into("<27Q", b, 112, *regs)
    return bytes(b)


def prpsinfo(pid, uid, fname, args):
    # struct elf_prpsinfo (136 bytes).
    b = bytearray(136)
    struct.pack_into("<II", b, 16, uid, uid)
    struct.pack_into("<i", b, 24, pid)
    b[40:40 + len(fname)] = fname.encode()
    b[56:56 + len(args)] = args.encode()
    return bytes(b)


def siginfo(signo, code, addr):
    b = bytearray(128)
    struct.pack_into("<iii", b, 0, signo, 0, code)
    struct.pack_into("<Q", b, 16, addr)
    return bytes(b)


def nt_file(entries, page=4096):
    b = struct.pack("<QQ", len(entries), page)
    for lo, hi, pgoff, _ in entries:
        b += struct.pack("<QQQ", lo, hi, pgoff)
    return b + b"".join(p.encode() + b"\0" for *_, p in entries)


def elf_page(build_id):
    """A shared object's first bytes: header, PT_LOAD, PT_NOTE build-id."""
    b = bytearray(0x240)
    b[0:16] = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    struct.pack_into("<HHIQQQIHHHHHH", b, 16, 3, 62, 1, 0, 64, 0, 0, 64, 56, 2, 0, 0, 0)
    struct.pack_into("<IIQQQQQQ", b, 64, PT_LOAD, PF_R, 0, 0, 0, 0x1000, 0x1000, 0x1000)
    struct.pack_into("<IIQQQQQQ", b, 120, PT_NOTE, PF_R, 0x200, 0x200, 0x200, 36, 36, 4)
    b[0x200:0x224] = struct.pack("<III", 4, 20, 3) + b"GNU\0" + build_id
    return bytes(b)


def core(notes, loads):
    """ELF64 core: PT_NOTE, then (vaddr, memsz, flags, data) loads."""
    nph = 1 + len(loads)
    notes = b"".join(notes)
    off = 64 + 56 * nph
    phdrs = [struct.pack("<IIQQQQQQ", PT_NOTE, 0, off, 0, 0, len(notes), 0, 4)]
    body = notes
    for vaddr, memsz, flags, data in loads:
        body += b"\0" * (-(off + len(body)) % 16)
        phdrs.append(struct.pack("<IIQQQQQQ", PT_LOAD, flags, off + len(body),
                                 vaddr, 0, len(data), memsz, 4096))
        body += data
    ehdr = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, nph, 0, 0, 0)
    return ehdr + b"".join(phdrs) + body


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    pattern = lambda a, n: bytes((a + i) * 7 & 0xFF for i in range(n))
    files = [(0x400000, 0x401000, 0, "/usr/bin/python3"),
             (0x401000, 0x403000, 1, "/usr/bin/python3"),
             (0x7F0000000000, 0x7F0000001000, 0, "/lib/libx.so (deleted)"),
             (0x7F0000100000, 0x7F0000101000, 0, "/lib/libbuild.so")]
    crash = core(
        [note("CORE", NT_PRSTATUS, prstatus(100, 11, 0x401234)),
         note("CORE", NT_PRPSINFO, prpsinfo(100, 1000, "python3", "python3 app.py")),
         note("CORE", NT_SIGINFO, siginfo(11, 1, 0xDEAD)),
         note("CORE", NT_FILE, nt_file(files)),
         note("CORE", NT_PRSTATUS, prstatus(101, 0, 0x402345))],
        [(0x10000000, 0x2000, PF_R | PF_W, pattern(0, 0x100)),
         (0x400000, 0x1000, PF_R, pattern(1, 0x200)),
         (0x401000, 0x2000, PF_R | PF_X, pattern(2, 0x80)),
         (0x7F0000000000, 0x1000, PF_R | PF_W, b""),
         (0x7F0000100000, 0x1000, PF_R, elf_page(bytes(range(20))))])
    one = core([note("CORE", NT_PRSTATUS, prstatus(7, 0, 0x1000)),
                note("CORE", NT_FILE, nt_file([(0x1000, 0x3000, 0, "/bin/x")]))],
               [(0x1000, 0x1000, PF_R | PF_X, pattern(3, 0x40))])
    seeds = {"crash.core": crash, "one-thread.core": one,
             "crash.core.gz": gzip.compress(crash, mtime=0),
             "crash.core.xz": lzma.compress(crash)}
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
