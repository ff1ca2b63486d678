/* SPDX-License-Identifier: MIT */
#ifndef ISIM_NUMBER_H
#define ISIM_NUMBER_H

/* Longest text isim_number_format writes, its NUL included. */
#define ISIM_NUMBER_MAX 32

/* Write v as ECMAScript's Number.prototype.toString does (RFC 8785 section
 * 3.2.2.3) into buf, which holds ISIM_NUMBER_MAX bytes. Returns the
 * length, or -1 when v is NaN or infinite. */
int isim_number_format(double v, char buf[static ISIM_NUMBER_MAX]);

#endif
