/*
 * tcerr.c — descriptions of the project-wide error codes.
 */
#include "tcerr.h"

const char *
tcerr_str(enum tcerr rc)
{
	switch (rc) {
	case TC_OK: return "success";
	case TC_ENOMEM: return "out of memory";
	case TC_EINVAL: return "invalid input";
	case TC_ELIMIT: return "limit exceeded";
	case TC_ENOTFOUND: return "not found";
	case TC_EEXIST: return "already exists";
	case TC_EIO: return "input/output error";
	case TC_EDB: return "database error";
	case TC_EBUSY: return "busy";
	case TC_EPERM: return "permission denied";
	case TC_EUNSUPPORTED: return "not supported";
	case TC_EINTERNAL: return "internal error";
	case TC_ECORRUPT: return "integrity check failed";
	}
	return "unknown error";
}
