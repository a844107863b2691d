/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-body-writer.h"

/* The decoder's sink is the next stage; its STOPPED stops the decoder, which keeps
 * what it did not decode yet. */
static gboolean
decoded_cb (const guint8  *data,
            gsize          length,
            gpointer       user_data,
            GError       **error)
{
  GMultiBodyWriter *next = ((GMultiBodyDecoder *) user_data)->base.next;

  return gmulti_body_writer_write (next, data, length, error) == GMULTI_BODY_OK;
}

static GMultiBodyStatus
status_of (GMultiDecoderStatus status)
{
  switch (status)
    {
    case GMULTI_DECODER_OK:
      return GMULTI_BODY_OK;
    case GMULTI_DECODER_STOPPED:
      return GMULTI_BODY_STOPPED;
    case GMULTI_DECODER_ERROR:
    default:
      return GMULTI_BODY_ERROR;
    }
}

static GMultiBodyStatus
decoder_write (GMultiBodyWriter  *writer,
               const guint8      *data,
               gsize              length,
               GError           **error)
{
  GMultiBodyDecoder *self = (GMultiBodyDecoder *) writer;

  /* Going on after a pause: what a later stage kept comes before what this one
   * still has to decode. */
  if (length == 0)
    {
      GMultiBodyStatus status = gmulti_body_writer_write (writer->next, NULL, 0, error);

      if (status != GMULTI_BODY_OK)
        return status;
    }
  return status_of (gmulti_decoder_push (self->decoder, data, length, decoded_cb, self, error));
}

static GMultiBodyStatus
decoder_finish (GMultiBodyWriter  *writer,
                GError           **error)
{
  GMultiBodyDecoder *self = (GMultiBodyDecoder *) writer;
  GMultiBodyStatus status;

  status = gmulti_body_writer_write (writer->next, NULL, 0, error);
  if (status != GMULTI_BODY_OK)
    return status;
  status = status_of (gmulti_decoder_finish (self->decoder, decoded_cb, self, error));
  if (status != GMULTI_BODY_OK)
    return status;
  return gmulti_body_writer_finish (writer->next, error);
}

static void
decoder_clear (GMultiBodyWriter *writer)
{
  GMultiBodyDecoder *self = (GMultiBodyDecoder *) writer;

  g_clear_pointer (&self->decoder, gmulti_decoder_free);
}

/* No splice_fd: the bytes on the wire are not the body. */
static const GMultiBodyWriterOps decoder_ops = {
  .write = decoder_write,
  .finish = decoder_finish,
  .clear = decoder_clear,
};

/* Puts a decoder stage for @codings in front of @head; returns the new head. */
static GMultiBodyWriter *
add_decoder (GMultiBodyChain    *self,
             const GMultiCoding *codings,
             guint               n_codings,
             GMultiBodyWriter   *head)
{
  GMultiBodyDecoder *stage;

  g_assert (self->n_decoders < GMULTI_BODY_CHAIN_MAX_DECODERS);
  stage = &self->decoders[self->n_decoders++];
  stage->base.ops = &decoder_ops;
  stage->base.next = head;
  stage->decoder = gmulti_decoder_new (codings, n_codings);
  return &stage->base;
}

void
gmulti_body_chain_build (GMultiBodyChain    *self,
                         const GMultiCoding *transfer_codings,
                         guint               n_transfer_codings,
                         GMultiBodyWriter   *sink)
{
  GMultiBodyWriter *head = sink;

  g_return_if_fail (sink != NULL);
  g_return_if_fail (n_transfer_codings == 0 || transfer_codings != NULL);

  gmulti_body_chain_clear (self);
  /* Built from the sink up. Content codings, once undone, go here: they are undone
   * after the transfer codings, so their stage comes after (below) theirs. */
  if (G_UNLIKELY (n_transfer_codings > 0))
    head = add_decoder (self, transfer_codings, n_transfer_codings, head);
  self->head = head;
}

void
gmulti_body_chain_clear (GMultiBodyChain *self)
{
  /* Only the stages the chain built: the sink is its owner's. */
  for (guint i = 0; i < self->n_decoders; i++)
    self->decoders[i].base.ops->clear (&self->decoders[i].base);
  self->head = NULL;
  self->n_decoders = 0;
  self->stopped = FALSE;
}

static inline GMultiBodyStatus
note (GMultiBodyChain  *self,
      GMultiBodyStatus  status)
{
  self->stopped = status == GMULTI_BODY_STOPPED;
  return status;
}

GMultiBodyStatus
gmulti_body_chain_write (GMultiBodyChain  *self,
                         const guint8     *data,
                         gsize             length,
                         GError          **error)
{
  return note (self, gmulti_body_writer_write (self->head, data, length, error));
}

GMultiBodyStatus
gmulti_body_chain_resume (GMultiBodyChain  *self,
                          GError          **error)
{
  if (!self->stopped)
    return GMULTI_BODY_OK;
  return note (self, gmulti_body_writer_write (self->head, NULL, 0, error));
}

GMultiBodyStatus
gmulti_body_chain_finish (GMultiBodyChain  *self,
                          GError          **error)
{
  return note (self, gmulti_body_writer_finish (self->head, error));
}

int
gmulti_body_chain_splice_fd (GMultiBodyChain *self)
{
  /* Each stage that passes bytes on unchanged asks the next; a decoder stage has no
   * answer, so only a bare sink gives one. */
  if (self->head == NULL)
    return -1;
  return gmulti_body_writer_splice_fd (self->head);
}

GMultiBodyStatus
gmulti_body_chain_spliced (GMultiBodyChain *self,
                           gsize            length)
{
  g_return_val_if_fail (self->head != NULL && self->head->ops->spliced != NULL,
                        GMULTI_BODY_OK);

  return note (self, self->head->ops->spliced (self->head, length));
}
