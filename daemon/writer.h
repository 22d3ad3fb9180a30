/*
 * writer.h — the daemon's glue to the hub's writer thread (lib/hub/
 * hub_writer.h): the TAXII server writes through it.
 */
#ifndef TOCSIN_DAEMON_WRITER_H
#define TOCSIN_DAEMON_WRITER_H

#include "hub/hub_writer.h"
#include "taxii/taxii_server.h"

/* Fills tw so that taxii_handle() writes through w. */
void writer_taxii(struct hub_writer *w, struct taxii_writer *tw);

#endif
