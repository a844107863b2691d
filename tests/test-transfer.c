/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "gmulti-transfer-private.h"
#include "gmulti-error.h"
#include "gmulti-headers-private.h"

/* Counts "notify" emissions per property name. */
typedef struct
{
  GHashTable *counts;
} NotifyLog;

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  NotifyLog *log = user_data;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (log->counts, pspec->name));

  g_hash_table_insert (log->counts, (gpointer) pspec->name, GUINT_TO_POINTER (n + 1));
}

static void
notify_log_init (NotifyLog      *log,
                 GMultiTransfer *transfer)
{
  log->counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_signal_connect (transfer, "notify", G_CALLBACK (notify_cb), log);
}

static void
notify_log_clear (NotifyLog      *log,
                  GMultiTransfer *transfer)
{
  g_signal_handlers_disconnect_by_func (transfer, notify_cb, log);
  g_hash_table_unref (log->counts);
}

static guint
notified (NotifyLog  *log,
          const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (log->counts, name));
}

static guint
notified_total (NotifyLog *log)
{
  GHashTableIter iter;
  gpointer value;
  guint total = 0;

  g_hash_table_iter_init (&iter, log->counts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    total += GPOINTER_TO_UINT (value);

  return total;
}

static void
test_defaults (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new (NULL);
  GMultiMetrics zero = { 0 };
  GBytes *body;
  double progress;
  guint limit, time;

  g_assert_true (GMULTI_IS_TRANSFER (transfer));
  g_assert_null (gmulti_transfer_get_uri (transfer));
  g_assert_null (gmulti_transfer_get_effective_uri (transfer));
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GET");
  g_assert_nonnull (gmulti_transfer_get_request_headers (transfer));
  g_assert_cmpuint (gmulti_headers_get_length (gmulti_transfer_get_request_headers (transfer)),
                    ==, 0);
  g_assert_cmpuint (gmulti_transfer_get_connect_timeout (transfer), ==,
                    GMULTI_DEFAULT_CONNECT_TIMEOUT_MS);
  g_assert_cmpuint (gmulti_transfer_get_timeout (transfer), ==, 0);
  g_assert_false (gmulti_transfer_get_follow_redirects (transfer));
  g_assert_cmpuint (gmulti_transfer_get_max_redirects (transfer), ==,
                    GMULTI_DEFAULT_MAX_REDIRECTS);
  g_assert_true (gmulti_transfer_get_collect_body (transfer));
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_IDLE);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 0);
  g_assert_null (gmulti_transfer_get_reason_phrase (transfer));
  g_assert_null (gmulti_transfer_get_response_headers (transfer));
  g_assert_null (gmulti_transfer_get_response_trailers (transfer));
  g_assert_null (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 0);
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (transfer), ==, -1);
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, 0);
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, -1);
  g_assert_false (gmulti_transfer_has_request_body (transfer));
  g_assert_false (gmulti_transfer_is_paused (transfer));
  g_assert_true (memcmp (gmulti_transfer_get_metrics (transfer), &zero, sizeof zero) == 0);

  /* Collecting, nothing arrived: an empty body, not NULL. */
  body = gmulti_transfer_get_response_body (transfer);
  g_assert_nonnull (body);
  g_assert_cmpuint (g_bytes_get_size (body), ==, 0);
  g_bytes_unref (body);

  g_object_get (transfer,
                "progress", &progress,
                "low-speed-limit", &limit,
                "low-speed-time", &time,
                NULL);
  g_assert_cmpfloat (progress, ==, -1.0);
  g_assert_cmpuint (limit, ==, 0);
  g_assert_cmpuint (time, ==, 0);

  g_assert_finalize_object (transfer);

  transfer = gmulti_transfer_new ("http://example.com/a?b=c");
  g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, "http://example.com/a?b=c");
  g_assert_nonnull (transfer->parsed_uri);
  g_assert_finalize_object (transfer);
}

static void
test_setters_notify (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  NotifyLog log;
  char *uri = NULL, *method = NULL;
  gboolean follow, collect;
  guint max, timeout, connect_timeout, limit, time;

  notify_log_init (&log, transfer);

  /* Each setter: a change notifies once, the same value again does not. */
  gmulti_transfer_set_connect_timeout (transfer, 500);
  gmulti_transfer_set_connect_timeout (transfer, 500);
  g_assert_cmpuint (gmulti_transfer_get_connect_timeout (transfer), ==, 500);
  g_assert_cmpuint (notified (&log, "connect-timeout"), ==, 1);

  gmulti_transfer_set_timeout (transfer, 1500);
  gmulti_transfer_set_timeout (transfer, 1500);
  g_assert_cmpuint (gmulti_transfer_get_timeout (transfer), ==, 1500);
  g_assert_cmpuint (notified (&log, "timeout"), ==, 1);

  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  g_assert_true (gmulti_transfer_get_follow_redirects (transfer));
  g_assert_cmpuint (notified (&log, "follow-redirects"), ==, 1);

  gmulti_transfer_set_max_redirects (transfer, 3);
  gmulti_transfer_set_max_redirects (transfer, 3);
  g_assert_cmpuint (gmulti_transfer_get_max_redirects (transfer), ==, 3);
  g_assert_cmpuint (notified (&log, "max-redirects"), ==, 1);

  gmulti_transfer_set_collect_body (transfer, FALSE);
  gmulti_transfer_set_collect_body (transfer, FALSE);
  g_assert_false (gmulti_transfer_get_collect_body (transfer));
  g_assert_cmpuint (notified (&log, "collect-body"), ==, 1);

  gmulti_transfer_set_low_speed (transfer, 100, 5);
  gmulti_transfer_set_low_speed (transfer, 100, 5);
  g_assert_cmpuint (notified (&log, "low-speed-limit"), ==, 1);
  g_assert_cmpuint (notified (&log, "low-speed-time"), ==, 1);
  gmulti_transfer_set_low_speed (transfer, 100, 6);
  g_assert_cmpuint (notified (&log, "low-speed-limit"), ==, 1);
  g_assert_cmpuint (notified (&log, "low-speed-time"), ==, 2);

  g_assert_true (gmulti_transfer_set_uri (transfer, "https://example.org/x", NULL));
  g_assert_true (gmulti_transfer_set_uri (transfer, "https://example.org/x", NULL));
  g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, "https://example.org/x");
  g_assert_cmpuint (notified (&log, "uri"), ==, 1);

  g_assert_true (gmulti_transfer_set_method (transfer, "POST", NULL));
  g_assert_true (gmulti_transfer_set_method (transfer, "POST", NULL));
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "POST");
  g_assert_cmpuint (notified (&log, "method"), ==, 1);

  /* The same through the properties. */
  g_object_set (transfer,
                "connect-timeout", 700,
                "timeout", 1500,           /* unchanged */
                "follow-redirects", FALSE,
                "max-redirects", 3,        /* unchanged */
                "collect-body", TRUE,
                "low-speed-limit", 200,
                "low-speed-time", 6,       /* unchanged */
                "uri", "http://example.net/",
                "method", "PUT",
                NULL);
  g_assert_cmpuint (notified (&log, "connect-timeout"), ==, 2);
  g_assert_cmpuint (notified (&log, "timeout"), ==, 1);
  g_assert_cmpuint (notified (&log, "follow-redirects"), ==, 2);
  g_assert_cmpuint (notified (&log, "max-redirects"), ==, 1);
  g_assert_cmpuint (notified (&log, "collect-body"), ==, 2);
  g_assert_cmpuint (notified (&log, "low-speed-limit"), ==, 2);
  g_assert_cmpuint (notified (&log, "low-speed-time"), ==, 2);
  g_assert_cmpuint (notified (&log, "uri"), ==, 2);
  g_assert_cmpuint (notified (&log, "method"), ==, 2);

  g_object_get (transfer,
                "uri", &uri,
                "method", &method,
                "follow-redirects", &follow,
                "collect-body", &collect,
                "max-redirects", &max,
                "timeout", &timeout,
                "connect-timeout", &connect_timeout,
                "low-speed-limit", &limit,
                "low-speed-time", &time,
                NULL);
  g_assert_cmpstr (uri, ==, "http://example.net/");
  g_assert_cmpstr (method, ==, "PUT");
  g_assert_false (follow);
  g_assert_true (collect);
  g_assert_cmpuint (max, ==, 3);
  g_assert_cmpuint (timeout, ==, 1500);
  g_assert_cmpuint (connect_timeout, ==, 700);
  g_assert_cmpuint (limit, ==, 200);
  g_assert_cmpuint (time, ==, 6);
  g_free (uri);
  g_free (method);

  /* A NULL method through the property means the default. */
  g_object_set (transfer, "method", NULL, NULL);
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GET");
  g_assert_cmpuint (notified (&log, "method"), ==, 3);

  /* No response property was touched by any of this. */
  g_assert_cmpuint (notified (&log, "state"), ==, 0);
  g_assert_cmpuint (notified (&log, "status"), ==, 0);
  g_assert_cmpuint (notified (&log, "paused"), ==, 0);

  notify_log_clear (&log, transfer);
  g_assert_finalize_object (transfer);
}

static void
test_uri_valid (void)
{
  static const char *const good[] = {
    "http://example.com",
    "http://example.com/",
    "https://example.com:8443/path/to?x=1&y=%20#frag",
    "HTTP://Example.COM/Case",
    "http://[::1]:8080/v6",
    "http://127.0.0.1/a%0D%0Ab",
    "http://user:secret@example.com/",
  };
  GMultiTransfer *transfer = gmulti_transfer_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", good[i]);
      g_assert_true (gmulti_transfer_set_uri (transfer, good[i], &error));
      g_assert_no_error (error);
      /* Stored exactly as given. */
      g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, good[i]);
      g_assert_nonnull (transfer->parsed_uri);
      g_assert_true (gmulti_transfer_validate (transfer, &error));
      g_assert_no_error (error);
    }

  /* Escapes in the path stay escapes: they never turn into raw CR LF. */
  g_assert_true (gmulti_transfer_set_uri (transfer, "http://h/a%0d%0ab", NULL));
  g_assert_null (strpbrk (g_uri_get_path (transfer->parsed_uri), "\r\n"));

  g_assert_finalize_object (transfer);
}

typedef struct
{
  const char *uri;
  GMultiError code;
} BadUri;

static const BadUri bad_uris[] = {
  { "ftp://example.com/file", GMULTI_ERROR_UNSUPPORTED_SCHEME },
  { "file:///etc/passwd", GMULTI_ERROR_UNSUPPORTED_SCHEME },
  { "ws://example.com/", GMULTI_ERROR_UNSUPPORTED_SCHEME },
  { "http:///no-host", GMULTI_ERROR_INVALID_URI },
  { "http:no-host", GMULTI_ERROR_INVALID_URI },
  { "/relative/path", GMULTI_ERROR_INVALID_URI },
  { "", GMULTI_ERROR_INVALID_URI },
  { "http://example.com/a b", GMULTI_ERROR_INVALID_URI },
  { "http://exa mple.com/", GMULTI_ERROR_INVALID_URI },
  { "http://example.com/\r\nX-Injected: 1", GMULTI_ERROR_INVALID_URI },
  { "http://example.com/\n", GMULTI_ERROR_INVALID_URI },
  { "http://example.com\r/", GMULTI_ERROR_INVALID_URI },
  { "http://example.com/\t", GMULTI_ERROR_INVALID_URI },
  { "http://example.com/\x01", GMULTI_ERROR_INVALID_URI },
  { "http://example.com/\x7f", GMULTI_ERROR_INVALID_URI },
  /* Escapes in the host are decoded: they must not smuggle CR LF or NUL into Host. */
  { "http://exa%0d%0ample.com/", GMULTI_ERROR_INVALID_URI },
  { "http://exa%00mple.com/", GMULTI_ERROR_INVALID_URI },
  { "http://exa%20mple.com/", GMULTI_ERROR_INVALID_URI },
  { "http://example.com:99999/", GMULTI_ERROR_INVALID_URI },
  /* What the engine would refuse to send is refused when set, not when it starts. */
  { "http://exa%2Fmple.com/", GMULTI_ERROR_INVALID_URI },
  { "http://exa%40mple.com/", GMULTI_ERROR_INVALID_URI },
  { "http://example.com:0/", GMULTI_ERROR_INVALID_URI },
};

static void
test_uri_invalid_setter (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://good.example/");
  NotifyLog log;

  notify_log_init (&log, transfer);

  for (guint i = 0; i < G_N_ELEMENTS (bad_uris); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *escaped = g_strescape (bad_uris[i].uri, NULL);

      g_test_message ("%s", escaped);
      g_assert_false (gmulti_transfer_set_uri (transfer, bad_uris[i].uri, &error));
      g_assert_error (error, GMULTI_ERROR, (gint) bad_uris[i].code);
      /* The previous URI is kept, parsed. */
      g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, "http://good.example/");
      g_assert_nonnull (transfer->parsed_uri);
    }

  g_assert_cmpuint (notified (&log, "uri"), ==, 0);
  g_assert_true (gmulti_transfer_validate (transfer, NULL));

  notify_log_clear (&log, transfer);
  g_assert_finalize_object (transfer);
}

static void
test_uri_invalid_constructor (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_uris); i++)
    {
      GMultiTransfer *transfer = gmulti_transfer_new (bad_uris[i].uri);
      GError *error = NULL;

      /* Stored as given; the error comes when the transfer starts. */
      g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, bad_uris[i].uri);
      g_assert_false (gmulti_transfer_validate (transfer, &error));
      g_assert_error (error, GMULTI_ERROR, (gint) bad_uris[i].code);
      g_clear_error (&error);

      /* The property behaves like the constructor. */
      g_object_set (transfer, "uri", "http://fine.example/", NULL);
      g_assert_true (gmulti_transfer_validate (transfer, &error));
      g_assert_no_error (error);
      g_object_set (transfer, "uri", bad_uris[i].uri, NULL);
      g_assert_cmpstr (gmulti_transfer_get_uri (transfer), ==, bad_uris[i].uri);
      g_assert_false (gmulti_transfer_validate (transfer, &error));
      g_assert_error (error, GMULTI_ERROR, (gint) bad_uris[i].code);
      g_clear_error (&error);

      g_assert_finalize_object (transfer);
    }

  {
    GMultiTransfer *transfer = gmulti_transfer_new (NULL);
    GError *error = NULL;

    g_assert_false (gmulti_transfer_validate (transfer, &error));
    g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_URI);
    g_clear_error (&error);
    g_assert_finalize_object (transfer);
  }
}

static void
test_method (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  GError *error = NULL;

  g_assert_true (gmulti_transfer_set_method (transfer, "GET", &error));
  g_assert_no_error (error);
  g_assert_true (gmulti_transfer_set_method (transfer, "PROPFIND", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "PROPFIND");

  /* Methods are case-sensitive and stored as given. */
  g_assert_true (gmulti_transfer_set_method (transfer, "get", &error));
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "get");
  g_assert_true (gmulti_transfer_set_method (transfer, "GET", &error));
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GET");

  g_assert_false (gmulti_transfer_set_method (transfer, "BAD METHOD", &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (gmulti_transfer_set_method (transfer, "GE\r\nT", &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (gmulti_transfer_set_method (transfer, "", &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (gmulti_transfer_set_method (transfer, "GET /x HTTP/1.1\r\n\r\nGET", &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GET");
  g_assert_true (gmulti_transfer_validate (transfer, NULL));

  /* Through the property it is stored, and refused when the transfer starts. */
  g_object_set (transfer, "method", "GE\r\nT", NULL);
  g_assert_cmpstr (gmulti_transfer_get_method (transfer), ==, "GE\r\nT");
  g_assert_false (gmulti_transfer_validate (transfer, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);

  g_assert_finalize_object (transfer);
}

static void
test_header_injection (void)
{
  static const char *const bad[][2] = {
    { "X-Bad\r\nInjected", "v" },
    { "X-Bad\nInjected", "v" },
    { "Bad Name", "v" },
    { "Bad:Name", "v" },
    { "", "v" },
    { "X-Value", "v\r\nInjected: 1" },
    { "X-Value", "v\nInjected: 1" },
    { "X-Value", "v\rx" },
    { "X-Value", "v\x01" },
  };
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  GMultiHeaders *headers = gmulti_transfer_get_request_headers (transfer);
  GError *error = NULL;

  g_assert_true (gmulti_transfer_add_request_header (transfer, "X-Ok", "fine\tvalue", &error));
  g_assert_no_error (error);
  g_assert_true (gmulti_transfer_add_request_header (transfer, "X-Ok", "again", &error));
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (gmulti_transfer_add_request_header (transfer, bad[i][0], bad[i][1],
                                                          &error));
      g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
      g_clear_error (&error);
    }
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 2);
  g_assert_true (gmulti_transfer_validate (transfer, NULL));

  /* A field that bypassed the checks is caught when the transfer starts. */
  gmulti_headers_append_unchecked (headers, "X-Evil", 6, "a\r\nb", 4);
  g_assert_false (gmulti_transfer_validate (transfer, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  gmulti_headers_remove (headers, "X-Evil");
  g_assert_true (gmulti_transfer_validate (transfer, NULL));

  gmulti_headers_append_unchecked (headers, "X Evil", 6, "ok", 2);
  g_assert_false (gmulti_transfer_validate (transfer, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_clear_error (&error);

  g_assert_finalize_object (transfer);
}

static void
test_validate_options (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  GError *error = NULL;

  g_assert_true (gmulti_transfer_validate (transfer, &error));
  g_assert_no_error (error);

  gmulti_transfer_set_low_speed (transfer, 1000, 0);
  g_assert_false (gmulti_transfer_validate (transfer, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  gmulti_transfer_set_low_speed (transfer, 1000, 10);
  g_assert_true (gmulti_transfer_validate (transfer, NULL));
  gmulti_transfer_set_low_speed (transfer, 0, 0);
  g_assert_true (gmulti_transfer_validate (transfer, NULL));

  gmulti_transfer_set_max_redirects (transfer, 1001);
  g_assert_false (gmulti_transfer_validate (transfer, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  gmulti_transfer_set_max_redirects (transfer, 1000);
  g_assert_true (gmulti_transfer_validate (transfer, NULL));
  gmulti_transfer_set_max_redirects (transfer, 0);
  g_assert_true (gmulti_transfer_validate (transfer, NULL));

  g_assert_finalize_object (transfer);
}

static GString *
read_all (GMultiTransfer *transfer,
          gsize           piece)
{
  GString *out = g_string_new (NULL);
  guint8 buf[64];
  gssize n;

  g_assert_cmpuint (piece, <=, sizeof buf);
  while ((n = gmulti_transfer_read_request_body (transfer, buf, piece, NULL)) > 0)
    {
      g_assert_cmpint (n, <=, (gssize) piece);
      g_string_append_len (out, (const char *) buf, n);
    }
  g_assert_cmpint (n, ==, 0);

  return out;
}

static void
test_body_bytes (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  GBytes *body = g_bytes_new_static ("hello world", 11);
  guint8 buf[4];
  GString *all;

  gmulti_transfer_set_request_body (transfer, body);
  g_assert_true (gmulti_transfer_has_request_body (transfer));
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, 11);

  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, 4, NULL), ==, 4);
  g_assert_cmpmem (buf, 4, "hell", 4);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, 4, NULL), ==, 4);
  g_assert_cmpmem (buf, 4, "o wo", 4);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, 4, NULL), ==, 3);
  g_assert_cmpmem (buf, 3, "rld", 3);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, 4, NULL), ==, 0);

  /* Rewinding a GBytes body always works. */
  g_assert_true (gmulti_transfer_rewind_request_body (transfer));
  all = read_all (transfer, 5);
  g_assert_cmpstr (all->str, ==, "hello world");
  g_string_free (all, TRUE);

  g_assert_true (gmulti_transfer_rewind_request_body (transfer));
  all = read_all (transfer, 64);
  g_assert_cmpstr (all->str, ==, "hello world");
  g_string_free (all, TRUE);

  /* Setting the same body again starts it over. */
  gmulti_transfer_set_request_body (transfer, body);
  all = read_all (transfer, 3);
  g_assert_cmpstr (all->str, ==, "hello world");
  g_string_free (all, TRUE);

  /* An empty body is still a body (Content-Length: 0). */
  g_bytes_unref (body);
  body = g_bytes_new (NULL, 0);
  gmulti_transfer_set_request_body (transfer, body);
  g_bytes_unref (body);
  g_assert_true (gmulti_transfer_has_request_body (transfer));
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, 0);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, 4, NULL), ==, 0);

  gmulti_transfer_set_request_body (transfer, NULL);
  g_assert_false (gmulti_transfer_has_request_body (transfer));
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, -1);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, 4, NULL), ==, 0);

  g_assert_finalize_object (transfer);
}

/* A read function that hands out a fixed text. */
typedef struct
{
  const char *text;
  gsize offset;
  guint calls;
  guint destroyed;
} Source;

static gssize
source_read_cb (GMultiTransfer *transfer,
                guint8         *buffer,
                gsize           length,
                gpointer        user_data,
                GError        **error)
{
  Source *source = user_data;
  gsize n = MIN (length, strlen (source->text) - source->offset);

  source->calls++;
  memcpy (buffer, source->text + source->offset, n);
  source->offset += n;

  return (gssize) n;
}

static void
source_destroy_cb (gpointer user_data)
{
  Source *source = user_data;

  source->destroyed++;
}

static void
test_body_func (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  Source first = { "streamed body", 0, 0, 0 };
  Source second = { "other", 0, 0, 0 };
  GBytes *bytes;
  GString *all;

  gmulti_transfer_set_request_body_func (transfer, source_read_cb, 13, &first,
                                         source_destroy_cb);
  g_assert_true (gmulti_transfer_has_request_body (transfer));
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, 13);
  /* Not read yet: nothing to rewind. */
  g_assert_true (gmulti_transfer_rewind_request_body (transfer));
  g_assert_cmpuint (first.calls, ==, 0);

  all = read_all (transfer, 4);
  g_assert_cmpstr (all->str, ==, "streamed body");
  g_string_free (all, TRUE);
  g_assert_cmpuint (first.calls, ==, 5);
  /* Read from: it cannot start over. */
  g_assert_false (gmulti_transfer_rewind_request_body (transfer));

  /* Replacing the function releases the previous data, once. */
  gmulti_transfer_set_request_body_func (transfer, source_read_cb, -1, &second,
                                         source_destroy_cb);
  g_assert_cmpuint (first.destroyed, ==, 1);
  g_assert_cmpuint (second.destroyed, ==, 0);
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, -1);
  g_assert_true (gmulti_transfer_rewind_request_body (transfer));
  all = read_all (transfer, 64);
  g_assert_cmpstr (all->str, ==, "other");
  g_string_free (all, TRUE);

  /* A GBytes body replaces the function. */
  bytes = g_bytes_new_static ("xyz", 3);
  gmulti_transfer_set_request_body (transfer, bytes);
  g_bytes_unref (bytes);
  g_assert_cmpuint (second.destroyed, ==, 1);
  g_assert_null (transfer->read_func);
  g_assert_cmpint (gmulti_transfer_get_upload_size (transfer), ==, 3);

  /* And a function replaces a GBytes body. */
  first.offset = 0;
  gmulti_transfer_set_request_body_func (transfer, source_read_cb, 13, &first,
                                         source_destroy_cb);
  g_assert_null (transfer->request_body);
  all = read_all (transfer, 64);
  g_assert_cmpstr (all->str, ==, "streamed body");
  g_string_free (all, TRUE);

  /* NULL removes the body; the destroy notify runs at once. */
  gmulti_transfer_set_request_body_func (transfer, NULL, -1, NULL, NULL);
  g_assert_cmpuint (first.destroyed, ==, 2);
  g_assert_false (gmulti_transfer_has_request_body (transfer));

  /* Finalizing releases the data too. */
  second.offset = 0;
  gmulti_transfer_set_request_body_func (transfer, source_read_cb, 5, &second,
                                         source_destroy_cb);
  g_assert_finalize_object (transfer);
  g_assert_cmpuint (second.destroyed, ==, 2);
  g_assert_cmpuint (first.destroyed, ==, 2);
}

typedef enum {
  MISBEHAVE_TOO_MANY,
  MISBEHAVE_BELOW_MINUS_ONE,
  MISBEHAVE_FAIL_WITHOUT_ERROR,
  MISBEHAVE_FAIL_WITH_ERROR,
  MISBEHAVE_COUNT_WITH_ERROR,
} Misbehaviour;

static gssize
misbehaving_read_cb (GMultiTransfer *transfer,
                     guint8         *buffer,
                     gsize           length,
                     gpointer        user_data,
                     GError        **error)
{
  switch (GPOINTER_TO_INT (user_data))
    {
    case MISBEHAVE_TOO_MANY:
      return (gssize) length + 1;
    case MISBEHAVE_BELOW_MINUS_ONE:
      return -7;
    case MISBEHAVE_FAIL_WITHOUT_ERROR:
      return -1;
    case MISBEHAVE_FAIL_WITH_ERROR:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "denied");
      return -1;
    case MISBEHAVE_COUNT_WITH_ERROR:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "confused");
      return 1;
    default:
      g_assert_not_reached ();
    }
}

static void
test_body_func_misbehaviour (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  Source source = { "0123456789", 0, 0, 0 };
  guint8 buf[8];
  GError *error = NULL;

  for (int m = MISBEHAVE_TOO_MANY; m <= MISBEHAVE_COUNT_WITH_ERROR; m++)
    {
      gmulti_transfer_set_request_body_func (transfer, misbehaving_read_cb, -1,
                                             GINT_TO_POINTER (m), NULL);
      g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, &error),
                       ==, -1);
      if (m == MISBEHAVE_FAIL_WITH_ERROR)
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      else
        g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED);
      g_clear_error (&error);
    }

  /* A declared length is a promise: more bytes than announced is an error... */
  gmulti_transfer_set_request_body_func (transfer, source_read_cb, 3, &source, NULL);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, &error),
                   ==, -1);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED);
  g_clear_error (&error);

  /* ... and so is ending early. */
  source.offset = 0;
  gmulti_transfer_set_request_body_func (transfer, source_read_cb, 12, &source, NULL);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, &error),
                   ==, 8);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, &error),
                   ==, 2);
  g_assert_no_error (error);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, &error),
                   ==, -1);
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_CALLBACK_ABORTED);
  g_clear_error (&error);

  /* Exactly the declared length is fine. */
  source.offset = 0;
  gmulti_transfer_set_request_body_func (transfer, source_read_cb, 10, &source, NULL);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, &error),
                   ==, 8);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, &error),
                   ==, 2);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, &error),
                   ==, 0);
  g_assert_no_error (error);

  g_assert_finalize_object (transfer);
}

/* A write function that stores what it gets, and can refuse. */
typedef struct
{
  GString *data;
  gboolean refuse;
  guint calls;
  guint destroyed;
} Sink;

static gboolean
sink_write_cb (GMultiTransfer *transfer,
               const guint8   *data,
               gsize           length,
               gpointer        user_data)
{
  Sink *sink = user_data;

  sink->calls++;
  if (sink->refuse)
    return FALSE;

  g_string_append_len (sink->data, (const char *) data, length);
  return TRUE;
}

static void
sink_destroy_cb (gpointer user_data)
{
  Sink *sink = user_data;

  sink->destroyed++;
}

static void
data_count_cb (GMultiTransfer *transfer,
               GBytes         *chunk,
               gpointer        user_data)
{
  GString *seen = user_data;
  gsize size;
  const char *data = g_bytes_get_data (chunk, &size);

  g_string_append_len (seen, data, size);
  /* The counters already include this chunk. */
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), >=, seen->len);
}

static void
test_deliver_collect (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  GBytes *body;

  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "abc", 3, NULL));
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "", 0, NULL));
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "defg", 4, NULL));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 7);
  g_assert_cmpuint (gmulti_metrics_get_body_bytes_received (gmulti_transfer_get_metrics (transfer)),
                    ==, 7);

  body = gmulti_transfer_get_response_body (transfer);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "abcdefg", 7);
  g_bytes_unref (body);

  /* The body keeps growing; earlier copies do not change. */
  body = gmulti_transfer_get_response_body (transfer);
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "h", 1, NULL));
  g_assert_cmpuint (g_bytes_get_size (body), ==, 7);
  g_bytes_unref (body);
  body = gmulti_transfer_get_response_body (transfer);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "abcdefgh", 8);
  g_bytes_unref (body);

  g_assert_finalize_object (transfer);

  /* Not collecting: no body at all. */
  transfer = gmulti_transfer_new ("http://example.com/");
  gmulti_transfer_set_collect_body (transfer, FALSE);
  g_assert_null (gmulti_transfer_get_response_body (transfer));
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "abc", 3, NULL));
  g_assert_null (gmulti_transfer_get_response_body (transfer));
  g_assert_null (transfer->body_buffer);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 3);
  g_assert_finalize_object (transfer);
}

static void
test_deliver_write_func (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  Sink sink = { g_string_new (NULL), FALSE, 0, 0 };
  Sink other = { g_string_new (NULL), FALSE, 0, 0 };
  GString *seen = g_string_new (NULL);

  g_signal_connect (transfer, "data", G_CALLBACK (data_count_cb), seen);

  /* A write function wins over collect-body. */
  gmulti_transfer_set_write_func (transfer, sink_write_cb, &sink, sink_destroy_cb);
  g_assert_true (gmulti_transfer_get_collect_body (transfer));
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "one", 3, NULL));
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "two", 3, NULL));
  g_assert_cmpstr (sink.data->str, ==, "onetwo");
  g_assert_cmpstr (seen->str, ==, "onetwo");
  g_assert_null (transfer->body_buffer);
  g_assert_null (gmulti_transfer_get_response_body (transfer));
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 6);

  /* FALSE aborts: no signal, nothing counted. */
  sink.refuse = TRUE;
  g_assert_false (gmulti_transfer_deliver_body (transfer, (const guint8 *) "three", 5, NULL));
  g_assert_cmpuint (sink.calls, ==, 3);
  g_assert_cmpstr (seen->str, ==, "onetwo");
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 6);

  /* Replacing the function releases the previous data. */
  gmulti_transfer_set_write_func (transfer, sink_write_cb, &other, sink_destroy_cb);
  g_assert_cmpuint (sink.destroyed, ==, 1);
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "four", 4, NULL));
  g_assert_cmpstr (other.data->str, ==, "four");
  g_assert_cmpuint (sink.calls, ==, 3);

  /* Clearing it brings collecting back. */
  gmulti_transfer_set_write_func (transfer, NULL, NULL, NULL);
  g_assert_cmpuint (other.destroyed, ==, 1);
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "five", 4, NULL));
  g_assert_cmpstr (other.data->str, ==, "four");
  g_assert_nonnull (transfer->body_buffer);
  g_assert_cmpmem (transfer->body_buffer->data, transfer->body_buffer->len, "five", 4);
  g_assert_cmpstr (seen->str, ==, "onetwofourfive");

  /* Finalizing releases the current data. */
  gmulti_transfer_set_write_func (transfer, sink_write_cb, &sink, sink_destroy_cb);
  g_assert_finalize_object (transfer);
  g_assert_cmpuint (sink.destroyed, ==, 2);
  g_assert_cmpuint (other.destroyed, ==, 1);

  g_string_free (sink.data, TRUE);
  g_string_free (other.data, TRUE);
  g_string_free (seen, TRUE);
}

static gboolean
emission_hook_cb (GSignalInvocationHint *hint,
                  guint                  n_param_values,
                  const GValue          *param_values,
                  gpointer               user_data)
{
  guint *emissions = user_data;

  (*emissions)++;
  return TRUE;
}

static void
test_data_signal (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  GString *seen = g_string_new (NULL);
  guint data_signal = g_signal_lookup ("data", GMULTI_TYPE_TRANSFER);
  guint emissions = 0;
  gulong hook, id;

  /* The hook sees every emission but is not a handler: with nobody listening, the
   * signal (and the GBytes for it) must be skipped altogether. */
  hook = g_signal_add_emission_hook (data_signal, 0, emission_hook_cb, &emissions, NULL);
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "a", 1, NULL));
  g_assert_cmpuint (emissions, ==, 0);

  id = g_signal_connect (transfer, "data", G_CALLBACK (data_count_cb), seen);
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "bc", 2, NULL));
  g_assert_cmpstr (seen->str, ==, "bc");

  /* A blocked handler counts as not connected. */
  g_assert_cmpuint (emissions, ==, 1);
  g_signal_handler_block (transfer, id);
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "d", 1, NULL));
  g_signal_handler_unblock (transfer, id);
  g_assert_cmpstr (seen->str, ==, "bc");
  g_assert_cmpuint (emissions, ==, 1);

  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "e", 1, NULL));
  g_assert_cmpstr (seen->str, ==, "bce");

  g_signal_handler_disconnect (transfer, id);
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "f", 1, NULL));
  g_assert_cmpstr (seen->str, ==, "bce");
  g_assert_cmpuint (emissions, ==, 2);
  g_signal_remove_emission_hook (data_signal, hook);

  /* Everything was collected regardless of listeners. */
  g_assert_cmpmem (transfer->body_buffer->data, transfer->body_buffer->len, "abcdef", 6);

  g_assert_finalize_object (transfer);
  g_string_free (seen, TRUE);
}

static void
count_cb (GMultiTransfer *transfer,
          gpointer        user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_progress (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  NotifyLog log;
  guint progress = 0;
  double fraction;

  notify_log_init (&log, transfer);
  g_signal_connect (transfer, "progress", G_CALLBACK (count_cb), &progress);

  /* The first report goes out. */
  gmulti_transfer_report_progress (transfer, FALSE);
  g_assert_cmpuint (progress, ==, 1);
  /* Nothing changed: no notify. */
  g_assert_cmpuint (notified_total (&log), ==, 0);

  /* Within the interval (the last report is made to lie in the future): held back. */
  transfer->last_progress_us = g_get_monotonic_time () + G_TIME_SPAN_HOUR;
  gmulti_transfer_deliver_body (transfer, (const guint8 *) "0123456789", 10, NULL);
  gmulti_transfer_report_progress (transfer, FALSE);
  g_assert_cmpuint (progress, ==, 1);
  g_assert_cmpuint (notified (&log, "bytes-received"), ==, 0);

  /* Forced: goes out, with the counters that changed. */
  gmulti_transfer_report_progress (transfer, TRUE);
  g_assert_cmpuint (progress, ==, 2);
  g_assert_cmpuint (notified (&log, "bytes-received"), ==, 1);
  g_assert_cmpuint (notified (&log, "bytes-sent"), ==, 0);
  g_assert_cmpuint (notified (&log, "progress"), ==, 0);  /* still unknown: -1 */

  /* Once the interval has passed, an unforced report goes out again. */
  transfer->run.bytes_expected = 40;
  transfer->run.bytes_sent = 5;
  transfer->last_progress_us = g_get_monotonic_time () - 2 * GMULTI_PROGRESS_INTERVAL_US;
  gmulti_transfer_report_progress (transfer, FALSE);
  g_assert_cmpuint (progress, ==, 3);
  g_assert_cmpuint (notified (&log, "bytes-received"), ==, 1);
  g_assert_cmpuint (notified (&log, "bytes-sent"), ==, 1);
  g_assert_cmpuint (notified (&log, "bytes-expected"), ==, 1);
  g_assert_cmpuint (notified (&log, "progress"), ==, 1);
  g_object_get (transfer, "progress", &fraction, NULL);
  g_assert_cmpfloat_with_epsilon (fraction, 0.25, 1e-9);

  /* Forced with no change: the signal, but no notify. */
  gmulti_transfer_report_progress (transfer, TRUE);
  g_assert_cmpuint (progress, ==, 4);
  g_assert_cmpuint (notified_total (&log), ==, 4);

  /* The fraction never goes above 1. */
  transfer->run.bytes_received = 80;
  g_object_get (transfer, "progress", &fraction, NULL);
  g_assert_cmpfloat (fraction, ==, 1.0);

  notify_log_clear (&log, transfer);
  g_assert_finalize_object (transfer);
}

typedef struct
{
  guint count;
  guint status;
  GMultiHeaders *headers;
} HeadersSeen;

static void
response_headers_cb (GMultiTransfer *transfer,
                     guint           status,
                     GMultiHeaders  *headers,
                     gpointer        user_data)
{
  HeadersSeen *seen = user_data;

  seen->count++;
  seen->status = status;
  seen->headers = headers;
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, status);
}

static void
finished_cb (GMultiTransfer *transfer,
             GError         *error,
             gpointer        user_data)
{
  GError **out = user_data;

  g_assert_null (*out);
  *out = error != NULL ? g_error_copy (error) : g_error_new_literal (G_IO_ERROR, 0, "none");
}

static void
test_response_and_finish (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  HeadersSeen seen = { 0 };
  NotifyLog log;
  guint progress = 0;
  GError *finished = NULL;

  notify_log_init (&log, transfer);
  g_signal_connect (transfer, "response-headers", G_CALLBACK (response_headers_cb), &seen);
  g_signal_connect (transfer, "progress", G_CALLBACK (count_cb), &progress);
  g_signal_connect (transfer, "finished", G_CALLBACK (finished_cb), &finished);

  gmulti_transfer_reset_response (transfer);
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, "http://example.com/");
  g_assert_cmpuint (notified (&log, "effective-uri"), ==, 1);

  gmulti_transfer_set_state (transfer, GMULTI_TRANSFER_RECEIVING);
  gmulti_transfer_set_state (transfer, GMULTI_TRANSFER_RECEIVING);
  g_assert_cmpuint (notified (&log, "state"), ==, 1);

  transfer->run.status = 404;
  transfer->run.reason = g_strdup ("Not Found");
  transfer->run.response_headers = gmulti_headers_new ();
  transfer->run.bytes_expected = 9;
  gmulti_headers_append (transfer->run.response_headers, "Content-Type", "text/plain", NULL);
  gmulti_transfer_emit_response_headers (transfer);
  g_assert_cmpuint (seen.count, ==, 1);
  g_assert_cmpuint (seen.status, ==, 404);
  g_assert_true (seen.headers == transfer->run.response_headers);
  g_assert_cmpuint (notified (&log, "status"), ==, 1);
  g_assert_cmpuint (notified (&log, "bytes-expected"), ==, 1);
  g_assert_cmpstr (gmulti_transfer_get_reason_phrase (transfer), ==, "Not Found");
  g_assert_cmpstr (gmulti_headers_get_one (gmulti_transfer_get_response_headers (transfer),
                                           "content-type"), ==, "text/plain");

  gmulti_transfer_complete (transfer,
                            g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT, "late"));
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_DONE);
  g_assert_cmpuint (notified (&log, "state"), ==, 2);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer),
                  GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  /* Completing forces a last progress report even right after another. */
  g_assert_cmpuint (progress, ==, 1);
  g_assert_null (finished);

  gmulti_transfer_emit_finished (transfer);
  g_assert_error (finished, GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT);
  g_clear_error (&finished);

  /* A success after a reset reports no error. */
  gmulti_transfer_reset_response (transfer);
  g_assert_null (gmulti_transfer_get_error (transfer));
  gmulti_transfer_complete (transfer, NULL);
  g_assert_null (gmulti_transfer_get_error (transfer));
  gmulti_transfer_emit_finished (transfer);
  g_assert_error (finished, G_IO_ERROR, 0);  /* the handler's marker for NULL */
  g_clear_error (&finished);

  notify_log_clear (&log, transfer);
  g_assert_finalize_object (transfer);
}

static void
test_signals_blocked (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  HeadersSeen seen = { 0 };
  GString *data = g_string_new (NULL);
  NotifyLog log;
  guint progress = 0;
  GError *finished = NULL;

  notify_log_init (&log, transfer);
  g_signal_connect (transfer, "response-headers", G_CALLBACK (response_headers_cb), &seen);
  g_signal_connect (transfer, "data", G_CALLBACK (data_count_cb), data);
  g_signal_connect (transfer, "progress", G_CALLBACK (count_cb), &progress);
  g_signal_connect (transfer, "finished", G_CALLBACK (finished_cb), &finished);

  transfer->signals_blocked = TRUE;

  gmulti_transfer_reset_response (transfer);
  gmulti_transfer_set_state (transfer, GMULTI_TRANSFER_RECEIVING);
  transfer->run.status = 200;
  transfer->run.bytes_expected = 2;
  gmulti_transfer_emit_response_headers (transfer);
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "ok", 2, NULL));
  gmulti_transfer_report_progress (transfer, TRUE);
  gmulti_transfer_complete (transfer, NULL);
  gmulti_transfer_emit_finished (transfer);

  g_assert_cmpuint (seen.count, ==, 0);
  g_assert_cmpuint (data->len, ==, 0);
  g_assert_cmpuint (progress, ==, 0);
  g_assert_null (finished);
  g_assert_cmpuint (notified_total (&log), ==, 0);

  /* The state still changed, and the body was still collected. */
  g_assert_cmpint (gmulti_transfer_get_state (transfer), ==, GMULTI_TRANSFER_DONE);
  g_assert_cmpmem (transfer->body_buffer->data, transfer->body_buffer->len, "ok", 2);

  /* Request options still notify: they are the application's own changes. */
  gmulti_transfer_set_timeout (transfer, 10);
  g_assert_cmpuint (notified (&log, "timeout"), ==, 1);

  /* Unblocked, the next report catches up with what changed. */
  transfer->signals_blocked = FALSE;
  gmulti_transfer_report_progress (transfer, TRUE);
  g_assert_cmpuint (progress, ==, 1);
  g_assert_cmpuint (notified (&log, "status"), ==, 1);
  g_assert_cmpuint (notified (&log, "effective-uri"), ==, 1);
  g_assert_cmpuint (notified (&log, "bytes-received"), ==, 1);
  g_assert_cmpuint (notified (&log, "bytes-expected"), ==, 1);
  g_assert_cmpuint (notified (&log, "progress"), ==, 1);

  notify_log_clear (&log, transfer);
  g_assert_finalize_object (transfer);
  g_string_free (data, TRUE);
}

static void
fill_response (GMultiTransfer *transfer)
{
  transfer->run.status = 200;
  transfer->run.reason = g_strdup ("OK");
  transfer->run.response_headers = gmulti_headers_new ();
  transfer->run.response_trailers = gmulti_headers_new ();
  g_assert_true (gmulti_transfer_deliver_body (transfer, (const guint8 *) "body", 4, NULL));
  g_free (transfer->run.effective_uri);
  transfer->run.effective_uri = g_strdup ("http://elsewhere.example/");
  transfer->run.bytes_expected = 4;
  transfer->run.bytes_sent = 3;
  transfer->run.metrics.total_time = 1234;
  transfer->run.metrics.redirect_count = 2;
  g_clear_error (&transfer->run.error);
  transfer->run.error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_PROTOCOL, "bad");
  transfer->last_progress_us = 99;
}

static void
test_reset (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/start");
  GBytes *request = g_bytes_new_static ("payload", 7);
  GMultiMetrics zero = { 0 };
  guint8 buf[16];
  GBytes *body;

  gmulti_transfer_set_request_body (transfer, request);
  g_bytes_unref (request);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, 3, NULL), ==, 3);
  gmulti_transfer_pause (transfer);
  fill_response (transfer);

  gmulti_transfer_reset_response (transfer);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 0);
  g_assert_null (gmulti_transfer_get_reason_phrase (transfer));
  g_assert_null (gmulti_transfer_get_response_headers (transfer));
  g_assert_null (gmulti_transfer_get_response_trailers (transfer));
  g_assert_null (transfer->body_buffer);
  body = gmulti_transfer_get_response_body (transfer);
  g_assert_cmpuint (g_bytes_get_size (body), ==, 0);
  g_bytes_unref (body);
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, "http://example.com/start");
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 0);
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (transfer), ==, -1);
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, 0);
  g_assert_true (memcmp (&transfer->run.metrics, &zero, sizeof zero) == 0);
  g_assert_null (gmulti_transfer_get_error (transfer));
  g_assert_cmpint (transfer->last_progress_us, ==, 0);
  g_assert_true (gmulti_transfer_is_paused (transfer));
  /* The request body starts over. */
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, NULL), ==, 7);
  g_assert_cmpmem (buf, 7, "payload", 7);

  /* A new hop keeps metrics, error and effective URI. */
  fill_response (transfer);
  gmulti_transfer_begin_hop (transfer);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 0);
  g_assert_null (gmulti_transfer_get_reason_phrase (transfer));
  g_assert_null (gmulti_transfer_get_response_headers (transfer));
  g_assert_null (gmulti_transfer_get_response_trailers (transfer));
  g_assert_null (transfer->body_buffer);
  g_assert_cmpuint (gmulti_transfer_get_bytes_received (transfer), ==, 0);
  g_assert_cmpint (gmulti_transfer_get_bytes_expected (transfer), ==, -1);
  g_assert_cmpuint (gmulti_transfer_get_bytes_sent (transfer), ==, 0);
  g_assert_cmpint (transfer->last_progress_us, ==, 0);
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, "http://elsewhere.example/");
  g_assert_cmpint (transfer->run.metrics.total_time, ==, 1234);
  g_assert_cmpuint (transfer->run.metrics.redirect_count, ==, 2);
  g_assert_cmpuint (transfer->run.metrics.body_bytes_received, ==, 4);
  g_assert_error ((GError *) gmulti_transfer_get_error (transfer),
                  GMULTI_ERROR, GMULTI_ERROR_PROTOCOL);
  g_assert_cmpint (gmulti_transfer_read_request_body (transfer, buf, sizeof buf, NULL), ==, 7);

  g_assert_finalize_object (transfer);
}

static void
test_pause_resume (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  NotifyLog log;
  gboolean paused = FALSE;

  notify_log_init (&log, transfer);

  gmulti_transfer_pause (transfer);
  g_assert_true (gmulti_transfer_is_paused (transfer));
  g_assert_true (transfer->run.paused);
  g_object_get (transfer, "paused", &paused, NULL);
  g_assert_true (paused);
  g_assert_cmpuint (notified (&log, "paused"), ==, 1);

  gmulti_transfer_pause (transfer);
  g_assert_cmpuint (notified (&log, "paused"), ==, 1);

  gmulti_transfer_resume (transfer);
  g_assert_false (gmulti_transfer_is_paused (transfer));
  g_assert_cmpuint (notified (&log, "paused"), ==, 2);

  gmulti_transfer_resume (transfer);
  g_assert_cmpuint (notified (&log, "paused"), ==, 2);

  notify_log_clear (&log, transfer);
  g_assert_finalize_object (transfer);
}

static void
test_metrics (void)
{
  GMultiTransfer *transfer = gmulti_transfer_new ("http://example.com/");
  GMultiMetrics *metrics = gmulti_transfer_get_metrics (transfer);
  g_autoptr(GMultiMetrics) copy = NULL;
  GMultiMetrics *boxed;

  g_assert_true (metrics == &transfer->run.metrics);
  g_assert_true (G_TYPE_IS_BOXED (GMULTI_TYPE_METRICS));

  transfer->run.metrics = (GMultiMetrics) {
    .name_lookup_time = 1,
    .connect_time = 2,
    .tls_time = 3,
    .request_sent_time = 4,
    .first_byte_time = 5,
    .redirect_time = 6,
    .total_time = 7,
    .header_bytes_sent = 8,
    .body_bytes_sent = 9,
    .header_bytes_received = 10,
    .body_bytes_received = 11,
    .connection_id = 12,
    .redirect_count = 13,
    .connection_reused = TRUE,
  };

  copy = gmulti_metrics_copy (metrics);
  g_assert_true (copy != metrics);
  /* The copy does not follow later changes. */
  transfer->run.metrics.total_time = 700;

  g_assert_cmpint (gmulti_metrics_get_name_lookup_time (copy), ==, 1);
  g_assert_cmpint (gmulti_metrics_get_connect_time (copy), ==, 2);
  g_assert_cmpint (gmulti_metrics_get_tls_time (copy), ==, 3);
  g_assert_cmpint (gmulti_metrics_get_request_sent_time (copy), ==, 4);
  g_assert_cmpint (gmulti_metrics_get_first_byte_time (copy), ==, 5);
  g_assert_cmpint (gmulti_metrics_get_redirect_time (copy), ==, 6);
  g_assert_cmpint (gmulti_metrics_get_total_time (copy), ==, 7);
  g_assert_cmpuint (gmulti_metrics_get_header_bytes_sent (copy), ==, 8);
  g_assert_cmpuint (gmulti_metrics_get_body_bytes_sent (copy), ==, 9);
  g_assert_cmpuint (gmulti_metrics_get_header_bytes_received (copy), ==, 10);
  g_assert_cmpuint (gmulti_metrics_get_body_bytes_received (copy), ==, 11);
  g_assert_cmpuint (gmulti_metrics_get_connection_id (copy), ==, 12);
  g_assert_cmpuint (gmulti_metrics_get_redirect_count (copy), ==, 13);
  g_assert_true (gmulti_metrics_get_connection_reused (copy));
  g_assert_cmpint (gmulti_metrics_get_total_time (metrics), ==, 700);

  boxed = g_boxed_copy (GMULTI_TYPE_METRICS, metrics);
  g_assert_cmpint (gmulti_metrics_get_total_time (boxed), ==, 700);
  g_boxed_free (GMULTI_TYPE_METRICS, boxed);

  g_assert_finalize_object (transfer);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Transfer/defaults", test_defaults);
  g_test_add_func ("/GMulti/Transfer/setters-notify", test_setters_notify);
  g_test_add_func ("/GMulti/Transfer/uri-valid", test_uri_valid);
  g_test_add_func ("/GMulti/Transfer/uri-invalid-setter", test_uri_invalid_setter);
  g_test_add_func ("/GMulti/Transfer/uri-invalid-constructor", test_uri_invalid_constructor);
  g_test_add_func ("/GMulti/Transfer/method", test_method);
  g_test_add_func ("/GMulti/Transfer/header-injection", test_header_injection);
  g_test_add_func ("/GMulti/Transfer/validate-options", test_validate_options);
  g_test_add_func ("/GMulti/Transfer/body-bytes", test_body_bytes);
  g_test_add_func ("/GMulti/Transfer/body-func", test_body_func);
  g_test_add_func ("/GMulti/Transfer/body-func-misbehaviour", test_body_func_misbehaviour);
  g_test_add_func ("/GMulti/Transfer/deliver-collect", test_deliver_collect);
  g_test_add_func ("/GMulti/Transfer/deliver-write-func", test_deliver_write_func);
  g_test_add_func ("/GMulti/Transfer/data-signal", test_data_signal);
  g_test_add_func ("/GMulti/Transfer/progress", test_progress);
  g_test_add_func ("/GMulti/Transfer/response-and-finish", test_response_and_finish);
  g_test_add_func ("/GMulti/Transfer/signals-blocked", test_signals_blocked);
  g_test_add_func ("/GMulti/Transfer/reset", test_reset);
  g_test_add_func ("/GMulti/Transfer/pause-resume", test_pause_resume);
  g_test_add_func ("/GMulti/Transfer/metrics", test_metrics);

  return g_test_run ();
}
