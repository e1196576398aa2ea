/* Package version order, exactly as the package managers decide it.
 *
 * Debian (deb-version(7), dpkg's verrevcmp): [epoch:]upstream[-revision];
 * epochs compare as numbers; upstream and revision alternate non-digit runs
 * (compared character by character: '~' before everything, even the end;
 * letters before other characters) and digit runs (compared as numbers).
 *
 * RPM (rpmvercmp): segments of letters or digits, separators ignored;
 * digits beat letters; '~' sorts before everything, '^' after the base
 * version but before anything else. A label "epoch:version-release" compares
 * epoch, then version, then release.
 *
 * Inputs are untrusted (a guest's package database): any bytes, any length;
 * nothing here allocates.
 */
#ifndef VD_VERSION_H
#define VD_VERSION_H

/* <0, 0, >0 as a is older than, equal to, newer than b. */
int vd_version_cmp_deb(const char *a, const char *b);
int vd_rpmvercmp(const char *a, const char *b);
/* "E:V-R" labels; a missing epoch is 0, a missing release empty. */
int vd_version_cmp_rpm(const char *a, const char *b);

/* Windows applications' DisplayVersion ("22.01", "10.0.20348.2700"):
 * dot-separated parts, numeric ones as numbers, others byte by byte (a
 * number before a word); a missing part is 0 ("1.2" equals "1.2.0"). */
int vd_version_cmp_dotted(const char *a, const char *b);

#endif
