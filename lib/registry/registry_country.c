/*
 * registry_country.c — the ISO 3166-1 alpha-2 country codes an
 * organisation may name (registry_org_add).
 *
 * The table holds the 249 officially assigned codes as of ISO 3166-1's
 * newsletters up to 2024, sorted for bisection, plus XK: a user-assigned
 * code, accepted because the European Commission, the EU's CERTs and
 * most registries use it for Kosovo, which has no assigned code. Every
 * other user-assigned code (AA, QM-QZ, XA-XZ, ZZ) and the exceptionally
 * or transitionally reserved ones (UK, EU, ...) are refused: they name no
 * country, and a typo would otherwise be stored for ever.
 */
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

static const char reg_countries[][3] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
	"AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
	"BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
	"CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
	"DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
	"GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
	"GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
	"IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
	"KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
	"LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
	"MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
	"NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
	"PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
	"SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
	"SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
	"TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
	"VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
};
#define REG_NCOUNTRIES (sizeof reg_countries / sizeof reg_countries[0])

static int
reg_country_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

enum tcerr
reg_country_check(const char *cc, struct diag *d)
{
	char up[3];
	if (!cc || strlen(cc) != 2 ||
	    !((cc[0] | 0x20) >= 'a' && (cc[0] | 0x20) <= 'z') ||
	    !((cc[1] | 0x20) >= 'a' && (cc[1] | 0x20) <= 'z'))
		return diag_set(d, TC_EINVAL, "country '%.16s': must be two letters (ISO 3166-1 alpha-2)",
		                cc ? cc : "");
	up[0] = (char)(cc[0] & ~0x20);
	up[1] = (char)(cc[1] & ~0x20);
	up[2] = '\0';
	if (!bsearch(up, reg_countries, REG_NCOUNTRIES, sizeof reg_countries[0], reg_country_cmp))
		return diag_set(d, TC_EINVAL,
		                "country '%s': not an assigned ISO 3166-1 alpha-2 code (user-assigned "
		                "and reserved codes such as XX, UK or EU name no country)",
		                up);
	return TC_OK;
}
