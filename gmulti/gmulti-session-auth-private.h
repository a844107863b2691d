/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-session.h"
#include "gmulti-transfer.h"
#include "gmulti-auth.h"

G_BEGIN_DECLS

/* The session's authenticate signal, asked after a transfer's own handlers. */
void     gmulti_session_install_auth_signal      (GObjectClass   *klass);
gboolean gmulti_session_emit_authenticate        (GMultiSession  *self,
                                                  GMultiTransfer *transfer,
                                                  GMultiAuth     *auth,
                                                  gboolean        retrying);
gboolean gmulti_session_has_authenticate_handler (GMultiSession  *self);

G_END_DECLS
