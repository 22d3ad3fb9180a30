/*
 * obs_bank.c — bank accounts: IBAN or "CC:bankcode:account".
 *
 * An IBAN (ISO 13616) is written without spaces in uppercase; its length
 * must match its country where the table below knows the country (15-34
 * otherwise) and its check digits must pass ISO 7064 MOD 97-10. A Russian
 * account is given by the bank's BIK (9 digits) and the 20-digit account,
 * either as "RU:BIK:account" or as "BIK account", and is written
 * "RU:044525225:30101810400000000225" once its control key (the 9th digit
 * of the account) is verified by the Bank of Russia algorithm: weights
 * 7,1,3 over the last three BIK digits and the account must give a sum
 * divisible by 10; for a correspondent account (30101...) or a BIK ending
 * in 000 (a settlement centre) the three digits are "0" and BIK digits 5-6.
 * Other countries' national accounts are "CC:bankcode:account" in
 * uppercase letters and digits, checked for length only.
 */
#include <string.h>

#include "obs_internal.h"

#define OBS_IBAN_MIN 15
#define OBS_IBAN_MAX 34 /* ISO 13616-1 */
#define OBS_BANKCODE_MAX 16
#define OBS_ACCOUNT_MAX 34
#define RU_BIK_LEN 9
#define RU_ACCOUNT_LEN 20

/* IBAN lengths of the SWIFT IBAN registry for the countries met most. */
static const struct {
	char cc[3];
	unsigned char len;
} iban_lengths[] = {
	{ "AD", 24 }, { "AE", 23 }, { "AL", 28 }, { "AT", 20 }, { "AZ", 28 }, { "BA", 20 },
	{ "BE", 16 }, { "BG", 22 }, { "BH", 22 }, { "BR", 29 }, { "BY", 28 }, { "CH", 21 },
	{ "CR", 22 }, { "CY", 28 }, { "CZ", 24 }, { "DE", 22 }, { "DK", 18 }, { "DO", 28 },
	{ "EE", 20 }, { "EG", 29 }, { "ES", 24 }, { "FI", 18 }, { "FO", 18 }, { "FR", 27 },
	{ "GB", 22 }, { "GE", 22 }, { "GI", 23 }, { "GL", 18 }, { "GR", 27 }, { "GT", 28 },
	{ "HR", 21 }, { "HU", 28 }, { "IE", 22 }, { "IL", 23 }, { "IQ", 23 }, { "IS", 26 },
	{ "IT", 27 }, { "JO", 30 }, { "KW", 30 }, { "KZ", 20 }, { "LB", 28 }, { "LC", 32 },
	{ "LI", 21 }, { "LT", 20 }, { "LU", 20 }, { "LV", 21 }, { "MC", 27 }, { "MD", 24 },
	{ "ME", 22 }, { "MK", 19 }, { "MR", 27 }, { "MT", 31 }, { "MU", 30 }, { "NL", 18 },
	{ "NO", 15 }, { "PK", 24 }, { "PL", 28 }, { "PS", 29 }, { "PT", 25 }, { "QA", 29 },
	{ "RO", 24 }, { "RS", 22 }, { "RU", 33 }, { "SA", 24 }, { "SC", 31 }, { "SE", 24 },
	{ "SI", 19 }, { "SK", 24 }, { "SM", 27 }, { "TN", 24 }, { "TR", 26 }, { "UA", 29 },
	{ "VA", 22 }, { "VG", 24 }, { "XK", 20 },
};

static int
iban_country_len(const char *cc)
{
	for (size_t i = 0; i < sizeof(iban_lengths) / sizeof(iban_lengths[0]); i++)
		if (iban_lengths[i].cc[0] == cc[0] && iban_lengths[i].cc[1] == cc[1])
			return iban_lengths[i].len;
	return 0;
}

static bool
is_alnum(char c)
{
	return obs__is_alpha(c) || obs__is_digit(c);
}

/* ISO 7064 MOD 97-10 over the rearranged IBAN, digit by digit. */
static bool
iban_mod97(const char *s, size_t len)
{
	unsigned rem = 0;
	for (size_t k = 0; k < len; k++) {
		char c = s[(k + 4) % len];
		if (obs__is_digit(c))
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	return rem == 1;
}

static enum tcerr
iban(struct slice in, struct buf *out, struct diag *d)
{
	char s[OBS_IBAN_MAX];
	size_t n = 0;
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (c == ' ')
			continue;
		if (!is_alnum(c))
			return diag_set(d, TC_EINVAL, "IBAN contains '%c': letters and digits only",
			                (c > 0x20 && c < 0x7f) ? c : '?');
		if (n == sizeof(s))
			return diag_set(d, TC_EINVAL, "IBAN longer than %d characters", OBS_IBAN_MAX);
		s[n++] = obs__upper(c);
	}
	if (n < 4 || !obs__is_alpha(s[0]) || !obs__is_alpha(s[1]) || !obs__is_digit(s[2]) ||
	    !obs__is_digit(s[3]))
		return diag_set(d, TC_EINVAL,
		                "not an IBAN: country code and two check digits expected first");
	int want = iban_country_len(s);
	if (want && n != (size_t)want)
		return diag_set(d, TC_EINVAL, "IBAN for %c%c must have %d characters, not %zu", s[0],
		                s[1], want, n);
	if (!want && n < OBS_IBAN_MIN)
		return diag_set(d, TC_EINVAL, "IBAN shorter than %d characters", OBS_IBAN_MIN);
	if (!iban_mod97(s, n))
		return diag_set(d, TC_EINVAL, "IBAN check digits do not match");
	buf_append(out, s, n);
	return TC_OK;
}

static bool
all_digits(struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!obs__is_digit(s.p[i]))
			return false;
	return true;
}

/* Bank of Russia control key (see the top of the file). */
static enum tcerr
ru_account(struct slice bik, struct slice acc, struct buf *out, struct diag *d)
{
	if (bik.len != RU_BIK_LEN || !all_digits(bik))
		return diag_set(d, TC_EINVAL, "Russian BIK must be %d digits", RU_BIK_LEN);
	if (acc.len != RU_ACCOUNT_LEN || !all_digits(acc))
		return diag_set(d, TC_EINVAL, "Russian account number must be %d digits",
		                RU_ACCOUNT_LEN);
	char pre[3];
	if (memcmp(acc.p, "30101", 5) == 0 || memcmp(bik.p + 6, "000", 3) == 0) {
		pre[0] = '0';
		pre[1] = bik.p[4];
		pre[2] = bik.p[5];
	} else {
		memcpy(pre, bik.p + 6, 3);
	}
	static const unsigned w[3] = { 7, 1, 3 };
	unsigned sum = 0;
	for (size_t i = 0; i < 3 + RU_ACCOUNT_LEN; i++) {
		char c = i < 3 ? pre[i] : acc.p[i - 3];
		sum += (unsigned)(c - '0') * w[i % 3];
	}
	if (sum % 10 != 0)
		return diag_set(d, TC_EINVAL, "Russian account control key does not match the BIK");
	buf_append_cstr(out, "RU:");
	buf_append(out, bik.p, bik.len);
	buf_append_char(out, ':');
	buf_append(out, acc.p, acc.len);
	return TC_OK;
}

static enum tcerr
national(struct slice in, const char *c1, struct buf *out, struct diag *d)
{
	struct slice cc = slice_make(in.p, (size_t)(c1 - in.p));
	const char *rest = c1 + 1;
	const char *c2 = memchr(rest, ':', in.len - cc.len - 1);
	if (!c2)
		return diag_set(d, TC_EINVAL, "national account must be CC:bankcode:account");
	struct slice bank = slice_make(rest, (size_t)(c2 - rest));
	struct slice acc = slice_make(c2 + 1, (size_t)(in.p + in.len - c2 - 1));
	if (cc.len != 2 || !obs__is_alpha(cc.p[0]) || !obs__is_alpha(cc.p[1]))
		return diag_set(d, TC_EINVAL, "national account must start with a two-letter country code");
	char ucc[2] = { obs__upper(cc.p[0]), obs__upper(cc.p[1]) };
	if (ucc[0] == 'R' && ucc[1] == 'U')
		return ru_account(bank, acc, out, d);
	if (bank.len == 0 || bank.len > OBS_BANKCODE_MAX)
		return diag_set(d, TC_EINVAL, "bank code must be 1-%d letters or digits",
		                OBS_BANKCODE_MAX);
	if (acc.len == 0 || acc.len > OBS_ACCOUNT_MAX)
		return diag_set(d, TC_EINVAL, "account number must be 1-%d letters or digits",
		                OBS_ACCOUNT_MAX);
	for (size_t i = 0; i < bank.len; i++)
		if (!is_alnum(bank.p[i]))
			return diag_set(d, TC_EINVAL, "bank code must be letters or digits");
	for (size_t i = 0; i < acc.len; i++)
		if (!is_alnum(acc.p[i]))
			return diag_set(d, TC_EINVAL, "account number must be letters or digits");
	buf_append(out, ucc, 2);
	buf_append_char(out, ':');
	for (size_t i = 0; i < bank.len; i++)
		buf_append_char(out, obs__upper(bank.p[i]));
	buf_append_char(out, ':');
	for (size_t i = 0; i < acc.len; i++)
		buf_append_char(out, obs__upper(acc.p[i]));
	return TC_OK;
}

enum tcerr
obs__bank(struct slice in, struct buf *out, struct diag *d)
{
	const char *colon = memchr(in.p, ':', in.len);
	if (colon)
		return national(in, colon, out, d);
	/* "BIK account": 9 digits, a space or slash, 20 digits */
	char dig[RU_BIK_LEN + RU_ACCOUNT_LEN];
	size_t n = 0, first = 0;
	bool only = in.len > 0, sep = false;
	for (size_t i = 0; i < in.len && only; i++) {
		char c = in.p[i];
		if (c == ' ' || c == '/') {
			if (!sep)
				first = n;
			sep = true;
		} else if (obs__is_digit(c) && n < sizeof(dig)) {
			dig[n++] = c;
		} else {
			only = false;
		}
	}
	if (only && sep && first == RU_BIK_LEN && n == sizeof(dig))
		return ru_account(slice_make(dig, RU_BIK_LEN),
		                  slice_make(dig + RU_BIK_LEN, RU_ACCOUNT_LEN), out, d);
	if (only)
		return diag_set(d, TC_EINVAL,
		                "not a bank account: give an IBAN, \"BIK account\" (Russia) or "
		                "CC:bankcode:account");
	return iban(in, out, d);
}
