/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The GIO error a GMULTI_ERROR is the same failure as, where the place that failed
 * knows one finer than the code (gmulti-error.c); gmulti_error_to_gio() and
 * gmulti_error_matches() prefer it to the table. Each takes a NULL @error and does
 * nothing then, so it can follow g_set_error() on a caller's GError **. */
void gmulti_error_set_gio    (GError       *error,
                              GQuark        domain,
                              gint          code);
/* @errsv as GIO maps an errno (g_io_error_from_errno()). */
void gmulti_error_set_errno  (GError       *error,
                              int           errsv);
/* @gai_error (getaddrinfo()'s EAI_*) as GIO's resolver reports it. */
void gmulti_error_set_addrinfo (GError     *error,
                                int         gai_error);
/* Whatever GIO error @cause is, or carries. */
void gmulti_error_set_cause  (GError       *error,
                              const GError *cause);

/* Whether the table of GIO equivalents decides for @code (its answer may be "none"). */
gboolean gmulti_error_has_gio_row (gint code);

G_END_DECLS
