/*
 * tcerr.h — the project-wide error enum.
 *
 * Every expected failure in libtocsin is returned as an enum tcerr; TC_OK is
 * zero so `if (rc)` reads as "if it failed". The human-readable detail (which
 * property, which line) travels separately in a struct diag.
 */
#ifndef TOCSIN_TCERR_H
#define TOCSIN_TCERR_H

enum tcerr {
	TC_OK = 0,
	TC_ENOMEM,     /* allocation failed */
	TC_EINVAL,     /* input is malformed or violates the spec */
	TC_ELIMIT,     /* input exceeds a named limit */
	TC_ENOTFOUND,  /* no such object, collection, file */
	TC_EEXIST,     /* already present */
	TC_EIO,        /* file system or network I/O failed */
	TC_EDB,        /* the database reported an error */
	TC_EBUSY,      /* the database or a resource is busy */
	TC_EPERM,      /* not allowed by policy */
	TC_EUNSUPPORTED, /* valid but not supported by this build */
	TC_EINTERNAL,  /* a bug: an invariant did not hold */
	TC_ECORRUPT,   /* stored data failed an integrity check */
};

/* Returns a static, lowercase description of rc ("out of memory"). */
const char *tcerr_str(enum tcerr rc);

#endif
