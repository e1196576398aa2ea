#!/usr/bin/env python3
"""Write a guestfish script that drifts one linked clone of a VD_DELTA_TREE
image (tests/guest/mkimage.sh) by a random mix of every kind of change the
delta scan must not miss, for the delta scan's differential test.

    delta_mutate.py TREE IMAGE ROOT_OFFSET DISK SEED [MANY_TAR] >script

TREE: the image's root tree (OUT.img.root); IMAGE: the template image, read
with debugfs at ROOT_OFFSET to find a file's first data block; DISK: the
clone's device in the guestfish session (sda, sdb...); MANY_TAR: a tarball of
thousands of files to unpack into one new directory. Prints the script on
stdout and, on stderr, one line per operation (the test's log).
"""
import os
import random
import subprocess
import sys

tree, image, offset, disk, seed = sys.argv[1:6]
many = sys.argv[6] if len(sys.argv) > 6 else None
r = random.Random(int(seed))
srv = os.path.join(tree, "srv")

# distinct targets: regular files of the directories d5..d29 (d1..d4 hold
# the links, d30..d39 may be replaced whole)
files = []
for d in range(5, 30):
    for i in range(50):
        p = f"/srv/d{d}/f{i}"
        files.append((p, os.stat(tree + p).st_size))
r.shuffle(files)
nonempty = [f for f in files if f[1] >= 900]
used = set()


def pick(min_size=0):
    for f in files:
        if f[0] not in used and f[1] >= min_size:
            used.add(f[0])
            return f[0]
    raise SystemExit("no file left")


def debugfs_first_block(path):
    out = subprocess.run(["debugfs", "-R", f"stat {path}", f"{image}?offset={offset}"], capture_output=True,
                         text=True).stdout
    ext = out.split("EXTENTS:\n", 1)[1].split("\n", 1)[0]
    # "(0):2168" or "(0-2):2068-2070"
    return int(ext.split(":", 1)[1].split("-", 1)[0].split(",", 1)[0])


out = []
log = []
# A write to the device under a file's data, as a guest with root on its
# own disk could do: content changed, inode (size, times) untouched.
raw = pick(900)
blk = debugfs_first_block(raw)
out.append(f'pwrite-device /dev/{disk}2 "EVIL" {blk * 4096}')
log.append(f"raw write under {raw}")
out += [f"mount /dev/{disk}2 /", f"mount /dev/{disk}1 /boot"]

n = 0
kinds = ["create", "delete", "rename", "chmod", "chown", "setxattr", "hardlink", "symlink", "dir2file", "inplace",
         "grow"]
ops = kinds + [r.choice(kinds) for _ in range(8)]
r.shuffle(ops)
replaced = set()
for op in ops:
    n += 1
    if op == "create":
        p = f"/srv/d{r.randrange(5, 30)}/new{n}"
        out.append(f'write {p} "created {n}"')
    elif op == "delete":
        p = pick()
        out.append(f"rm {p}")
    elif op == "rename":
        p = pick()
        q = f"/srv/d{r.randrange(5, 30)}/renamed{n}"
        out.append(f"mv {p} {q}")
        p = f"{p} -> {q}"
    elif op == "chmod":
        p = pick()
        out.append(f"chmod 0{r.choice(['600', '755', '4755', '640'])} {p}")
    elif op == "chown":
        p = pick()
        out.append(f"chown {r.choice([1000, 0, 33])} {r.choice([1000, 0, 33])} {p}")
    elif op == "setxattr":
        p = pick()
        out.append(f"setxattr user.vd{n} val{n} {len(f'val{n}')} {p}")
    elif op == "hardlink":
        p = pick()
        out.append(f"ln {p} /srv/d{r.randrange(5, 30)}/hard{n}")
    elif op == "symlink":
        i = r.randrange(0, 5)
        p = f"/srv/d4/ln{i}"
        if p in used:
            continue
        used.add(p)
        out += [f"rm {p}", f"ln-s ../d{r.randrange(5, 30)}/f{r.randrange(0, 50)} {p}"]
    elif op == "dir2file":
        d = r.randrange(30, 40)
        if d in replaced:
            continue
        replaced.add(d)
        p = f"/srv/d{d}"
        out += [f"rm-rf {p}", f'write {p} "a file where a directory was"']
    elif op == "inplace":
        # same size, same mtime: only the content (and ctime) differ
        p = pick(900)
        st = os.stat(tree + p)
        out += [f'pwrite {p} "XXXXXXXX" {r.randrange(0, st.st_size - 8)}',
                f"utimens {p} {st.st_atime_ns // 10**9} {st.st_atime_ns % 10**9} {st.st_mtime_ns // 10**9} "
                f"{st.st_mtime_ns % 10**9}"]
    elif op == "grow":
        p = pick(4096)
        out.append(f"copy-file-to-file /srv/big {p} size:{r.choice([70000, 300000, 1000000])} append:true")
    log.append(f"{op} {p}")
# A configuration file (the uid0 detector's), which a scan reads in its
# walk's pass as the baseline had it: replaced by a symlink to a new file
# (the read-ahead's guess is wrong), or edited in place (right). Either way
# a second uid 0 appears.
with open(tree + "/etc/passwd") as f:
    passwd = f.read().replace("\n", "\\n")
if int(seed) % 2:
    out += [f'write /etc/passwd.local "{passwd}toor:x:0:0:root:/root:/bin/sh\\n"', "rm /etc/passwd",
            "ln-s passwd.local /etc/passwd"]
    log.append("config: /etc/passwd replaced by a symlink to a new file with a second uid 0")
else:
    out.append('write-append /etc/passwd "toor:x:0:0:root:/root:/bin/sh\\n"')
    log.append("config: a second uid 0 appended to /etc/passwd")
# A new cron job (the persistence detector's glob /etc/cron.d/*): a file the
# baseline never had, which a scan reads in its walk's pass all the same.
out.append(f'write /etc/cron.d/vd-job-{seed} "*/5 * * * * root /usr/local/bin/job-{seed}\\n"')
log.append(f"config: a new cron job /etc/cron.d/vd-job-{seed}")
if many:
    out += ["mkdir /srv/many", f"tar-in {many} /srv/many"]
    log.append("tar-in thousands of files under /srv/many")
out.append("umount-all")
print("\n".join(out))
print("\n".join(log), file=sys.stderr)
