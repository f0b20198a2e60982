#!/usr/bin/env python3
"""A disk image that returns real read errors, for loop-device tests without device-mapper.

Serves ONE file, MOUNT/disk, backed by IMAGE, over the kernel's FUSE protocol (spoken
directly on /dev/fuse: no libfuse, no fusermount; needs root). Reads that touch any byte in
an ERROR range fail with EIO; everything else reads and writes the image. A loop device on
MOUNT/disk then fails reads of those ranges with a genuine block-layer I/O error, like a
dm-error target or a failing EBS volume.

Usage: faulty-disk.py IMAGE MOUNT [START:END ...]   (byte ranges, END exclusive)
Prints "ready" on stdout once mounted; on SIGTERM or SIGINT it unmounts (lazily) and exits.
"""
import ctypes
import errno
import os
import signal
import struct
import sys

LOOKUP, FORGET, GETATTR, SETATTR, OPEN, READ, WRITE, STATFS, RELEASE = 1, 2, 3, 4, 14, 15, 16, 17, 18
FSYNC, FLUSH, INIT, OPENDIR, RELEASEDIR, INTERRUPT, DESTROY, BATCH_FORGET = 20, 25, 26, 27, 29, 36, 38, 42
NO_REPLY = {FORGET, INTERRUPT, BATCH_FORGET}
FOPEN_DIRECT_IO = 1  # every read reaches this server: nothing is served from the page cache
FILE_INO = 2
IN_HEADER = struct.Struct("<IIQQIIII")  # len, opcode, unique, nodeid, uid, gid, pid, padding
OUT_HEADER = struct.Struct("<IiQ")  # len, error, unique

image, mount_point = sys.argv[1], sys.argv[2]
errors = [tuple(int(x) for x in r.split(":")) for r in sys.argv[3:]]
image_fd = os.open(image, os.O_RDWR)


def attr(ino):
    if ino == 1:
        mode, size, nlink = 0o040755, 0, 2
    else:
        mode, size, nlink = 0o100600, os.fstat(image_fd).st_size, 1
    # ino size blocks atime mtime ctime (ns x3) mode nlink uid gid rdev blksize flags
    return struct.pack("<QQQQQQIIIIIIIIII", ino, size, (size + 511) // 512, 0, 0, 0, 0, 0, 0,
                       mode, nlink, 0, 0, 0, 4096, 0)


def entry_out(ino):
    return struct.pack("<QQQQII", ino, 0, 1, 1, 0, 0) + attr(ino)


def handle(opcode, nodeid, body):
    """Returns (errno, payload)."""
    if opcode == INIT:
        major, minor = struct.unpack_from("<II", body)
        if major != 7:
            return errno.EPROTO, b""
        # major minor max_readahead flags max_background congestion_threshold max_write
        # time_gran max_pages map_alignment flags2 max_stack_depth unused[6]
        return 0, struct.pack("<IIIIHHIIHHII", 7, 31, 131072, 0, 16, 12, 131072, 1, 32, 0, 0, 0) + bytes(24)
    if opcode == LOOKUP:
        name = body.split(b"\0", 1)[0]
        return (0, entry_out(FILE_INO)) if nodeid == 1 and name == b"disk" else (errno.ENOENT, b"")
    if opcode == GETATTR:
        return 0, struct.pack("<QII", 1, 0, 0) + attr(nodeid)
    if opcode == SETATTR:
        return 0, struct.pack("<QII", 1, 0, 0) + attr(nodeid)
    if opcode == OPEN:
        return 0, struct.pack("<QII", 0, FOPEN_DIRECT_IO, 0)
    if opcode == OPENDIR:
        return 0, struct.pack("<QII", 0, 0, 0)
    if opcode == READ:
        _fh, offset, size = struct.unpack_from("<QQI", body)
        if any(offset < end and start < offset + size for start, end in errors):
            return errno.EIO, b""
        return 0, os.pread(image_fd, size, offset)
    if opcode == WRITE:
        _fh, offset, size = struct.unpack_from("<QQI", body)
        written = os.pwrite(image_fd, body[40:40 + size], offset)
        return 0, struct.pack("<II", written, 0)
    if opcode == STATFS:
        return 0, struct.pack("<QQQQQIIII", 0, 0, 0, 0, 0, 4096, 255, 4096, 0) + bytes(24)
    if opcode in (RELEASE, RELEASEDIR, FLUSH):
        return 0, b""
    if opcode == FSYNC:
        os.fsync(image_fd)
        return 0, b""
    return errno.ENOSYS, b""


def main():
    fuse_fd = os.open("/dev/fuse", os.O_RDWR)
    libc = ctypes.CDLL(None, use_errno=True)
    opts = f"fd={fuse_fd},rootmode=40000,user_id=0,group_id=0,allow_other".encode()
    ms_nosuid, ms_nodev = 2, 4
    if libc.mount(b"faulty-disk", mount_point.encode(), b"fuse", ms_nosuid | ms_nodev, opts) != 0:
        err = ctypes.get_errno()
        sys.exit(f"faulty-disk: mount of {mount_point} failed: {os.strerror(err)}")

    def stop(*_):
        libc.umount2(mount_point.encode(), 2)  # MNT_DETACH
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    while True:
        try:
            request = os.read(fuse_fd, 1 << 20)
        except OSError as e:
            if e.errno in (errno.EINTR, errno.ENOENT):
                continue  # ENOENT: an interrupted request
            if e.errno == errno.ENODEV:
                os._exit(0)  # unmounted
            raise
        _len, opcode, unique, nodeid, *_ = IN_HEADER.unpack_from(request)
        if opcode in NO_REPLY:
            continue
        if opcode == DESTROY:
            os.write(fuse_fd, OUT_HEADER.pack(OUT_HEADER.size, 0, unique))
            os._exit(0)
        try:
            err, payload = handle(opcode, nodeid, request[IN_HEADER.size:])
        except OSError as e:
            err, payload = e.errno or errno.EIO, b""
        if err:
            payload = b""
        try:
            os.write(fuse_fd, OUT_HEADER.pack(OUT_HEADER.size + len(payload), -err, unique) + payload)
        except OSError as e:
            if e.errno != errno.ENOENT:  # the request was interrupted meanwhile
                raise


main()
