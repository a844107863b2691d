/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gmulti_transfer_set_request_body_bytes_func(), the request body function of the
 * language bindings, as the engine reads it: pieces split to the buffer, the end of
 * the body, errors and the destroy notify. */
#include <string.h>

#include "gmulti-transfer-private.h"
#include "gmulti-error.h"

typedef enum
{
  PIECES,              /* the pieces in order, then an empty GBytes */
  NULL_WITHOUT_ERROR,  /* what a binding returns after an exception it could not map */
  NULL_WITH_ERROR,
  BYTES_WITH_ERROR,
} Behaviour;

typedef struct
{
  Behaviour behaviour;
  const char *const *pieces;
  guint next;
  guint calls;
  gsize last_max_length;
  guint destroyed;
} Source;

static GBytes *
source_cb (GMultiTransfer *transfer,
           gsize           max_length,
           gpointer        user_data,
           GError        **error)
{
  Source *source = user_data;
  const char *piece;

  source->calls++;
  source->last_max_length = max_length;

  switch (source->behaviour)
    {
    case PIECES:
      piece = source->pieces[source->next];
      if (piece == NULL)
        return g_bytes_new (NULL, 0);
      source->next++;
      return g_bytes_new (piece, strlen (piece));

    case NULL_WITHOUT_ERROR:
      return NULL;

    case NULL_WITH_ERROR:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "denied");
      return NULL;

    case BYTES_WITH_ERROR:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "confused");
      return g_bytes_new ("abc", 3);

    default:
      g_assert_not_reached ();
    }
}

static void
source_destroyed_cb (gpointer user_data)
{
  ((Source *) user_data)->destroyed++;
}

/* Reads the whole body @room bytes at a time, as the engine would. */
static char *
read_body (GMultiTransfer *transfer,
           gsize           room,
           GError        **error)
{
  GString *body = g_string_new (NULL);
  guint8 buffer[64];

  g_assert_cmpuint (room, <=, sizeof buffer);
  for (;;)
    {
      gssize n = gmulti_transfer_read_request_body (transfer, buffer, room, error);

      if (n < 0)
        {
          g_string_free (body, TRUE);
          return NULL;
        }
      if (n == 0)
        return g_string_free (body, FALSE);
      g_assert_cmpint (n, <=, room);
      g_string_append_len (body, (const char *) buffer, n);
    }
}

static void
test_pieces (void)
{
  static const char *const pieces[] = { "a piece longer than the room", "", "x", "tail", NULL };
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  Source source = { .behaviour = PIECES, .pieces = pieces };
  g_autofree char *body = NULL;
  GError *error = NULL;

  gmulti_transfer_set_request_body_bytes_func (transfer, source_cb, -1, &source,
                                               source_destroyed_cb);
  g_assert_true (gmulti_transfer_has_request_body (transfer));
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, -1);
  g_assert_cmpuint (source.calls, ==, 0);

  /* An empty piece in the middle would end the body: it does, as documented. */
  body = read_body (transfer, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (body, ==, "a piece longer than the room");
  g_assert_cmpuint (source.calls, ==, 2);
  g_assert_cmpuint (source.last_max_length, ==, 5);
  g_assert_cmpuint (source.destroyed, ==, 0);

  /* Replacing it releases the data once. */
  source.next = 2;
  source.calls = 0;
  gmulti_transfer_set_request_body_bytes_func (transfer, source_cb, 5, &source,
                                               source_destroyed_cb);
  g_assert_cmpuint (source.destroyed, ==, 1);
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, 5);
  g_clear_pointer (&body, g_free);
  body = read_body (transfer, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (body, ==, "xtail");
  g_assert_cmpuint (source.calls, ==, 3);

  /* NULL removes the body; finalizing after that releases nothing more. */
  gmulti_transfer_set_request_body_bytes_func (transfer, NULL, -1, NULL, NULL);
  g_assert_cmpuint (source.destroyed, ==, 2);
  g_assert_false (gmulti_transfer_has_request_body (transfer));

  /* Finalizing releases the data, with a piece still half sent. */
  source.next = 0;
  gmulti_transfer_set_request_body_bytes_func (transfer, source_cb, -1, &source,
                                               source_destroyed_cb);
  {
    guint8 buffer[4];

    g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buffer, 4, NULL), ==, 4);
  }
  g_assert_finalize_object (transfer);
  g_assert_cmpuint (source.destroyed, ==, 3);
}

static void
test_failures (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  Source source = { 0 };
  GError *error = NULL;
  char *body;

  /* Never the end of the body: an abort. */
  source.behaviour = NULL_WITHOUT_ERROR;
  gmulti_transfer_set_request_body_bytes_func (transfer, source_cb, -1, &source, NULL);
  body = read_body (transfer, 8, &error);
  g_assert_null (body);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED);
  g_clear_error (&error);

  source.behaviour = NULL_WITH_ERROR;
  gmulti_transfer_set_request_body_bytes_func (transfer, source_cb, -1, &source, NULL);
  body = read_body (transfer, 8, &error);
  g_assert_null (body);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  /* The error wins over bytes returned with it (which are freed). */
  source.behaviour = BYTES_WITH_ERROR;
  gmulti_transfer_set_request_body_bytes_func (transfer, source_cb, -1, &source, NULL);
  body = read_body (transfer, 8, &error);
  g_assert_null (body);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);

  g_assert_finalize_object (transfer);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Transfer/read-bytes/pieces", test_pieces);
  g_test_add_func ("/GMulti/Transfer/read-bytes/failures", test_failures);

  return g_test_run ();
}
