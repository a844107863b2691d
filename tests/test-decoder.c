/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "gmulti-error.h"
#include "coding/gmulti-decoder.h"
#include "test-coding-util.h"

/* The decoder stage on its own: data coded by zlib's encoder comes back byte for byte
 * whatever the pieces it arrives in and wherever its sink pauses; broken data fails
 * with a message that says how. */

/* @plain coded with each of @codings in turn. */
static GBytes *
encode_all (GBytes             *plain,
            const GMultiCoding *codings,
            guint               n_codings)
{
  GBytes *coded = g_bytes_ref (plain);

  for (guint i = 0; i < n_codings; i++)
    {
      GBytes *next;

#if TEST_HAVE_ENCODERS
      if (codings[i] == GMULTI_CODING_BR)
        next = test_brotli_encode (coded);
      else if (codings[i] == GMULTI_CODING_ZSTD)
        next = test_zstd_encode (coded);
      else
#endif
        next = test_zlib_encode (coded, codings[i] == GMULTI_CODING_GZIP);

      g_bytes_unref (coded);
      coded = next;
    }
  return coded;
}

/* Compressible, but not a single repeated byte. */
static GBytes *
text (gsize size)
{
  GString *s = g_string_sized_new (size + 64);

  for (guint i = 0; s->len < size; i++)
    g_string_append_printf (s, "%u bottles of beer on the wall, %u bottles of beer\n",
                            i % 1000, i % 1000);
  g_string_truncate (s, size);
  return g_string_free_to_bytes (s);
}

/* Random bytes do not compress: the coded form is larger than the plain one. */
static GBytes *
noise (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) g_test_rand_int_range (0, 256);
  return g_bytes_new_take (data, size);
}

typedef struct {
  GByteArray *out;
  guint calls;
  guint pause_every;            /* 0: never */
  gsize largest;
  gboolean fail;
} Sink;

static gboolean
sink_cb (const guint8  *data,
         gsize          length,
         gpointer       user_data,
         GError       **error)
{
  Sink *sink = user_data;

  g_assert_cmpuint (length, >, 0);
  g_assert_cmpuint (length, <=, GMULTI_DECODER_BUFFER_SIZE);
  sink->calls++;
  sink->largest = MAX (sink->largest, length);
  g_byte_array_append (sink->out, data, (guint) length);
  if (sink->fail)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk full");
      return FALSE;
    }
  return sink->pause_every == 0 || sink->calls % sink->pause_every != 0;
}

/* Pushes @coded in pieces of @piece bytes (0: whole), going on after every pause,
 * then finishes. Returns the last status; the output is in @sink. */
static GMultiDecoderStatus
decode (const GMultiCoding  *codings,
        guint                n_codings,
        GBytes              *coded,
        gsize                piece,
        Sink                *sink,
        GError             **error)
{
  g_autoptr(GMultiDecoder) decoder = gmulti_decoder_new (codings, n_codings);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (coded, &size);
  GMultiDecoderStatus status;

  for (gsize offset = 0; offset < size;)
    {
      gsize n = piece == 0 ? size : MIN (piece, size - offset);

      status = gmulti_decoder_push (decoder, data + offset, n, sink_cb, sink, error);
      offset += n;
      /* Sometimes the next bytes come before the pause is over. */
      while (status == GMULTI_DECODER_STOPPED && (offset == size || (offset / n) % 3 != 0))
        {
          g_assert_true (gmulti_decoder_is_stopped (decoder));
          status = gmulti_decoder_push (decoder, NULL, 0, sink_cb, sink, error);
        }
      if (status == GMULTI_DECODER_ERROR)
        return status;
    }
  do
    status = gmulti_decoder_finish (decoder, sink_cb, sink, error);
  while (status == GMULTI_DECODER_STOPPED);
  g_assert_false (gmulti_decoder_is_stopped (decoder));
  return status;
}

static void
sink_init (Sink  *sink,
           guint  pause_every)
{
  memset (sink, 0, sizeof *sink);
  sink->out = g_byte_array_new ();
  sink->pause_every = pause_every;
}

static void
assert_round_trip (const GMultiCoding *codings,
                   guint               n_codings,
                   GBytes             *plain,
                   gsize               piece,
                   guint               pause_every)
{
  g_autoptr(GBytes) coded = encode_all (plain, codings, n_codings);
  g_autoptr(GError) error = NULL;
  Sink sink;

  sink_init (&sink, pause_every);
  g_assert_cmpint (decode (codings, n_codings, coded, piece, &sink, &error), ==,
                   GMULTI_DECODER_OK);
  g_assert_no_error (error);
  g_assert_cmpmem (sink.out->data, sink.out->len, g_bytes_get_data (plain, NULL),
                   g_bytes_get_size (plain));
  g_byte_array_unref (sink.out);
}

static void
test_names (void)
{
  GMultiCoding coding;

  g_assert_true (gmulti_coding_from_name ("gzip", 4, &coding));
  g_assert_cmpint (coding, ==, GMULTI_CODING_GZIP);
  g_assert_true (gmulti_coding_from_name ("X-Gzip", 6, &coding));
  g_assert_cmpint (coding, ==, GMULTI_CODING_GZIP);
  g_assert_true (gmulti_coding_from_name ("DEFLATE", 7, &coding));
  g_assert_cmpint (coding, ==, GMULTI_CODING_DEFLATE);
  g_assert_true (gmulti_coding_from_name ("gzipped", 4, &coding));
  g_assert_false (gmulti_coding_from_name ("gzipped", 7, &coding));
  g_assert_false (gmulti_coding_from_name ("br", 2, &coding));
  g_assert_false (gmulti_coding_from_name ("compress", 8, &coding));
  g_assert_false (gmulti_coding_from_name ("identity", 8, &coding));
  g_assert_false (gmulti_coding_from_name ("gzip;q=1", 8, &coding));
  g_assert_false (gmulti_coding_from_name ("", 0, &coding));
  g_assert_cmpstr (gmulti_coding_get_name (GMULTI_CODING_GZIP), ==, "gzip");
  g_assert_cmpstr (gmulti_coding_get_name (GMULTI_CODING_DEFLATE), ==, "deflate");
}

/* Every stack of codings, fed whole, in odd pieces and byte by byte, with and without
 * pauses; the output is many buffers long. */
static void
test_round_trip (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  static const GMultiCoding deflate[] = { GMULTI_CODING_DEFLATE };
  static const GMultiCoding deflate_gzip[] = { GMULTI_CODING_DEFLATE, GMULTI_CODING_GZIP };
  static const GMultiCoding four[] = { GMULTI_CODING_GZIP, GMULTI_CODING_DEFLATE,
                                       GMULTI_CODING_GZIP, GMULTI_CODING_GZIP };
  static const struct {
    const GMultiCoding *codings;
    guint n;
  } stacks[] = {
    { gzip, 1 }, { deflate, 1 }, { deflate_gzip, 2 }, { four, 4 },
  };
  g_autoptr(GBytes) big = text (1024 * 1024 + 17);
  g_autoptr(GBytes) random = noise (200 * 1024);
  g_autoptr(GBytes) small = text (3000);
  static const gsize pieces[] = { 0, 1, 7, 1000, 65536 };
  static const guint pauses[] = { 0, 1, 3 };

  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    for (guint p = 0; p < G_N_ELEMENTS (pieces); p++)
      for (guint q = 0; q < G_N_ELEMENTS (pauses); q++)
        {
          /* Byte by byte only where it is quick. */
          if (pieces[p] != 1)
            assert_round_trip (stacks[i].codings, stacks[i].n, big, pieces[p], pauses[q]);
          assert_round_trip (stacks[i].codings, stacks[i].n, random, pieces[p] == 1 ? 997 : pieces[p],
                             pauses[q]);
          assert_round_trip (stacks[i].codings, stacks[i].n, small, pieces[p], pauses[q]);
        }
}

/* Brotli and zstd, alone and under gzip, in the same pieces and pauses; two zstd
 * frames in a row are one body; a brotli stream with bytes after it, and each cut
 * short, fail. */
static void
test_br_zstd (void)
{
#if TEST_HAVE_ENCODERS && HAVE_BROTLI && HAVE_ZSTD
  static const GMultiCoding br[] = { GMULTI_CODING_BR };
  static const GMultiCoding zstd[] = { GMULTI_CODING_ZSTD };
  static const GMultiCoding gzip_br[] = { GMULTI_CODING_GZIP, GMULTI_CODING_BR };
  static const GMultiCoding zstd_gzip[] = { GMULTI_CODING_ZSTD, GMULTI_CODING_GZIP };
  static const struct {
    const GMultiCoding *codings;
    guint n;
  } stacks[] = {
    { br, 1 }, { zstd, 1 }, { gzip_br, 2 }, { zstd_gzip, 2 },
  };
  g_autoptr(GBytes) big = text (1024 * 1024 + 17);
  g_autoptr(GBytes) random = noise (200 * 1024);
  g_autoptr(GBytes) small = text (3000);
  static const gsize pieces[] = { 0, 1, 7, 65536 };
  static const guint pauses[] = { 0, 1, 3 };
  GMultiCoding coding;

  g_assert_true (gmulti_content_coding_from_name ("BR", 2, &coding));
  g_assert_cmpint (coding, ==, GMULTI_CODING_BR);
  g_assert_true (gmulti_content_coding_from_name ("zstd", 4, &coding));
  g_assert_cmpint (coding, ==, GMULTI_CODING_ZSTD);
  /* Not transfer codings. */
  g_assert_false (gmulti_coding_from_name ("br", 2, &coding));
  g_assert_cmpstr (gmulti_coding_accept_list (), ==, "gzip, deflate, br, zstd");

  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    for (guint p = 0; p < G_N_ELEMENTS (pieces); p++)
      for (guint q = 0; q < G_N_ELEMENTS (pauses); q++)
        {
          if (pieces[p] != 1)
            assert_round_trip (stacks[i].codings, stacks[i].n, big, pieces[p], pauses[q]);
          assert_round_trip (stacks[i].codings, stacks[i].n, random,
                             pieces[p] == 1 ? 997 : pieces[p], pauses[q]);
          assert_round_trip (stacks[i].codings, stacks[i].n, small, pieces[p], pauses[q]);
        }

  {
    g_autoptr(GBytes) frame = test_zstd_encode (small);
    g_autoptr(GByteArray) two = g_byte_array_new ();
    g_autoptr(GMultiDecoder) decoder = gmulti_decoder_new (zstd, 1);
    Sink sink;

    g_byte_array_append (two, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
    g_byte_array_append (two, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
    sink_init (&sink, 0);
    g_assert_cmpint (gmulti_decoder_push (decoder, two->data, two->len, sink_cb, &sink, NULL),
                     ==, GMULTI_DECODER_OK);
    g_assert_cmpint (gmulti_decoder_finish (decoder, sink_cb, &sink, NULL), ==,
                     GMULTI_DECODER_OK);
    g_assert_cmpuint (sink.out->len, ==, 2 * g_bytes_get_size (small));
    g_byte_array_unref (sink.out);
  }

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GBytes) coded = i == 0 ? test_brotli_encode (small) : test_zstd_encode (small);
      g_autoptr(GMultiDecoder) cut = gmulti_decoder_new (i == 0 ? br : zstd, 1);
      g_autoptr(GMultiDecoder) trailing = gmulti_decoder_new (i == 0 ? br : zstd, 1);
      g_autoptr(GError) error = NULL;
      Sink sink;

      sink_init (&sink, 0);
      gmulti_decoder_set_error_code (cut, GMULTI_ERROR_CONTENT_DECODING);
      g_assert_cmpint (gmulti_decoder_push (cut, g_bytes_get_data (coded, NULL),
                                            g_bytes_get_size (coded) - 3, sink_cb, &sink,
                                            NULL), ==, GMULTI_DECODER_OK);
      g_assert_cmpint (gmulti_decoder_finish (cut, sink_cb, &sink, &error), ==,
                       GMULTI_DECODER_ERROR);
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CONTENT_DECODING);
      g_clear_error (&error);

      /* zstd takes what follows as the next frame, which is then corrupt. */
      g_assert_cmpint (gmulti_decoder_push (trailing, g_bytes_get_data (coded, NULL),
                                            g_bytes_get_size (coded), sink_cb, &sink,
                                            NULL), ==, GMULTI_DECODER_OK);
      g_assert_cmpint (gmulti_decoder_push (trailing, (const guint8 *) "junk!!!!", 8, sink_cb,
                                            &sink, NULL), ==, GMULTI_DECODER_ERROR);
      g_byte_array_unref (sink.out);
    }
#else
  g_test_skip ("built without libbrotlidec or libzstd, or their encoders");
#endif
}

/* A pause holds even when a few coded bytes stand for megabytes: each push hands out
 * at most one buffer before it stops, and keeps the rest of its input. */
static void
test_pause_bounded (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  g_autofree guint8 *zeros = g_malloc0 (32 * 1024 * 1024);
  g_autoptr(GBytes) plain = g_bytes_new_take (g_steal_pointer (&zeros), 32 * 1024 * 1024);
  g_autoptr(GBytes) coded = test_zlib_encode (plain, TRUE);
  g_autoptr(GMultiDecoder) decoder = gmulti_decoder_new (gzip, 1);
  Sink sink;
  guint pushes = 1;
  GMultiDecoderStatus status;

  g_assert_cmpuint (g_bytes_get_size (coded), <, 64 * 1024);
  sink_init (&sink, 1);
  status = gmulti_decoder_push (decoder, g_bytes_get_data (coded, NULL),
                                g_bytes_get_size (coded), sink_cb, &sink, NULL);
  g_assert_cmpint (status, ==, GMULTI_DECODER_STOPPED);
  g_assert_cmpuint (sink.calls, ==, 1);
  g_assert_cmpuint (sink.out->len, <=, GMULTI_DECODER_BUFFER_SIZE);
  while (status == GMULTI_DECODER_STOPPED)
    {
      guint calls = sink.calls;

      status = gmulti_decoder_push (decoder, NULL, 0, sink_cb, &sink, NULL);
      g_assert_cmpuint (sink.calls, <=, calls + 1);
      pushes++;
    }
  g_assert_cmpint (status, ==, GMULTI_DECODER_OK);
  g_assert_cmpint (gmulti_decoder_finish (decoder, sink_cb, &sink, NULL), ==, GMULTI_DECODER_OK);
  g_assert_cmpuint (sink.out->len, ==, 32 * 1024 * 1024);
  g_assert_cmpuint (pushes, >=, 32 * 1024 * 1024 / GMULTI_DECODER_BUFFER_SIZE);
  for (guint i = 0; i < sink.out->len; i++)
    if (sink.out->data[i] != 0)
      g_assert_not_reached ();
  g_byte_array_unref (sink.out);
}

/* gzip members one after the other make one body (RFC 1952 2.2), wherever the pieces
 * split them. */
static void
test_members (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  g_autoptr(GBytes) first = text (5000);
  g_autoptr(GBytes) second = text (70000);
  g_autoptr(GBytes) a = test_zlib_encode (first, TRUE);
  g_autoptr(GBytes) b = test_zlib_encode (second, TRUE);
  g_autoptr(GByteArray) both = g_byte_array_new ();
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GBytes) coded = NULL;

  g_byte_array_append (both, g_bytes_get_data (a, NULL), (guint) g_bytes_get_size (a));
  g_byte_array_append (both, g_bytes_get_data (b, NULL), (guint) g_bytes_get_size (b));
  g_byte_array_append (expected, g_bytes_get_data (first, NULL), 5000);
  g_byte_array_append (expected, g_bytes_get_data (second, NULL), 70000);
  coded = g_byte_array_free_to_bytes (g_steal_pointer (&both));

  for (gsize piece = 0; piece < 40; piece += 13)
    {
      g_autoptr(GError) error = NULL;
      Sink sink;

      sink_init (&sink, piece % 2);
      g_assert_cmpint (decode (gzip, 1, coded, piece, &sink, &error), ==, GMULTI_DECODER_OK);
      g_assert_no_error (error);
      g_assert_cmpmem (sink.out->data, sink.out->len, expected->data, expected->len);
      g_byte_array_unref (sink.out);
    }
}

static void
assert_fails (const GMultiCoding *codings,
              guint               n_codings,
              GBytes             *coded,
              gsize               piece,
              const char         *message)
{
  g_autoptr(GError) error = NULL;
  Sink sink;

  sink_init (&sink, 0);
  g_assert_cmpint (decode (codings, n_codings, coded, piece, &sink, &error), ==,
                   GMULTI_DECODER_ERROR);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_PROTOCOL);
  if (strstr (error->message, message) == NULL)
    g_error ("“%s” does not say “%s”", error->message, message);
  g_byte_array_unref (sink.out);
}

static GBytes *
changed (GBytes *coded,
         gsize   keep,
         gsize   flip_at,
         const char *append)
{
  GByteArray *copy = g_byte_array_new ();

  g_byte_array_append (copy, g_bytes_get_data (coded, NULL), (guint) keep);
  if (flip_at < keep)
    copy->data[flip_at] ^= 0x5a;
  if (append != NULL)
    g_byte_array_append (copy, (const guint8 *) append, (guint) strlen (append));
  return g_byte_array_free_to_bytes (copy);
}

/* Broken coded data: a changed byte, a stream cut at every length, bytes after the end,
 * codings in the wrong order. */
static void
test_broken (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  static const GMultiCoding deflate[] = { GMULTI_CODING_DEFLATE };
  static const GMultiCoding deflate_gzip[] = { GMULTI_CODING_DEFLATE, GMULTI_CODING_GZIP };
  static const GMultiCoding gzip_deflate[] = { GMULTI_CODING_GZIP, GMULTI_CODING_DEFLATE };
  g_autoptr(GBytes) plain = text (2000);
  g_autoptr(GBytes) gz = test_zlib_encode (plain, TRUE);
  g_autoptr(GBytes) zl = test_zlib_encode (plain, FALSE);
  g_autoptr(GBytes) stacked = encode_all (plain, deflate_gzip, 2);
  gsize gz_size = g_bytes_get_size (gz), zl_size = g_bytes_get_size (zl);

  {
    g_autoptr(GBytes) bad = changed (gz, gz_size, 20, NULL);

    assert_fails (gzip, 1, bad, 0, "The gzip-coded body is corrupt");
  }
  {
    g_autoptr(GBytes) bad = changed (zl, zl_size, 0, NULL);

    assert_fails (deflate, 1, bad, 0, "The deflate-coded body is corrupt");
  }
  /* The checksums catch a change the data itself survives. */
  {
    g_autoptr(GBytes) bad = changed (gz, gz_size, gz_size - 6, NULL);

    assert_fails (gzip, 1, bad, 3, "corrupt");
  }
  for (gsize keep = 1; keep < gz_size; keep++)
    {
      g_autoptr(GBytes) cut = changed (gz, keep, G_MAXSIZE, NULL);

      assert_fails (gzip, 1, cut, keep % 5, "The gzip-coded body is cut short");
    }
  for (gsize keep = 1; keep < zl_size; keep++)
    {
      g_autoptr(GBytes) cut = changed (zl, keep, G_MAXSIZE, NULL);

      assert_fails (deflate, 1, cut, 0, "The deflate-coded body is cut short");
    }
  {
    g_autoptr(GBytes) cut = changed (stacked, g_bytes_get_size (stacked) - 1, G_MAXSIZE, NULL);

    assert_fails (deflate_gzip, 2, cut, 0, "The gzip-coded body is cut short");
  }
  {
    g_autoptr(GBytes) junk = changed (zl, zl_size, G_MAXSIZE, "x");

    assert_fails (deflate, 1, junk, 0, "The deflate-coded body has data after its end");
  }
  {
    g_autoptr(GBytes) junk = changed (gz, gz_size, G_MAXSIZE, "junk");

    assert_fails (gzip, 1, junk, 1, "The gzip-coded body is corrupt");
  }
  assert_fails (gzip_deflate, 2, stacked, 0, "The deflate-coded body is corrupt");
  assert_fails (deflate, 1, gz, 0, "The deflate-coded body is corrupt");
}

/* No input at all is an empty body, not a cut one. */
static void
test_empty (void)
{
  static const GMultiCoding codings[] = { GMULTI_CODING_DEFLATE, GMULTI_CODING_GZIP };
  g_autoptr(GMultiDecoder) decoder = gmulti_decoder_new (codings, 2);
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  Sink sink;

  sink_init (&sink, 0);
  g_assert_cmpint (gmulti_decoder_push (decoder, NULL, 0, sink_cb, &sink, NULL), ==,
                   GMULTI_DECODER_OK);
  g_assert_cmpint (gmulti_decoder_finish (decoder, sink_cb, &sink, NULL), ==, GMULTI_DECODER_OK);
  g_assert_cmpuint (sink.calls, ==, 0);
  g_byte_array_unref (sink.out);

  /* The coded form of nothing is not nothing, and decodes to nothing. */
  assert_round_trip (codings, 2, empty, 0, 0);
}

/* The sink's error ends the decoding with that error. */
static void
test_sink_error (void)
{
  static const GMultiCoding gzip[] = { GMULTI_CODING_GZIP };
  g_autoptr(GBytes) plain = text (300000);
  g_autoptr(GBytes) coded = test_zlib_encode (plain, TRUE);
  g_autoptr(GError) error = NULL;
  Sink sink;

  sink_init (&sink, 0);
  sink.fail = TRUE;
  g_assert_cmpint (decode (gzip, 1, coded, 0, &sink, &error), ==, GMULTI_DECODER_ERROR);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_cmpuint (sink.calls, ==, 1);
  g_byte_array_unref (sink.out);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Decoder/names", test_names);
  g_test_add_func ("/GMulti/Decoder/round-trip", test_round_trip);
  g_test_add_func ("/GMulti/Decoder/br-zstd", test_br_zstd);
  g_test_add_func ("/GMulti/Decoder/pause-bounded", test_pause_bounded);
  g_test_add_func ("/GMulti/Decoder/members", test_members);
  g_test_add_func ("/GMulti/Decoder/broken", test_broken);
  g_test_add_func ("/GMulti/Decoder/empty", test_empty);
  g_test_add_func ("/GMulti/Decoder/sink-error", test_sink_error);

  return g_test_run ();
}
