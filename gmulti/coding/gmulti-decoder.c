/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-decoder.h"

/* One coding undone. Its output waits in its own buffer until the next stage (or the
 * sink) took it, so a sink that pauses leaves every stage where it was: only the
 * first stage's input, which belongs to the caller, has to be copied. */
typedef struct {
  z_stream z;
  GMultiCoding coding;
  gboolean started;          /* took a byte */
  gboolean ended;            /* the stream (or gzip member) is complete */
  gboolean full;             /* the last inflate() filled the buffer: it may hold more */
  guint8 *out;
  gsize out_pos, out_len;    /* out[out_pos, out_len) is not passed on yet */
} Stage;

struct _GMultiDecoder {
  Stage stages[GMULTI_DECODER_MAX_CODINGS];  /* [0] undoes the coding applied last */
  guint n_stages;
  GByteArray *held;          /* input stages[0] had not taken when the sink paused */
  gboolean stopped;
  gboolean dead;
};

gboolean
gmulti_coding_from_name (const char   *name,
                         gsize         name_len,
                         GMultiCoding *coding)
{
  static const struct {
    const char *name;
    GMultiCoding coding;
  } names[] = {
    { "gzip", GMULTI_CODING_GZIP },
    { "x-gzip", GMULTI_CODING_GZIP },
    { "deflate", GMULTI_CODING_DEFLATE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strlen (names[i].name) == name_len &&
        g_ascii_strncasecmp (name, names[i].name, name_len) == 0)
      {
        *coding = names[i].coding;
        return TRUE;
      }
  return FALSE;
}

const char *
gmulti_coding_get_name (GMultiCoding coding)
{
  return coding == GMULTI_CODING_GZIP ? "gzip" : "deflate";
}

GMultiDecoder *
gmulti_decoder_new (const GMultiCoding *codings,
                    guint               n_codings)
{
  GMultiDecoder *self;

  g_return_val_if_fail (codings != NULL, NULL);
  g_return_val_if_fail (n_codings >= 1 && n_codings <= GMULTI_DECODER_MAX_CODINGS, NULL);

  self = g_new0 (GMultiDecoder, 1);
  self->n_stages = n_codings;
  for (guint i = 0; i < n_codings; i++)
    {
      Stage *s = &self->stages[i];
      int ret;

      s->coding = codings[n_codings - 1 - i];
      /* 15: the largest window; +16: gzip's wrapper instead of zlib's. */
      ret = inflateInit2 (&s->z, s->coding == GMULTI_CODING_GZIP ? 15 + 16 : 15);
      if (ret != Z_OK)
        g_error ("zlib: inflateInit2() failed: %d", ret);
      s->out = g_malloc (GMULTI_DECODER_BUFFER_SIZE);
    }
  return self;
}

void
gmulti_decoder_free (GMultiDecoder *self)
{
  if (self == NULL)
    return;

  for (guint i = 0; i < self->n_stages; i++)
    {
      inflateEnd (&self->stages[i].z);
      g_free (self->stages[i].out);
    }
  if (self->held != NULL)
    g_byte_array_unref (self->held);
  g_free (self);
}

static GMultiDecoderStatus
corrupt (GMultiDecoder  *self,
         const Stage    *s,
         const char     *reason,
         GError        **error)
{
  self->dead = TRUE;
  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
               _("The %s-coded body is corrupt: %s"), gmulti_coding_get_name (s->coding),
               reason);
  return GMULTI_DECODER_ERROR;
}

/* Passes on what stage @k holds and decodes its input (z.next_in) until both are used
 * up, or until a later stage or the sink stops. */
static GMultiDecoderStatus
run_stage (GMultiDecoder      *self,
           guint               k,
           GMultiDecoderSink   sink,
           gpointer            user_data,
           GError            **error)
{
  Stage *s = &self->stages[k];

  for (;;)
    {
      int ret;

      if (s->out_pos < s->out_len)
        {
          if (k + 1 == self->n_stages)
            {
              GError *local_error = NULL;
              const guint8 *data = s->out + s->out_pos;
              gsize length = s->out_len - s->out_pos;

              s->out_pos = s->out_len;
              if (!sink (data, length, user_data, &local_error))
                {
                  if (local_error == NULL)
                    return GMULTI_DECODER_STOPPED;
                  self->dead = TRUE;
                  g_propagate_error (error, local_error);
                  return GMULTI_DECODER_ERROR;
                }
            }
          else
            {
              Stage *next = &self->stages[k + 1];
              GMultiDecoderStatus status;

              next->z.next_in = s->out + s->out_pos;
              next->z.avail_in = (uInt) (s->out_len - s->out_pos);
              status = run_stage (self, k + 1, sink, user_data, error);
              s->out_pos = s->out_len - next->z.avail_in;
              if (status != GMULTI_DECODER_OK)
                return status;
            }
          continue;
        }

      if (s->ended && s->z.avail_in > 0)
        {
          /* A gzip body may be several members in a row (RFC 1952 2.2); nothing may
           * follow a zlib stream. */
          if (s->coding != GMULTI_CODING_GZIP)
            {
              self->dead = TRUE;
              g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                           _("The %s-coded body has data after its end"),
                           gmulti_coding_get_name (s->coding));
              return GMULTI_DECODER_ERROR;
            }
          inflateReset (&s->z);
          s->ended = FALSE;
        }
      /* Used up; a later stage may still hold output of its own (a sink that paused
       * after it filled its buffer), which this run must pass on as well. */
      if (s->z.avail_in == 0 && !s->full)
        return k + 1 < self->n_stages ? run_stage (self, k + 1, sink, user_data, error)
                                      : GMULTI_DECODER_OK;

      s->started = s->started || s->z.avail_in > 0;
      s->z.next_out = s->out;
      s->z.avail_out = GMULTI_DECODER_BUFFER_SIZE;
      ret = inflate (&s->z, Z_NO_FLUSH);
      s->out_pos = 0;
      s->out_len = GMULTI_DECODER_BUFFER_SIZE - s->z.avail_out;
      s->full = s->z.avail_out == 0;

      switch (ret)
        {
        case Z_OK:
          break;
        case Z_STREAM_END:
          /* All of the stream's output is in the buffer now. */
          s->ended = TRUE;
          s->full = FALSE;
          break;
        case Z_BUF_ERROR:
          /* Nothing left to do: no input and no output held back. */
          if (s->z.avail_in > 0)
            return corrupt (self, s, _("invalid data"), error);
          s->full = FALSE;
          break;
        case Z_NEED_DICT:
          return corrupt (self, s, _("it needs a preset dictionary"), error);
        case Z_MEM_ERROR:
          g_error ("zlib: out of memory");
          break;
        case Z_DATA_ERROR:
        default:
          return corrupt (self, s, s->z.msg != NULL ? s->z.msg : _("invalid data"), error);
        }
    }
}

GMultiDecoderStatus
gmulti_decoder_push (GMultiDecoder      *self,
                     const guint8       *data,
                     gsize               length,
                     GMultiDecoderSink   sink,
                     gpointer            user_data,
                     GError            **error)
{
  Stage *first;
  const guint8 *in = data;
  gsize in_length = length, done = 0;
  GMultiDecoderStatus status;

  g_return_val_if_fail (self != NULL, GMULTI_DECODER_ERROR);
  g_return_val_if_fail (data != NULL || length == 0, GMULTI_DECODER_ERROR);
  g_return_val_if_fail (sink != NULL, GMULTI_DECODER_ERROR);
  g_return_val_if_fail (!self->dead, GMULTI_DECODER_ERROR);

  first = &self->stages[0];
  if (self->held != NULL && self->held->len > 0)
    {
      if (length > 0)
        g_byte_array_append (self->held, data, (guint) length);
      in = self->held->data;
      in_length = self->held->len;
    }

  /* zlib counts input in 32 bits. One round even with no input: what the stages hold
   * is passed on. */
  do
    {
      gsize piece = MIN (in_length - done, (gsize) G_MAXUINT32);

      /* No pointer arithmetic on NULL, even adding 0. */
      first->z.next_in = in != NULL ? in + done : (const guint8 *) "";
      first->z.avail_in = (uInt) piece;
      status = run_stage (self, 0, sink, user_data, error);
      done += piece - first->z.avail_in;
    }
  while (status == GMULTI_DECODER_OK && done < in_length);
  first->z.next_in = NULL;
  first->z.avail_in = 0;

  switch (status)
    {
    case GMULTI_DECODER_OK:
      if (self->held != NULL)
        g_byte_array_set_size (self->held, 0);
      self->stopped = FALSE;
      break;
    case GMULTI_DECODER_STOPPED:
      if (self->held != NULL && in == self->held->data)
        g_byte_array_remove_range (self->held, 0, (guint) done);
      else if (done < in_length)
        {
          if (self->held == NULL)
            self->held = g_byte_array_new ();
          g_byte_array_append (self->held, in + done, (guint) (in_length - done));
        }
      self->stopped = TRUE;
      break;
    case GMULTI_DECODER_ERROR:
    default:
      self->dead = TRUE;
      break;
    }
  return status;
}

GMultiDecoderStatus
gmulti_decoder_finish (GMultiDecoder      *self,
                       GMultiDecoderSink   sink,
                       gpointer            user_data,
                       GError            **error)
{
  GMultiDecoderStatus status;

  status = gmulti_decoder_push (self, NULL, 0, sink, user_data, error);
  if (status != GMULTI_DECODER_OK)
    return status;

  for (guint i = 0; i < self->n_stages; i++)
    {
      const Stage *s = &self->stages[i];

      if (s->started && !s->ended)
        {
          self->dead = TRUE;
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL,
                       _("The %s-coded body is cut short"), gmulti_coding_get_name (s->coding));
          return GMULTI_DECODER_ERROR;
        }
    }
  return GMULTI_DECODER_OK;
}

gboolean
gmulti_decoder_is_stopped (GMultiDecoder *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->stopped;
}
