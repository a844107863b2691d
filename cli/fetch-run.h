/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "fetch-job.h"
#include "fetch-options.h"

G_BEGIN_DECLS

/* Downloads @uris as @options say, on the thread-default main context, and returns the
 * exit status. With @demo, bodies without an output are discarded instead of written to
 * standard output, and the URIs from index @expected_failures on may fail without
 * changing the exit status (-1: none may). */
FetchExit fetch_run (FetchOptions       *options,
                     const char * const *uris,
                     gboolean            demo,
                     int                 expected_failures,
                     const char         *note);

G_END_DECLS
