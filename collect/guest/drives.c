/* The drives we add beside the guest's: a scratch disk (formatted on the
 * host) that holds the walker and its answers, and one qcow2 overlay per
 * image (its backing file the image, opened read-only) that the appliance
 * writes instead of the image and that qemu-nbd exports to the host for
 * host-side hashing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/vd_log.h"

#include "guest_int.h"

#ifndef VD_WALKER_BUILD_PATH
#define VD_WALKER_BUILD_PATH ""
#endif

#ifndef VD_WALKER_INSTALL_PATH
#define VD_WALKER_INSTALL_PATH "/usr/local/libexec/vmdrift/vmdrift-walker"
#endif

/* The scratch disk formatted on the host: mke2fs on a sparse file takes
 * milliseconds, mkfs inside the emulated appliance about two seconds. It is
 * our own file system, never the guest's. NULL (and the appliance formats a
 * blank scratch disk) when mke2fs cannot run here. */
char *vdg_host_scratch(const char *tmp_dir, char uuid[37]) {
        vd_uuid4(uuid);
        if (!strcmp(uuid, "00000000-0000-4000-8000-000000000000"))
                return NULL; /* no randomness: the appliance formats the scratch disk */
        char *path;
        if (asprintf(&path, "%s/vmdrift-scratch.XXXXXX", tmp_dir) < 0)
                return NULL;
        int fd = mkstemp(path);
        if (fd < 0 || ftruncate(fd, SCRATCH_SIZE) < 0) {
                if (fd >= 0) {
                        close(fd);
                        unlink(path);
                }
                free(path);
                return NULL;
        }
        close(fd);
        /* with the directories the walker's mounts need already in it */
        char tree[4200];
        snprintf(tree, sizeof tree, "%s.d", path);
        static const char *const dirs[] = {"guest", "proc", "sys", "dev", "tmp"};
        bool made = mkdir(tree, 0700) == 0;
        for (size_t i = 0; made && i < sizeof dirs / sizeof *dirs; i++) {
                char d[4300];
                snprintf(d, sizeof d, "%s/%s", tree, dirs[i]);
                made = mkdir(d, 0755) == 0;
        }
        pid_t pid = made ? fork() : -1;
        if (pid == 0) {
                int dn = open("/dev/null", O_RDWR);
                dup2(dn, 0);
                dup2(dn, 1);
                dup2(dn, 2);
                execlp("mke2fs", "mke2fs", "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-E",
                       "lazy_itable_init=1,lazy_journal_init=1", "-U", uuid, "-d", tree, path, (char *)NULL);
                _exit(127);
        }
        int st = 0;
        bool ok = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
                char d[4300];
                snprintf(d, sizeof d, "%s/%s", tree, dirs[i]);
                rmdir(d);
        }
        rmdir(tree);
        if (!ok) {
                vd_debug("mke2fs on the host failed: the appliance formats the scratch disk");
                unlink(path);
                free(path);
                return NULL;
        }
        return path;
}

/* The scratch disk is the last device: the walker and its manifest live there,
 * and the guest is mounted read-only beneath it at /guest. */
int vdg_prepare_scratch(struct guest_src *s, vd_err *err) {
        guestfs_h *g = s->g;
        char **devs = guestfs_list_devices(g);
        if (!devs || !devs[0]) {
                vdg_strv_free(devs);
                return vdg_err(err, g, "cannot list devices");
        }
        size_t n = 0;
        while (devs[n])
                n++;
        /* Ours by its UUID when we formatted it; else the last drive added
         * (the kernel's names need not follow the order drives were added) */
        char *scratch = s->scratch_file ? guestfs_findfs_uuid(g, s->scratch_uuid) : strdup(devs[n - 1]);
        vdg_strv_free(devs);
        if (!scratch && s->scratch_file)
                return vdg_err(err, g, "cannot find the scratch disk by its UUID");
        if (!scratch)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int r = 0;
        /* ext4 without a journal and with lazy inode tables: mkfs writes almost
         * nothing, which matters under emulation (ext2 zeroes its tables). */
        if ((!s->scratch_file &&
             guestfs_mkfs_opts(g, "ext4", scratch, GUESTFS_MKFS_OPTS_FEATURES, "^has_journal", -1) < 0) ||
            guestfs_mount(g, scratch, "/") < 0 ||
            (!s->scratch_file && (guestfs_mkdir(g, "/guest") < 0 || guestfs_mkdir(g, "/proc") < 0 || guestfs_mkdir(g, "/sys") < 0 ||
            guestfs_mkdir(g, "/dev") < 0 || guestfs_mkdir(g, "/tmp") < 0)))
                r = vdg_err(err, g, "cannot prepare the scratch disk");
        free(scratch);
        return r;
}

const char *vdg_default_walker(void) {
        if (VD_WALKER_BUILD_PATH[0] && access(VD_WALKER_BUILD_PATH, X_OK) == 0)
                return VD_WALKER_BUILD_PATH;
        return VD_WALKER_INSTALL_PATH;
}

void vdg_drop_overlays(struct guest_src *s) {
        for (size_t i = 0; s->overlays && i < s->n_images; i++) {
                if (s->overlays[i])
                        unlink(s->overlays[i]);
                free(s->overlays[i]);
        }
        free(s->overlays);
        s->overlays = NULL;
        if (s->ovl_dir)
                rmdir(s->ovl_dir);
        free(s->ovl_dir);
        s->ovl_dir = NULL;
}

/* One qcow2 overlay per image, its backing file the image (opened read-only
 * by qemu, as libguestfs's own readonly=1 overlays do): the appliance writes
 * nothing but the overlay, and the host can export the same overlay. */
int vdg_make_overlays(struct guest_src *s, const vd_guest_opts *o, vd_err *err) {
        guestfs_h *t = guestfs_create();
        if (!t)
                return vd_err_set(err, VD_E_SOURCE, "cannot create a libguestfs handle");
        guestfs_set_error_handler(t, NULL, NULL);
        int r = 0;
        if (!(s->overlays = calloc(s->n_images, sizeof *s->overlays)) ||
            asprintf(&s->ovl_dir, "%s/vmdrift-ovl.XXXXXX", s->tmp_dir) < 0)
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        else if (!mkdtemp(s->ovl_dir)) {
                r = vd_err_errno(err, VD_E_IO, errno, "cannot create a directory for the overlays");
                free(s->ovl_dir);
                s->ovl_dir = NULL;
        }
        for (size_t i = 0; i < s->n_images && r == 0; i++) {
                char *abs = realpath(o->images[i], NULL);
                if (!abs || asprintf(&s->overlays[i], "%s/disk%zu.qcow2", s->ovl_dir, i) < 0)
                        r = vd_err_errno(err, VD_E_IO, abs ? ENOMEM : errno, "cannot resolve '%s'", o->images[i]);
                else if (guestfs_disk_create(t, s->overlays[i], "qcow2", -1, GUESTFS_DISK_CREATE_BACKINGFILE, abs,
                                             GUESTFS_DISK_CREATE_BACKINGFORMAT, s->formats[i], -1) < 0)
                        r = vd_err_set(err, VD_E_SOURCE, "cannot create an overlay of '%s': %s", o->images[i],
                                       guestfs_last_error(t));
                free(abs);
        }
        guestfs_close(t);
        if (r < 0)
                vdg_drop_overlays(s);
        return r;
}
