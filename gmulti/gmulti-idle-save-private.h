/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A save of an object's file deferred to an idle of the main context the object was
 * made in, so that a burst of changes (every Set-Cookie of a page, every HSTS header)
 * costs one write. Used by the cookie jar and the HSTS enforcer. */
typedef struct {
  GMainContext *context;       /* the thread-default one when the object was made */
  GSource *source;             /* a save is due */
  GSourceFunc save;            /* saves the file; its return value is ignored */
  gpointer data;
  const char *name;            /* the source's name, static */
} GMultiIdleSave;

void     gmulti_idle_save_init     (GMultiIdleSave *self,
                                    GSourceFunc     save,
                                    gpointer        data,
                                    const char     *name);
/* Due at the next idle unless a save is due already. */
void     gmulti_idle_save_schedule (GMultiIdleSave *self);
/* Drops the due save, if any: TRUE when one was due. */
gboolean gmulti_idle_save_cancel   (GMultiIdleSave *self);
/* A due save is done now (dispose: nothing is lost). */
void     gmulti_idle_save_flush    (GMultiIdleSave *self);
/* Drops a due save without doing it, and the context. */
void     gmulti_idle_save_clear    (GMultiIdleSave *self);

G_END_DECLS
