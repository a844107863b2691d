/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "gmulti-error.h"
#include "gmulti-transfer-object-private.h"
#include "engine/gmulti-body-writer.h"
#include "test-coding-util.h"

/* A hop's chain of body writers on its own: decoder stages in front of a sink that
 * pauses or fails where it is told to, the splice descriptor only a bare sink gives,
 * and the transfer's own end of the chain (progress, pause, the splice decision). */

/* A sink that records what reaches it. */
typedef struct {
  GMultiBodyWriter base;
  GByteArray *out;
  guint calls;                  /* writes with bytes */
  guint pause_every;            /* STOPPED after every so many writes; 0: never */
  guint fail_at;                /* ERROR at this write (1-based); 0: never */
  gboolean paused;              /* said STOPPED, and was not written nothing since */
  const guint8 *last_data;      /* where the last write's bytes were */
  guint finishes;
  int fd;                       /* what splice_fd answers */
  gsize spliced;
} TestSink;

static GMultiBodyStatus
test_sink_write (GMultiBodyWriter  *writer,
                 const guint8      *data,
                 gsize              length,
                 GError           **error)
{
  TestSink *self = (TestSink *) writer;

  /* Going on after a pause: a sink keeps nothing. */
  if (length == 0)
    {
      self->paused = FALSE;
      return GMULTI_BODY_OK;
    }
  /* A pause holds until the chain is resumed. */
  g_assert_false (self->paused);
  g_assert_cmpuint (length, <=, G_MAXUINT);
  self->calls++;
  self->last_data = data;
  if (self->fail_at == self->calls)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED, "sink full at %u",
                   self->calls);
      return GMULTI_BODY_ERROR;
    }
  g_byte_array_append (self->out, data, (guint) length);
  if (self->pause_every != 0 && self->calls % self->pause_every == 0)
    {
      self->paused = TRUE;
      return GMULTI_BODY_STOPPED;
    }
  return GMULTI_BODY_OK;
}

static GMultiBodyStatus
test_sink_finish (GMultiBodyWriter  *writer,
                  GError           **error)
{
  ((TestSink *) writer)->finishes++;
  return GMULTI_BODY_OK;
}

static int
test_sink_splice_fd (GMultiBodyWriter *writer)
{
  return ((TestSink *) writer)->fd;
}

static GMultiBodyStatus
test_sink_spliced (GMultiBodyWriter *writer,
                   gsize             length)
{
  ((TestSink *) writer)->spliced += length;
  return GMULTI_BODY_OK;
}

static const GMultiBodyWriterOps test_sink_ops = {
  .write = test_sink_write,
  .finish = test_sink_finish,
  .splice_fd = test_sink_splice_fd,
  .spliced = test_sink_spliced,
};

/* A sink with no descriptor to offer. */
static const GMultiBodyWriterOps test_copy_sink_ops = {
  .write = test_sink_write,
  .finish = test_sink_finish,
};

static void
test_sink_init (TestSink *sink,
                guint     pause_every)
{
  memset (sink, 0, sizeof *sink);
  sink->base.ops = &test_sink_ops;
  sink->out = g_byte_array_new ();
  sink->pause_every = pause_every;
  sink->fd = -1;
}

static void
test_sink_clear_out (TestSink *sink)
{
  g_byte_array_unref (sink->out);
}

/* Compressible, but not a single repeated byte; many decoder buffers long. */
static GBytes *
text (gsize size)
{
  GString *s = g_string_sized_new (size + 64);

  for (guint i = 0; s->len < size; i++)
    g_string_append_printf (s, "%u green bottles standing on the wall, %u\n", i % 997, i);
  g_string_truncate (s, size);
  return g_string_free_to_bytes (s);
}

/* Resumes a STOPPED chain until it passed on everything it kept. */
static GMultiBodyStatus
resume_all (GMultiBodyChain *chain,
            GError         **error)
{
  GMultiBodyStatus status;

  do
    {
      g_assert_true (gmulti_body_chain_is_stopped (chain));
      status = gmulti_body_chain_resume (chain, error);
    }
  while (status == GMULTI_BODY_STOPPED);
  g_assert_false (gmulti_body_chain_is_stopped (chain));
  return status;
}

/* Writes @coded into @chain in two parts split at @split, going on after every pause;
 * the caller never gives a byte twice. Then checks that everything decodable already
 * reached the sink, and finishes. */
static void
write_split (GMultiBodyChain *chain,
             GBytes          *coded,
             gsize            split,
             TestSink        *sink,
             GBytes          *plain)
{
  g_autoptr(GError) error = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (coded, &size);
  const gsize parts[][2] = { { 0, split }, { split, size - split } };
  GMultiBodyStatus status;

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      if (parts[i][1] == 0)
        continue;
      status = gmulti_body_chain_write (chain, data + parts[i][0], parts[i][1], &error);
      if (status == GMULTI_BODY_STOPPED)
        status = resume_all (chain, &error);
      g_assert_no_error (error);
      g_assert_cmpint (status, ==, GMULTI_BODY_OK);
    }
  /* The whole coded body went in, and no stage still holds output. */
  g_assert_cmpmem (sink->out->data, sink->out->len, g_bytes_get_data (plain, NULL),
                   g_bytes_get_size (plain));

  while ((status = gmulti_body_chain_finish (chain, &error)) == GMULTI_BODY_STOPPED)
    ;
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, GMULTI_BODY_OK);
  g_assert_cmpuint (sink->finishes, ==, 1);
}

/* A body without codings goes to the sink as the protocol gave it: the same bytes
 * at the same address, once, and a pause stops it after the piece. */
static void
test_plain (void)
{
  static const guint8 body[] = "no coding at all";
  GMultiBodyChain chain = { 0 };
  g_autoptr(GError) error = NULL;
  TestSink sink;

  test_sink_init (&sink, 2);
  g_assert_false (gmulti_body_chain_is_built (&chain));
  gmulti_body_chain_build (&chain, NULL, 0, &sink.base);
  g_assert_true (gmulti_body_chain_is_built (&chain));
  g_assert_true (chain.head == &sink.base);

  g_assert_cmpint (gmulti_body_chain_write (&chain, body, 3, &error), ==, GMULTI_BODY_OK);
  g_assert_true (sink.last_data == body);
  g_assert_cmpint (gmulti_body_chain_write (&chain, body + 3, 4, &error), ==,
                   GMULTI_BODY_STOPPED);
  g_assert_true (sink.last_data == body + 3);
  g_assert_true (gmulti_body_chain_is_stopped (&chain));
  /* Nothing was kept: resuming gives the sink nothing more. */
  g_assert_cmpint (gmulti_body_chain_resume (&chain, &error), ==, GMULTI_BODY_OK);
  g_assert_false (gmulti_body_chain_is_stopped (&chain));
  g_assert_cmpuint (sink.calls, ==, 2);
  g_assert_cmpint (gmulti_body_chain_write (&chain, body + 7, sizeof body - 8, &error), ==,
                   GMULTI_BODY_OK);
  g_assert_cmpint (gmulti_body_chain_finish (&chain, &error), ==, GMULTI_BODY_OK);
  g_assert_no_error (error);
  g_assert_cmpmem (sink.out->data, sink.out->len, body, sizeof body - 1);
  g_assert_cmpuint (sink.finishes, ==, 1);

  gmulti_body_chain_clear (&chain);
  g_assert_false (gmulti_body_chain_is_built (&chain));
  test_sink_clear_out (&sink);
}

/* Decoder stages in front of a sink that pauses after every piece, or every third,
 * with the coded body split at every kind of offset: the sink gets the body byte for
 * byte. Two chains in a row stand for a transfer coding over a content coding. */
static void
test_decode_pause (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  static const GMultiCoding deflate[] = { GMULTI_CODING_DEFLATE };
  static const GMultiCoding gzip_deflate[] = { GMULTI_CODING_GZIP, GMULTI_CODING_DEFLATE };
  static const guint pauses[] = { 0, 1, 3 };
  g_autoptr(GBytes) plain = text (600 * 1024 + 5);
  g_autoptr(GBytes) gzipped = test_zlib_encode (plain, TRUE);
  g_autoptr(GBytes) both = test_zlib_encode (gzipped, FALSE);
  gsize size = g_bytes_get_size (gzipped);
  gsize splits[] = { 0, 1, 2, 9, 10, 11, size / 3, size / 2, size - 9, size - 1, size };

  for (guint p = 0; p < G_N_ELEMENTS (pauses); p++)
    for (guint s = 0; s < G_N_ELEMENTS (splits); s++)
      {
        GMultiBodyChain chain = { 0 };
        TestSink sink;

        /* One stage for both codings of one field. */
        test_sink_init (&sink, pauses[p]);
        gmulti_body_chain_build (&chain, gzip_deflate, 2, &sink.base);
        write_split (&chain, both, MIN (splits[s], g_bytes_get_size (both)), &sink, plain);
        if (pauses[p] != 0)
          g_assert_cmpuint (sink.calls, >, 9);
        gmulti_body_chain_clear (&chain);
        test_sink_clear_out (&sink);
      }

  for (guint p = 0; p < G_N_ELEMENTS (pauses); p++)
    for (guint s = 0; s < G_N_ELEMENTS (splits); s++)
      {
        GMultiBodyChain inner = { 0 }, outer = { 0 };
        TestSink sink;

        /* A stage per field: deflate undone first, gzip after, each stopping where it
         * was when the sink paused. */
        test_sink_init (&sink, pauses[p]);
        gmulti_body_chain_build (&inner, gzip, 1, &sink.base);
        gmulti_body_chain_build (&outer, deflate, 1, inner.head);
        write_split (&outer, both, MIN (splits[s], g_bytes_get_size (both)), &sink, plain);
        /* Each chain frees the stages it built, and only those. */
        gmulti_body_chain_clear (&outer);
        gmulti_body_chain_clear (&inner);
        test_sink_clear_out (&sink);
      }
}

/* The sink's error comes out of the chain as it was, through the decoder, and a
 * decoder's own error (corrupt or cut-short data) names its coding. */
static void
test_errors (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  g_autoptr(GBytes) plain = text (300 * 1024);
  g_autoptr(GBytes) coded = test_zlib_encode (plain, TRUE);
  gsize size;
  const guint8 *data = g_bytes_get_data (coded, &size);
  static const guint8 garbage[] = "this is not gzip data at all";

  for (guint with_coding = 0; with_coding < 2; with_coding++)
    {
      GMultiBodyChain chain = { 0 };
      g_autoptr(GError) error = NULL;
      TestSink sink;

      test_sink_init (&sink, 0);
      sink.fail_at = 2;
      if (with_coding)
        {
          gmulti_body_chain_build (&chain, gzip, 1, &sink.base);
          g_assert_cmpint (gmulti_body_chain_write (&chain, data, size, &error), ==,
                           GMULTI_BODY_ERROR);
        }
      else
        {
          gmulti_body_chain_build (&chain, NULL, 0, &sink.base);
          g_assert_cmpint (gmulti_body_chain_write (&chain, data, 10, &error), ==,
                           GMULTI_BODY_OK);
          g_assert_cmpint (gmulti_body_chain_write (&chain, data + 10, 10, &error), ==,
                           GMULTI_BODY_ERROR);
        }
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED);
      g_assert_cmpstr (error->message, ==, "sink full at 2");
      g_assert_false (gmulti_body_chain_is_stopped (&chain));
      gmulti_body_chain_clear (&chain);
      test_sink_clear_out (&sink);
    }

  {
    GMultiBodyChain chain = { 0 };
    g_autoptr(GError) error = NULL;
    TestSink sink;

    test_sink_init (&sink, 0);
    gmulti_body_chain_build (&chain, gzip, 1, &sink.base);
    g_assert_cmpint (gmulti_body_chain_write (&chain, garbage, sizeof garbage - 1, &error),
                     ==, GMULTI_BODY_ERROR);
    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "gzip"));
    g_assert_cmpuint (sink.finishes, ==, 0);
    gmulti_body_chain_clear (&chain);
    test_sink_clear_out (&sink);
  }

  {
    GMultiBodyChain chain = { 0 };
    g_autoptr(GError) error = NULL;
    TestSink sink;

    test_sink_init (&sink, 0);
    gmulti_body_chain_build (&chain, gzip, 1, &sink.base);
    g_assert_cmpint (gmulti_body_chain_write (&chain, data, size - 3, &error), ==,
                     GMULTI_BODY_OK);
    g_assert_cmpint (gmulti_body_chain_finish (&chain, &error), ==, GMULTI_BODY_ERROR);
    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "cut short"));
    /* The sink never hears of an end that did not come. */
    g_assert_cmpuint (sink.finishes, ==, 0);
    gmulti_body_chain_clear (&chain);
    test_sink_clear_out (&sink);
  }
}

/* Only a bare sink offers a descriptor to splice into; spliced bytes are told to it. */
static void
test_splice_fd (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  GMultiBodyChain chain = { 0 };
  TestSink sink;

  test_sink_init (&sink, 0);
  sink.fd = 7;
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, -1);

  gmulti_body_chain_build (&chain, NULL, 0, &sink.base);
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, 7);
  g_assert_cmpint (gmulti_body_chain_spliced (&chain, 4096), ==, GMULTI_BODY_OK);
  g_assert_cmpuint (sink.spliced, ==, 4096);

  /* A decoder must see the bytes. */
  gmulti_body_chain_build (&chain, gzip, 1, &sink.base);
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, -1);

  /* A sink with nothing to offer. */
  sink.base.ops = &test_copy_sink_ops;
  gmulti_body_chain_build (&chain, NULL, 0, &sink.base);
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, -1);

  gmulti_body_chain_clear (&chain);
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, -1);
  test_sink_clear_out (&sink);
}

static void
data_cb (GMultiTransfer *transfer,
         GBytes         *chunk,
         gpointer        user_data)
{
  *(gsize *) user_data += g_bytes_get_size (chunk);
}

/* The transfer's end of a chain: a file stream offers its descriptor while nobody
 * listens to "data" and the stream is open; bytes written or spliced are counted; a
 * pause stops the chain after the piece. */
static void
test_transfer_sink (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://127.0.0.1:1/");
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileOutputStream) stream = NULL;
  GMultiTransferBody body;
  GMultiBodyChain chain = { 0 };
  gsize seen = 0;
  gulong handler;
  int fd, tmp;

  tmp = g_file_open_tmp ("gmulti-body-writer-XXXXXX", &path, &error);
  g_assert_no_error (error);
  close (tmp);
  file = g_file_new_for_path (path);
  stream = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  g_assert_no_error (error);

  /* Collected in memory: nothing to splice into. */
  gmulti_body_chain_build (&chain, NULL, 0, gmulti_transfer_body_init (&body, transfer));
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, -1);
  g_assert_cmpint (gmulti_body_chain_write (&chain, (const guint8 *) "abc", 3, &error), ==,
                   GMULTI_BODY_OK);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 3);

  gmulti_transfer_set_output_stream (transfer, G_OUTPUT_STREAM (stream));
  fd = gmulti_body_chain_splice_fd (&chain);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (gmulti_body_chain_spliced (&chain, 100), ==, GMULTI_BODY_OK);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 103);

  handler = g_signal_connect (transfer, "data", G_CALLBACK (data_cb), &seen);
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, -1);
  g_assert_cmpint (gmulti_body_chain_write (&chain, (const guint8 *) "defg", 4, &error), ==,
                   GMULTI_BODY_OK);
  g_assert_cmpuint (seen, ==, 4);
  g_signal_handler_disconnect (transfer, handler);
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, fd);

  gmulti_transfer_pause (transfer);
  g_assert_cmpint (gmulti_body_chain_write (&chain, (const guint8 *) "h", 1, &error), ==,
                   GMULTI_BODY_STOPPED);
  g_assert_cmpint (gmulti_body_chain_spliced (&chain, 10), ==, GMULTI_BODY_STOPPED);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 118);
  gmulti_transfer_resume (transfer);
  g_assert_cmpint (gmulti_body_chain_resume (&chain, &error), ==, GMULTI_BODY_OK);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 118);

  /* A decoder in front: the bytes must pass through memory. */
  gmulti_body_chain_build (&chain, gzip, 1, gmulti_transfer_body_init (&body, transfer));
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, -1);
  gmulti_body_chain_build (&chain, NULL, 0, gmulti_transfer_body_init (&body, transfer));
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, fd);

  /* Closed, its descriptor number may name another file soon. */
  g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gmulti_body_chain_splice_fd (&chain), ==, -1);
  g_assert_cmpint (gmulti_body_chain_write (&chain, (const guint8 *) "i", 1, &error), ==,
                   GMULTI_BODY_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_OUTPUT_FAILED);

  gmulti_body_chain_clear (&chain);
  gmulti_transfer_set_output_stream (transfer, NULL);
  g_unlink (path);
}

static gboolean
abort_cb (GMultiTransfer *transfer,
          const guint8   *data,
          gsize           length,
          gpointer        user_data)
{
  return FALSE;
}

/* A write function that says stop fails the transfer with an error that says so. */
static void
test_transfer_write_func_abort (void)
{
  g_autoptr(GMultiTransfer) transfer = gmulti_transfer_new ("http://127.0.0.1:1/");
  g_autoptr(GError) error = NULL;
  GMultiTransferBody body;
  GMultiBodyChain chain = { 0 };

  gmulti_transfer_set_write_func (transfer, abort_cb, NULL, NULL);
  gmulti_body_chain_build (&chain, NULL, 0, gmulti_transfer_body_init (&body, transfer));
  g_assert_cmpint (gmulti_body_chain_write (&chain, (const guint8 *) "x", 1, &error), ==,
                   GMULTI_BODY_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED);
  gmulti_body_chain_clear (&chain);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/BodyWriter/plain", test_plain);
  g_test_add_func ("/GMulti/BodyWriter/decode-pause", test_decode_pause);
  g_test_add_func ("/GMulti/BodyWriter/errors", test_errors);
  g_test_add_func ("/GMulti/BodyWriter/splice-fd", test_splice_fd);
  g_test_add_func ("/GMulti/BodyWriter/transfer-sink", test_transfer_sink);
  g_test_add_func ("/GMulti/BodyWriter/transfer-write-func-abort",
                   test_transfer_write_func_abort);

  return g_test_run ();
}
