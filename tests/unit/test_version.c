/* Version order: known cases from deb-version(7) and rpm's own test suite
 * (the oracle comparison on generated pairs is test_version_oracle). */
#include <criterion/criterion.h>

#include "analyse/vd_version.h"

static int sgn(int x) { return (x > 0) - (x < 0); }

Test(version, debian_order) {
        const struct {
                const char *a, *b;
                int want;
        } t[] = {
                {"1.0", "1.0", 0},           {"1.0~rc1", "1.0", -1},      {"1.0~~", "1.0~", -1},
                {"1.0~", "1.0", -1},         {"1.0", "1.0+b1", -1},       {"1.0a", "1.0+", -1},
                {"1:1.0", "2.0", 1},         {"0:1.0", "1.0", 0},         {"1.0-1", "1.0-1.1", -1},
                {"1.0-1", "1.0", 1},         {"1.10", "1.9", 1},          {"1.010", "1.10", 0},
                {"9.2p1-2+deb12u3", "9.2p1-2+deb12u10", -1},               {"1:9.2p1-2", "9.3-1", 1},
                {"2.36-9+deb12u4", "2.36-9+deb12u10", -1},                 {"1.0-a-b", "1.0-a-c", -1},
                {"00001:1", "1:1", 0},       {"1.2.3", "1.2.3.0", -1},    {"a", "~", 1},
        };
        for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
                cr_assert_eq(sgn(vd_version_cmp_deb(t[i].a, t[i].b)), t[i].want, "%s vs %s", t[i].a, t[i].b);
                cr_assert_eq(sgn(vd_version_cmp_deb(t[i].b, t[i].a)), -t[i].want, "%s vs %s", t[i].b, t[i].a);
        }
}

Test(version, rpm_order) {
        const struct {
                const char *a, *b;
                int want;
        } t[] = {
                {"1.0", "1.0", 0},         {"1.0", "2.0", -1},       {"2.0.1", "2.0", 1},
                {"2.0.1a", "2.0.1", 1},    {"5.5p1", "5.5p2", -1},   {"5.5p10", "5.5p1", 1},
                {"10xyz", "10.1xyz", -1},  {"xyz10", "xyz10.1", -1}, {"xyz.4", "8", -1},
                {"1.0~rc1", "1.0", -1},    {"1.0~rc1", "1.0~rc2", -1}, {"1.0^", "1.0", 1},
                {"1.0^git1", "1.0^git2", -1}, {"1.0^git1", "1.01", -1}, {"1.0^20160101", "1.0.1", -1},
                {"1.0~rc1^git1", "1.0~rc1", 1}, {"a+", "a_", 0},     {"+a", "_a", 0},
                {"1b.fc17", "1.fc17", -1}, {"1.0010", "1.9", 1},     {"", "", 0},
        };
        for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
                cr_assert_eq(sgn(vd_rpmvercmp(t[i].a, t[i].b)), t[i].want, "%s vs %s", t[i].a, t[i].b);
                cr_assert_eq(sgn(vd_rpmvercmp(t[i].b, t[i].a)), -t[i].want, "%s vs %s", t[i].b, t[i].a);
        }
        cr_assert_lt(vd_version_cmp_rpm("0:2.34-60.el9", "2.34-83.el9_3.7"), 0);
        cr_assert_gt(vd_version_cmp_rpm("1:1.0-1", "2.0-1"), 0);
        cr_assert_eq(vd_version_cmp_rpm("1.0-1", "0:1.0-1"), 0);
}
