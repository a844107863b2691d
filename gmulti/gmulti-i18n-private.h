/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Binds the library's gettext domain on first use; no constructor runs at load time. */
const char *gmulti_i18n_gettext (const char *msgid) G_GNUC_FORMAT (1);

#define _(s) gmulti_i18n_gettext (s)
#define N_(s) (s)

G_END_DECLS
