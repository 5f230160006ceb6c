"""ELF program headers, for the live checks that look into binaries
(static_check, boundary_check, core_check).  Standard library only."""
import struct

PT_INTERP, PT_NOTE = 3, 4


def program_headers(path):
    """[(type, offset, vaddr, filesz)] of the 64-bit little-endian ELF
    file at path; raises ValueError when it is not one."""
    with open(path, "rb") as f:
        ehdr = f.read(64)
        if len(ehdr) < 64 or ehdr[:4] != b"\x7fELF" or ehdr[4:6] != b"\2\1":
            raise ValueError("%s: not a 64-bit little-endian ELF file" % path)
        phoff, = struct.unpack_from("<Q", ehdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
        out = []
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            ph = f.read(56)
            if len(ph) < 56:
                raise ValueError("%s: program header %d truncated"
                                 % (path, i))
            p_type, = struct.unpack_from("<I", ph, 0)
            off, vaddr = struct.unpack_from("<QQ", ph, 8)
            filesz, = struct.unpack_from("<Q", ph, 32)
            out.append((p_type, off, vaddr, filesz))
    return out


def interp(path):
    """The program interpreter path names (PT_INTERP), "" when none."""
    for p_type, off, _, size in program_headers(path):
        if p_type == PT_INTERP:
            with open(path, "rb") as f:
                f.seek(off)
                return f.read(size).rstrip(b"\0").decode("utf-8", "replace")
    return ""


def note_in_first_page(path):
    """Is a note (the build-id's) within the file's first page, which is
    all a core keeps of a file's read-only mappings?"""
    return any(p_type == PT_NOTE and off + size <= 4096
               for p_type, off, _, size in program_headers(path))
