/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-body-writer.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

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

/* The same for a content-coding stage, which first checks the body is no bomb. */
static gboolean
content_decoded_cb (const guint8  *data,
                    gsize          length,
                    gpointer       user_data,
                    GError       **error)
{
  GMultiBodyDecoder *self = user_data;

  self->decoded += length;
  if (G_UNLIKELY (self->max_decoded > 0 && self->decoded > self->max_decoded))
    {
      char limit[24];

      g_snprintf (limit, sizeof limit, "%" G_GUINT64_FORMAT, self->max_decoded);
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_DECODED_TOO_LARGE,
                   _("The decoded response body is larger than the limit of %s bytes"), limit);
      return FALSE;
    }
  if (G_UNLIKELY (self->max_ratio > 0 && self->decoded > GMULTI_DECODE_RATIO_SLACK &&
                  self->decoded / MAX (self->coded, 1) >= self->max_ratio))
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_DECODED_TOO_LARGE,
                   _("The response body decodes to more than %u times its coded size"),
                   self->max_ratio);
      return FALSE;
    }
  return decoded_cb (data, length, user_data, error);
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

static GMultiBodyStatus
content_write (GMultiBodyWriter  *writer,
               const guint8      *data,
               gsize              length,
               GError           **error)
{
  GMultiBodyDecoder *self = (GMultiBodyDecoder *) writer;

  /* The wire bytes count as they arrive, before any pause. */
  self->coded += length;
  for (guint i = 0; i < G_N_ELEMENTS (self->wire_counters); i++)
    if (self->wire_counters[i] != NULL)
      *self->wire_counters[i] += length;
  if (length == 0)
    {
      GMultiBodyStatus status = gmulti_body_writer_write (writer->next, NULL, 0, error);

      if (status != GMULTI_BODY_OK)
        return status;
    }
  return status_of (gmulti_decoder_push (self->decoder, data, length, content_decoded_cb,
                                         self, error));
}

static GMultiBodyStatus
content_finish (GMultiBodyWriter  *writer,
                GError           **error)
{
  GMultiBodyDecoder *self = (GMultiBodyDecoder *) writer;
  GMultiBodyStatus status;

  status = gmulti_body_writer_write (writer->next, NULL, 0, error);
  if (status != GMULTI_BODY_OK)
    return status;
  status = status_of (gmulti_decoder_finish (self->decoder, content_decoded_cb, self, error));
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

static const GMultiBodyWriterOps content_ops = {
  .write = content_write,
  .finish = content_finish,
  .clear = decoder_clear,
};

/* Puts a decoder stage for @codings in front of @head; returns it. */
static GMultiBodyDecoder *
add_decoder (GMultiBodyChain           *self,
             const GMultiBodyWriterOps *ops,
             const GMultiCoding        *codings,
             guint                      n_codings,
             GMultiBodyWriter          *head)
{
  GMultiBodyDecoder *stage;

  g_assert (self->n_decoders < GMULTI_BODY_CHAIN_MAX_DECODERS);
  stage = &self->decoders[self->n_decoders++];
  *stage = (GMultiBodyDecoder) { 0 };
  stage->base.ops = ops;
  stage->base.next = head;
  stage->decoder = gmulti_decoder_new (codings, n_codings);
  return stage;
}

void
gmulti_body_chain_build (GMultiBodyChain    *self,
                         const GMultiCoding *transfer_codings,
                         guint               n_transfer_codings,
                         GMultiBodyWriter   *sink)
{
  gmulti_body_chain_build_full (self, transfer_codings, n_transfer_codings, NULL, sink);
}

void
gmulti_body_chain_build_full (GMultiBodyChain             *self,
                              const GMultiCoding          *transfer_codings,
                              guint                        n_transfer_codings,
                              const GMultiContentDecoding *content,
                              GMultiBodyWriter            *sink)
{
  GMultiBodyWriter *head = sink;

  g_return_if_fail (sink != NULL);
  g_return_if_fail (n_transfer_codings == 0 || transfer_codings != NULL);
  g_return_if_fail (content == NULL || content->n_codings == 0 || content->codings != NULL);

  gmulti_body_chain_clear (self);
  /* Built from the sink up: content codings are undone after the transfer codings, so
   * their stage comes after (below) theirs. */
  if (G_UNLIKELY (content != NULL && content->n_codings > 0))
    {
      GMultiBodyDecoder *stage = add_decoder (self, &content_ops, content->codings,
                                              content->n_codings, head);

      gmulti_decoder_set_error_code (stage->decoder, GMULTI_ERROR_CONTENT_DECODING);
      stage->wire_counters[0] = content->wire_counters[0];
      stage->wire_counters[1] = content->wire_counters[1];
      stage->max_decoded = content->max_decoded;
      stage->max_ratio = content->max_ratio;
      head = &stage->base;
    }
  if (G_UNLIKELY (n_transfer_codings > 0))
    head = &add_decoder (self, &decoder_ops, transfer_codings, n_transfer_codings, head)->base;
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
