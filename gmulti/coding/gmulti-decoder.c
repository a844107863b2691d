/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#define ZLIB_CONST
#include <zlib.h>
#if HAVE_BROTLI
#include <brotli/decode.h>
#endif
#if HAVE_ZSTD
#include <zstd.h>
#endif

#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-decoder.h"

/* One coding undone. Its output waits in its own buffer until the next stage (or the
 * sink) took it, so a sink that pauses leaves every stage where it was: only the
 * first stage's input, which belongs to the caller, has to be copied. */
typedef struct {
  union {
    z_stream z;              /* gzip, deflate */
#if HAVE_BROTLI
    BrotliDecoderState *br;
#endif
#if HAVE_ZSTD
    ZSTD_DStream *zstd;
#endif
  } u;
  const guint8 *next_in;     /* input not taken yet; the caller's or the stage before's */
  gsize avail_in;
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
  int error_code;            /* GMultiError of a corrupt body */
};

static gboolean
lookup (const char   *name,
        gsize         name_len,
        gboolean      content,
        GMultiCoding *coding)
{
  static const struct {
    const char *name;
    GMultiCoding coding;
  } names[] = {
    { "gzip", GMULTI_CODING_GZIP },
    { "x-gzip", GMULTI_CODING_GZIP },
    { "deflate", GMULTI_CODING_DEFLATE },
#if HAVE_BROTLI
    { "br", GMULTI_CODING_BR },
#endif
#if HAVE_ZSTD
    { "zstd", GMULTI_CODING_ZSTD },
#endif
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strlen (names[i].name) == name_len &&
        g_ascii_strncasecmp (name, names[i].name, name_len) == 0)
      {
        /* br and zstd are registered as content codings only. */
        if (!content && names[i].coding != GMULTI_CODING_GZIP &&
            names[i].coding != GMULTI_CODING_DEFLATE)
          return FALSE;
        *coding = names[i].coding;
        return TRUE;
      }
  return FALSE;
}

gboolean
gmulti_coding_from_name (const char   *name,
                         gsize         name_len,
                         GMultiCoding *coding)
{
  return lookup (name, name_len, FALSE, coding);
}

gboolean
gmulti_content_coding_from_name (const char   *name,
                                 gsize         name_len,
                                 GMultiCoding *coding)
{
  return lookup (name, name_len, TRUE, coding);
}

const char *
gmulti_coding_get_name (GMultiCoding coding)
{
  switch (coding)
    {
    case GMULTI_CODING_GZIP:
      return "gzip";
    case GMULTI_CODING_DEFLATE:
      return "deflate";
    case GMULTI_CODING_BR:
      return "br";
    case GMULTI_CODING_ZSTD:
    default:
      return "zstd";
    }
}

const char *
gmulti_coding_accept_list (void)
{
  /* What this build undoes, best first: the value of Accept-Encoding. */
  return "gzip, deflate"
#if HAVE_BROTLI
         ", br"
#endif
#if HAVE_ZSTD
         ", zstd"
#endif
         ;
}

static void
stage_init (Stage *s)
{
  switch (s->coding)
    {
    case GMULTI_CODING_GZIP:
    case GMULTI_CODING_DEFLATE:
      {
        /* 15: the largest window; +16: gzip's wrapper instead of zlib's. */
        int ret = inflateInit2 (&s->u.z, s->coding == GMULTI_CODING_GZIP ? 15 + 16 : 15);

        if (ret != Z_OK)
          g_error ("zlib: inflateInit2() failed: %d", ret);
      }
      break;
#if HAVE_BROTLI
    case GMULTI_CODING_BR:
      s->u.br = BrotliDecoderCreateInstance (NULL, NULL, NULL);
      if (s->u.br == NULL)
        g_error ("brotli: out of memory");
      break;
#endif
#if HAVE_ZSTD
    case GMULTI_CODING_ZSTD:
      s->u.zstd = ZSTD_createDStream ();
      if (s->u.zstd == NULL)
        g_error ("zstd: out of memory");
      /* RFC 8878 7.2: a window above 8 MiB need not be decoded; it bounds our memory. */
      ZSTD_DCtx_setParameter (s->u.zstd, ZSTD_d_windowLogMax, 23);
      break;
#endif
    default:
      g_assert_not_reached ();
    }
}

static void
stage_clear (Stage *s)
{
  switch (s->coding)
    {
    case GMULTI_CODING_GZIP:
    case GMULTI_CODING_DEFLATE:
      inflateEnd (&s->u.z);
      break;
#if HAVE_BROTLI
    case GMULTI_CODING_BR:
      BrotliDecoderDestroyInstance (s->u.br);
      break;
#endif
#if HAVE_ZSTD
    case GMULTI_CODING_ZSTD:
      ZSTD_freeDStream (s->u.zstd);
      break;
#endif
    default:
      break;
    }
}

/* One coded stream may follow another: gzip members (RFC 1952 2.2) and zstd frames
 * (RFC 8878 3); nothing may follow a zlib or brotli stream. */
static gboolean
stage_restart (Stage *s)
{
  if (s->coding == GMULTI_CODING_GZIP)
    {
      inflateReset (&s->u.z);
      return TRUE;
    }
  return s->coding == GMULTI_CODING_ZSTD;
}

typedef enum {
  STEP_OK,        /* went on; out[0, out_len) is new output */
  STEP_END,       /* the stream ended; out holds its last output */
  STEP_IDLE,      /* nothing to do without more input */
  STEP_CORRUPT,   /* *reason says why */
} StepResult;

/* One call into the library: decodes from next_in into the whole of s->out. */
static StepResult
stage_step (Stage       *s,
            const char **reason)
{
  gsize out_len = 0;
  StepResult result = STEP_OK;

  switch (s->coding)
    {
    case GMULTI_CODING_GZIP:
    case GMULTI_CODING_DEFLATE:
      {
        /* zlib counts in 32 bits. */
        uInt in = (uInt) MIN (s->avail_in, (gsize) G_MAXUINT32);
        int ret;

        s->u.z.next_in = s->next_in;
        s->u.z.avail_in = in;
        s->u.z.next_out = s->out;
        s->u.z.avail_out = GMULTI_DECODER_BUFFER_SIZE;
        ret = inflate (&s->u.z, Z_NO_FLUSH);
        s->next_in += in - s->u.z.avail_in;
        s->avail_in -= in - s->u.z.avail_in;
        out_len = GMULTI_DECODER_BUFFER_SIZE - s->u.z.avail_out;
        switch (ret)
          {
          case Z_OK:
            break;
          case Z_STREAM_END:
            result = STEP_END;
            break;
          case Z_BUF_ERROR:
            /* Nothing left to do: no input and no output held back. */
            if (s->avail_in > 0)
              {
                *reason = _("invalid data");
                return STEP_CORRUPT;
              }
            result = STEP_IDLE;
            break;
          case Z_NEED_DICT:
            *reason = _("it needs a preset dictionary");
            return STEP_CORRUPT;
          case Z_MEM_ERROR:
            g_error ("zlib: out of memory");
            break;
          case Z_DATA_ERROR:
          default:
            *reason = s->u.z.msg != NULL ? s->u.z.msg : _("invalid data");
            return STEP_CORRUPT;
          }
      }
      break;
#if HAVE_BROTLI
    case GMULTI_CODING_BR:
      {
        size_t avail_in = s->avail_in, avail_out = GMULTI_DECODER_BUFFER_SIZE;
        const uint8_t *next_in = s->next_in;
        uint8_t *next_out = s->out;
        BrotliDecoderResult ret;

        ret = BrotliDecoderDecompressStream (s->u.br, &avail_in, &next_in, &avail_out,
                                             &next_out, NULL);
        s->next_in = next_in;
        s->avail_in = avail_in;
        out_len = GMULTI_DECODER_BUFFER_SIZE - avail_out;
        switch (ret)
          {
          case BROTLI_DECODER_RESULT_SUCCESS:
            result = STEP_END;
            break;
          case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
            break;
          case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
            result = out_len > 0 ? STEP_OK : STEP_IDLE;
            break;
          case BROTLI_DECODER_RESULT_ERROR:
          default:
            *reason = BrotliDecoderErrorString (BrotliDecoderGetErrorCode (s->u.br));
            return STEP_CORRUPT;
          }
      }
      break;
#endif
#if HAVE_ZSTD
    case GMULTI_CODING_ZSTD:
      {
        ZSTD_inBuffer in = { s->next_in, s->avail_in, 0 };
        ZSTD_outBuffer out = { s->out, GMULTI_DECODER_BUFFER_SIZE, 0 };
        size_t ret = ZSTD_decompressStream (s->u.zstd, &out, &in);

        s->next_in += in.pos;
        s->avail_in -= in.pos;
        out_len = out.pos;
        if (ZSTD_isError (ret))
          {
            *reason = ZSTD_getErrorName (ret);
            return STEP_CORRUPT;
          }
        /* 0: a frame is complete and all of its output is out. */
        if (ret == 0)
          result = STEP_END;
        else if (out_len == 0 && in.pos == 0)
          result = STEP_IDLE;
      }
      break;
#endif
    default:
      g_assert_not_reached ();
    }

  s->out_pos = 0;
  s->out_len = out_len;
  s->full = result == STEP_OK && out_len == GMULTI_DECODER_BUFFER_SIZE;
  return result;
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
  self->error_code = GMULTI_ERROR_PROTOCOL;
  for (guint i = 0; i < n_codings; i++)
    {
      Stage *s = &self->stages[i];

      s->coding = codings[n_codings - 1 - i];
      stage_init (s);
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
      stage_clear (&self->stages[i]);
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
  g_set_error (error, GMULTI_ERROR, self->error_code,
               _("The %s-coded body is corrupt: %s"), gmulti_coding_get_name (s->coding),
               reason);
  return GMULTI_DECODER_ERROR;
}

/* Passes on what stage @k holds and decodes its input (next_in) until both are used
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
      const char *reason = NULL;

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

              next->next_in = s->out + s->out_pos;
              next->avail_in = s->out_len - s->out_pos;
              status = run_stage (self, k + 1, sink, user_data, error);
              s->out_pos = s->out_len - next->avail_in;
              if (status != GMULTI_DECODER_OK)
                return status;
            }
          continue;
        }

      if (s->ended && s->avail_in > 0)
        {
          if (!stage_restart (s))
            {
              self->dead = TRUE;
              g_set_error (error, GMULTI_ERROR, self->error_code,
                           _("The %s-coded body has data after its end"),
                           gmulti_coding_get_name (s->coding));
              return GMULTI_DECODER_ERROR;
            }
          s->ended = FALSE;
        }
      /* Used up; a later stage may still hold output of its own (a sink that paused
       * after it filled its buffer), which this run must pass on as well. */
      if (s->avail_in == 0 && !s->full)
        return k + 1 < self->n_stages ? run_stage (self, k + 1, sink, user_data, error)
                                      : GMULTI_DECODER_OK;

      s->started = s->started || s->avail_in > 0;
      switch (stage_step (s, &reason))
        {
        case STEP_OK:
          break;
        case STEP_END:
          /* All of the stream's output is in the buffer now. */
          s->ended = TRUE;
          break;
        case STEP_IDLE:
          if (s->avail_in > 0 && s->out_len == 0)
            return corrupt (self, s, _("invalid data"), error);
          break;
        case STEP_CORRUPT:
        default:
          return corrupt (self, s, reason != NULL ? reason : _("invalid data"), error);
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

  /* One round even with no input: what the stages hold is passed on. No pointer
   * arithmetic on NULL, even adding 0. */
  first->next_in = in != NULL ? in : (const guint8 *) "";
  first->avail_in = in_length;
  status = run_stage (self, 0, sink, user_data, error);
  done = in_length - first->avail_in;
  first->next_in = NULL;
  first->avail_in = 0;

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
          g_set_error (error, GMULTI_ERROR, self->error_code,
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

void
gmulti_decoder_set_error_code (GMultiDecoder *self,
                               int            code)
{
  g_return_if_fail (self != NULL);

  self->error_code = code;
}
