/* The guest source's decisions, without an appliance: what the walker is
 * asked to do, and which guests may share one. */
#include <criterion/criterion.h>
#include <string.h>

#include "collect/guest/guest_int.h"

static char *joined(const struct vdg_walker_argv *a) {
        static char s[1024];
        s[0] = '\0';
        for (size_t i = 0; a->v[i]; i++) {
                if (i)
                        strcat(s, " ");
                strcat(s, a->v[i]);
        }
        return s;
}

static const unsigned char seed[VD_HASH_SEED_LEN] = {0xab, 0xcd};

Test(walker_plan, a_capture_maps_large_files_for_the_host_and_records_blocks) {
        struct vdg_walker_plan p = {.algo = VD_HASH_XXH3, .seed = seed, .threads = 2, .extents_min = 4096,
                                    .records = true, .n_disks = 2};
        struct vdg_walker_argv a;
        vdg_walker_argv(&p, &a);
        char *s = joined(&a);
        cr_assert(strstr(s, "/vmdrift-walker --root /guest --out /manifest --hash xxh3-128 --seed abcd00"), "%s", s);
        cr_assert(strstr(s, " --threads 2 --extents 4096 --geometry --record-blocks --disks 0:2"), "%s", s);
        cr_assert_null(strstr(s, "--delta"), "%s", s);
        cr_assert_null(strstr(s, "--cat"), "%s", s);
}

Test(walker_plan, quick_walks_metadata_only) {
        struct vdg_walker_plan p = {.algo = VD_HASH_NONE, .n_disks = 1};
        struct vdg_walker_argv a;
        vdg_walker_argv(&p, &a);
        char *s = joined(&a);
        cr_assert(strstr(s, "--hash none --geometry --disks 0:1"), "%s", s);
        cr_assert_null(strstr(s, "--seed"), "%s", s);
        cr_assert_null(strstr(s, "--extents"), "%s", s);
}

Test(walker_plan, a_delta_scan_of_a_shared_appliance_guest) {
        struct vdg_walker_plan p = {.algo = VD_HASH_SHA256, .extents_min = 4096, .disk_first = 3, .n_disks = 1,
                                    .delta = true, .reference = true, .slim = true, .cat = true, .cat_max = 65536};
        struct vdg_walker_argv a;
        vdg_walker_argv(&p, &a);
        char *s = joined(&a);
        cr_assert(strstr(s, "--hash sha256 --extents 4096 --geometry --disks 3:1 --delta /delta --reference "
                            "/reference --slim --cat /catlist --max 65536 --cat-out /catout"),
                  "%s", s);
}

Test(walker_plan, reference_options_need_the_delta_scan) {
        struct vdg_walker_plan p = {.algo = VD_HASH_SHA256, .reference = true, .slim = true, .read_inodes = true};
        struct vdg_walker_argv a;
        vdg_walker_argv(&p, &a);
        cr_assert_null(strstr(joined(&a), "--reference"));
        p.delta = p.verify = true;
        vdg_walker_argv(&p, &a);
        cr_assert(strstr(joined(&a), "--delta /delta --delta-verify --reference /reference --slim --read-inodes"),
                  "%s", joined(&a));
}

static vd_fact facts[3];

Test(share_plan, only_a_recorded_layout_of_ext_or_vfat_file_systems_is_shared) {
        facts[0] = (vd_fact){(char *)"layout.fstab", (char *)"abc"};
        facts[1] = (vd_fact){(char *)"os.root", (char *)"/dev/sda1"};
        facts[2] = (vd_fact){(char *)"layout.mount./", (char *)"1234-5678 ext4"};
        vd_guest_opts o = {.layout_facts = facts, .n_layout_facts = 3};
        char why[200] = "";
        cr_assert(vdg_share_layout_ok(&o, why, sizeof why));
        facts[2].value = (char *)"1234-5678 btrfs";
        cr_assert_not(vdg_share_layout_ok(&o, why, sizeof why));
        cr_assert_str_eq(why, "/ is btrfs, not ext2/3/4 or vfat");
        facts[2].value = (char *)"1234-5678";
        cr_assert_not(vdg_share_layout_ok(&o, why, sizeof why));
        o.n_layout_facts = 1;
        cr_assert_not(vdg_share_layout_ok(&o, why, sizeof why));
        cr_assert_str_eq(why, "the baseline records no file system layout");
        o.n_layout_facts = 3;
        facts[2].value = (char *)"1234-5678 vfat";
        o.inspect_always = true;
        cr_assert_not(vdg_share_layout_ok(&o, why, sizeof why));
        cr_assert_str_eq(why, "full inspection asked for");
}
