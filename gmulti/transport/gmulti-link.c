/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-link.h"

/* The defaults of the optional ops: a link that does not buffer, watch or close on
 * its own passes the question down. */

GMultiLinkStatus
gmulti_link_open (GMultiLink      *self,
                  GMultiLinkOpen  *io,
                  GError         **error)
{
  io->n_opened = 0;
  io->n_given_up = 0;
  io->deadline = -1;
  return self->ops->open (self, io, error);
}

gssize
gmulti_link_recv_record (GMultiLink       *self,
                         GMultiTlsRecord  *record,
                         GError          **error)
{
  g_return_val_if_fail (self->ops->recv_record != NULL, -1);

  return self->ops->recv_record (self, record, error);
}

gsize
gmulti_link_pending (GMultiLink *self)
{
  for (; self != NULL; self = self->lower)
    if (self->ops->pending != NULL)
      return self->ops->pending (self);
  return 0;
}

gsize
gmulti_link_buffered (GMultiLink *self)
{
  for (; self != NULL; self = self->lower)
    if (self->ops->buffered != NULL)
      return self->ops->buffered (self);
  return 0;
}

gsize
gmulti_link_unseen_max (GMultiLink *self)
{
  gsize total = 0;

  for (; self != NULL; self = self->lower)
    total += self->unseen_max;
  return total;
}

GMultiLinkInterest
gmulti_link_interest (GMultiLink *self)
{
  for (; self != NULL; self = self->lower)
    if (self->ops->interest != NULL)
      return self->ops->interest (self);
  return GMULTI_LINK_INTEREST_NONE;
}

GMultiLinkStatus
gmulti_link_flush (GMultiLink  *self,
                   GError     **error)
{
  for (; self != NULL; self = self->lower)
    if (self->ops->flush != NULL)
      return self->ops->flush (self, error);
  return GMULTI_LINK_DONE;
}

gboolean
gmulti_link_eof_was_clean (GMultiLink *self)
{
  /* The top link saw the end: only it can tell how it came. */
  return self->ops->eof_was_clean == NULL || self->ops->eof_was_clean (self);
}

void
gmulti_link_trim (GMultiLink *self,
                  gboolean    keep_if_streaming)
{
  for (; self != NULL; self = self->lower)
    if (self->ops->trim != NULL)
      {
        self->ops->trim (self, keep_if_streaming);
        return;
      }
}

GMultiLink *
gmulti_link_bottom (GMultiLink *self)
{
  while (self->lower != NULL)
    self = self->lower;
  return self;
}

void
gmulti_link_free_chain (GMultiLink *self)
{
  while (self != NULL)
    {
      GMultiLink *lower = self->lower;

      if (self->ops->free != NULL)
        self->ops->free (self);
      else
        g_free (self);
      self = lower;
    }
}
