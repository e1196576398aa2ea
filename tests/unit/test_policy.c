#include <criterion/criterion.h>
#include <string.h>

#include "vd_policy.h"

Test(policy, attribute_lists_parse_and_unknown_names_are_named) {
        uint32_t m;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_attrs_parse("ctime,inode", &m, &e), 0);
        cr_assert_eq(m, VD_A_CTIME | VD_A_INODE);
        cr_assert_eq(vd_attrs_parse("owner", &m, &e), 0);
        cr_assert_eq(m, VD_A_UID | VD_A_GID);
        cr_assert_eq(vd_attrs_parse("ctime,shaa256", &m, &e), VD_E_USAGE);
        cr_assert(strstr(e.msg, "unknown attribute 'shaa256'"), "%s", e.msg);
}

Test(policy, severities_round_trip) {
        for (int s = VD_SEV_INFO; s <= VD_SEV_CRITICAL; s++)
                cr_assert_eq(vd_severity_from_name(vd_severity_name(s)), s);
        cr_assert_eq(vd_severity_from_name("urgent"), -1);
}

Test(policy, default_rule_turns_off_directory_noise) {
        vd_policy *p;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        const vd_rule *r = vd_policy_match(p, "/etc", 4, 2);
        cr_assert(r->attrs & VD_A_MTIME);
        cr_assert_not(r->dir_attrs & VD_A_MTIME);
        cr_assert_not(r->dir_attrs & VD_A_NLINK);
        cr_assert(r->dir_attrs & VD_A_MODE);
        vd_policy_ignore(p, VD_A_CTIME);
        cr_assert_not(vd_policy_match(p, "/x", 2, 1)->attrs & VD_A_CTIME);
        vd_policy_free(p);
}

Test(policy, canonical_form_changes_with_ignored_attributes) {
        vd_policy *p;
        vd_policy_new_default(&p, NULL);
        vd_buf a, b;
        vd_buf_init(&a, 0);
        vd_buf_init(&b, 0);
        vd_policy_canonical(p, &a);
        vd_policy_ignore(p, VD_A_INODE);
        vd_policy_canonical(p, &b);
        cr_assert_str_neq(a.buf, b.buf);
        vd_buf_release(&a);
        vd_buf_release(&b);
        vd_policy_free(p);
}
