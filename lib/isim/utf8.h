/* SPDX-License-Identifier: MIT */
#ifndef ISIM_UTF8_H
#define ISIM_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * UTF-8 as RFC 3629 defines it: at most four bytes, no overlong forms, no
 * encoded surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 * Noncharacters such as U+FFFF are well-formed. Lengths are explicit, so
 * U+0000 may appear inside a string.
 */

/* What isim_utf8_next reports for an ill-formed sequence. */
#define ISIM_UTF8_BAD UINT32_MAX
#define ISIM_UTF8_REPLACEMENT 0xfffdu

/* The code point at s[0..n), n >= 1, in *cp, and the bytes it takes. For
 * an ill-formed sequence *cp is ISIM_UTF8_BAD and the length is that of
 * its maximal subpart (Unicode 15 section 3.9, table 3-7: the longest
 * prefix that could still have begun a character, at least one byte), the
 * unit that one U+FFFD replaces. 0 when n is 0. */
size_t isim_utf8_next(const char *s, size_t n, uint32_t *cp);

/* Offset of the first byte of s[0..n) that makes it ill-formed, or -1 when
 * it is all well-formed. why, when not NULL, receives a one-line reason
 * naming the byte, e.g. "invalid UTF-8 byte 0xC0 (overlong encoding)". */
long isim_utf8_check(const char *s, size_t n, char *why, size_t whysize);
bool isim_utf8_valid(const char *s, size_t n);

/* Code points in s[0..n), each ill-formed subpart counting as one. This is
 * the length JSON Schema's minLength and maxLength measure (RFC 8259
 * characters). */
size_t isim_utf8_count(const char *s, size_t n);

/* Write cp as UTF-8 into out; returns its length, or 0 when cp is a
 * surrogate or above U+10FFFF. */
size_t isim_utf8_encode(uint32_t cp, char out[static 4]);

/* The longest prefix of s[0..n) of at most max bytes that does not end
 * inside a multi-byte sequence. */
size_t isim_utf8_cut(const char *s, size_t n, size_t max);

/* A NUL-terminated copy of s[0..n) with each ill-formed subpart replaced
 * by U+FFFD, and *changed (when not NULL) telling whether any was. malloc()ed;
 * NULL when out of memory. */
char *isim_utf8_repair(const char *s, size_t n, bool *changed);

#endif
