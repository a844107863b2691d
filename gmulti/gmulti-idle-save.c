/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-idle-save-private.h"

void
gmulti_idle_save_init (GMultiIdleSave *self,
                       GSourceFunc     save,
                       gpointer        data,
                       const char     *name)
{
  self->context = g_main_context_ref_thread_default ();
  self->source = NULL;
  self->save = save;
  self->data = data;
  self->name = name;
}

static gboolean
idle_cb (gpointer user_data)
{
  GMultiIdleSave *self = user_data;

  /* Cleared first: a change made while saving schedules the next save. */
  g_clear_pointer (&self->source, g_source_unref);
  self->save (self->data);
  return G_SOURCE_REMOVE;
}

void
gmulti_idle_save_schedule (GMultiIdleSave *self)
{
  if (self->source != NULL)
    return;
  self->source = g_idle_source_new ();
  g_source_set_priority (self->source, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_callback (self->source, idle_cb, self, NULL);
  g_source_set_static_name (self->source, self->name);
  g_source_attach (self->source, self->context);
}

gboolean
gmulti_idle_save_cancel (GMultiIdleSave *self)
{
  if (self->source == NULL)
    return FALSE;
  g_source_destroy (self->source);
  g_clear_pointer (&self->source, g_source_unref);
  return TRUE;
}

void
gmulti_idle_save_flush (GMultiIdleSave *self)
{
  if (gmulti_idle_save_cancel (self))
    self->save (self->data);
}

void
gmulti_idle_save_clear (GMultiIdleSave *self)
{
  gmulti_idle_save_cancel (self);
  g_clear_pointer (&self->context, g_main_context_unref);
}
