/*
 * timestamp.c — RFC 3339 'Z' timestamps to and from microseconds.
 *
 * The day count uses Howard Hinnant's well-known civil-calendar algorithms
 * (days_from_civil / civil_from_days), written here from their published
 * description; valid for every year 0000-9999.
 */
#include <stdio.h>
#include <time.h>

#include "timestamp.h"

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int
digits(const char *p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

enum tcerr
ts_parse(struct slice s, int64_t *us, int *frac_digits)
{
	int Y, M, D, h, mi, sec;
	const char *p = s.p;

	/* YYYY-MM-DDTHH:MM:SS is 19 bytes, then optional .f+ then Z */
	if (s.len < 20 || s.len > 64)
		return TC_EINVAL;
	if (digits(p, 4, &Y) || p[4] != '-' || digits(p + 5, 2, &M) || p[7] != '-' ||
	    digits(p + 8, 2, &D) || p[10] != 'T' || digits(p + 11, 2, &h) ||
	    p[13] != ':' || digits(p + 14, 2, &mi) || p[16] != ':' ||
	    digits(p + 17, 2, &sec))
		return TC_EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 ||
	    sec > 60)
		return TC_EINVAL;
	size_t i = 19;
	int64_t frac = 0;
	int nfrac = 0;
	if (p[i] == '.') {
		i++;
		while (i < s.len && p[i] >= '0' && p[i] <= '9') {
			if (nfrac < 6)
				frac = frac * 10 + (p[i] - '0');
			nfrac++;
			i++;
		}
		if (nfrac == 0)
			return TC_EINVAL; /* "no '.' unless digits follow" */
	}
	if (i + 1 != s.len || p[i] != 'Z')
		return TC_EINVAL;
	for (int k = nfrac; k < 6; k++)
		frac *= 10;
	if (sec == 60) { /* leap second: the last representable instant of :59 */
		sec = 59;
		frac = 999999;
	}
	int64_t days = days_from_civil(Y, M, D);
	*us = ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + frac;
	if (frac_digits)
		*frac_digits = nfrac;
	return TC_OK;
}

int
ts_format(int64_t us, int ndigits, char out[TS_TEXT_MAX])
{
	int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	int64_t frac = us - secs * 1000000;
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t rem = secs - days * 86400;
	int64_t y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	int n = snprintf(out, TS_TEXT_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
	                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	if (ndigits == 3)
		n += snprintf(out + n, (size_t)(TS_TEXT_MAX - n), ".%03dZ", (int)(frac / 1000));
	else if (ndigits == 6)
		n += snprintf(out + n, (size_t)(TS_TEXT_MAX - n), ".%06dZ", (int)frac);
	else
		n += snprintf(out + n, (size_t)(TS_TEXT_MAX - n), "Z");
	return n;
}

int64_t
ts_now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}
