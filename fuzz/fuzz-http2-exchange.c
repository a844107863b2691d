/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gmulti.h"
#include "engine/gmulti-resolver.h"
#include "engine-driver.h"

/*
 * HTTP/2 exchanges through the real engine: the input is what the server sends after
 * the client's preface, on a cleartext connection with prior knowledge that carries
 * three streams: a GET (1), a POST of 20000 bytes (3) and a GET (5) that is removed
 * midway. The harness plays the server in the same thread on a Unix socket the
 * resolver diverts 127.0.0.1 to (as exchange-harness.c does), reads and drops what the
 * client sends, and writes the input as it says:
 *
 *   FF FF   a 0xFF byte
 *   FF 'w'  what came since the last write goes to the socket now, and the engine runs
 *   FF 'p' / 'u'  pause / resume the GET on stream 1
 *   FF 'x'  remove the GET on stream 5 now (else it goes at the middle of the input)
 *   FF 't'  a turn of the engine's timer
 *   FF 'c'  the server closes the connection
 *
 * At the end the rest is written, the server closes, and the engine runs until every
 * transfer ended. Seeds begin with the server's SETTINGS, so the fuzzer starts deep.
 *
 * Checked: nothing crashes or leaks (memory, descriptors); each transfer that was not
 * removed ends exactly once, with a final status or a GError of ours; the body
 * collected and the byte counter agree; the engine never spins.
 */

#define CHECK(cond) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        abort (); \
      } \
  } G_STMT_END

#define N_TRANSFERS 3
#define MAX_CONNS 8
#define MAX_PUMP_ROUNDS 2000

typedef struct {
  GMultiTransfer *transfer;
  gboolean removed;
  guint n_messages;
} Transfer;

typedef struct {
  GMultiEngine *engine;
  EngineDriver driver;          /* the sockets and deadline the engine announced */
  int conns[MAX_CONNS];
  guint n_conns;
  gboolean closed;              /* the current (latest) connection */
  GByteArray *out;              /* input bytes not written yet */
  Transfer transfers[N_TRANSFERS];
} Harness;

static int listener = -1;

static void
read_messages (Harness *h)
{
  GMultiMessage *msg;

  while ((msg = gmulti_engine_info_read (h->engine, NULL)) != NULL)
    {
      Transfer *t = NULL;

      for (guint i = 0; i < N_TRANSFERS; i++)
        if (h->transfers[i].transfer == msg->transfer)
          t = &h->transfers[i];
      CHECK (t != NULL);
      CHECK (!t->removed);
      CHECK (t->n_messages++ == 0);
      if (msg->error != NULL)
        CHECK (msg->error->domain == GMULTI_ERROR && msg->error->message[0] != '\0');
      else
        CHECK (gmulti_transfer_get_status (msg->transfer) >= 200);
    }
}

static void
messages_cb (gpointer data)
{
  read_messages (data);
}

/* Accepts, and drops what the client sent. */
static gboolean
server_step (Harness *h)
{
  gboolean progress = FALSE;
  guint8 buffer[16384];
  int fd;

  while ((fd = accept4 (listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
    {
      CHECK (h->n_conns < MAX_CONNS);
      h->conns[h->n_conns++] = fd;
      h->closed = FALSE;
      progress = TRUE;
    }
  for (guint i = 0; i < h->n_conns; i++)
    while (recv (h->conns[i], buffer, sizeof buffer, MSG_DONTWAIT) > 0)
      progress = TRUE;
  return progress;
}

static void
pump (Harness *h)
{
  guint rounds = 0;

  for (;;)
    {
      gboolean progress = server_step (h);

      progress |= engine_driver_step (&h->driver);
      if (!progress)
        break;
      /* An upload keeps both sides busy for a while; a spin goes on for ever. */
      CHECK (++rounds < MAX_PUMP_ROUNDS);
    }
}

/* Writes what was queued to the latest connection (as much as it takes). */
static void
server_write (Harness *h)
{
  if (h->n_conns == 0 || h->closed)
    {
      g_byte_array_set_size (h->out, 0);
      return;
    }
  while (h->out->len > 0)
    {
      ssize_t n = send (h->conns[h->n_conns - 1], h->out->data, h->out->len,
                        MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n <= 0)
        {
          /* Full: the client reads some, then the rest goes. */
          if (n < 0 && errno == EAGAIN)
            {
              pump (h);
              continue;
            }
          g_byte_array_set_size (h->out, 0);
          break;
        }
      g_byte_array_remove_range (h->out, 0, (guint) n);
    }
}

static void
server_close (Harness *h)
{
  if (h->n_conns > 0 && !h->closed)
    shutdown (h->conns[h->n_conns - 1], SHUT_WR);
  h->closed = TRUE;
}

static void
remove_third (Harness *h)
{
  Transfer *t = &h->transfers[2];

  if (t->removed || t->n_messages > 0)
    return;
  CHECK (gmulti_engine_remove (h->engine, t->transfer) == GMULTI_ENGINE_OK);
  t->removed = TRUE;
}

static void
add_transfers (Harness *h)
{
  static const char *const paths[N_TRANSFERS] = { "/a", "/b", "/c" };

  for (guint i = 0; i < N_TRANSFERS; i++)
    {
      g_autofree char *uri = g_strconcat ("http://127.0.0.1:9", paths[i], NULL);
      GMultiTransfer *transfer = gmulti_transfer_new (uri);

      gmulti_transfer_set_http_version (transfer, GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE);
      gmulti_transfer_set_collect_body (transfer, TRUE);
      if (i == 1)
        {
          GBytes *body = g_bytes_new_take (g_malloc0 (20000), 20000);

          CHECK (gmulti_transfer_set_method (transfer, "POST", NULL));
          gmulti_transfer_set_request_body (transfer, body);
          g_bytes_unref (body);
        }
      h->transfers[i].transfer = transfer;
      CHECK (gmulti_engine_add (h->engine, transfer) == GMULTI_ENGINE_OK);
      /* The first alone until the server's SETTINGS: one stream at first. */
      pump (h);
    }
}

static gboolean
all_ended (Harness *h)
{
  for (guint i = 0; i < N_TRANSFERS; i++)
    if (!h->transfers[i].removed && h->transfers[i].n_messages == 0)
      return FALSE;
  return TRUE;
}

static void
run_input (Harness      *h,
           const guint8 *data,
           gsize         size)
{
  gsize i = 0;

  while (i < size)
    {
      guint8 c = data[i++];

      if (i > size / 2)
        remove_third (h);
      if (c != 0xff)
        {
          g_byte_array_append (h->out, &c, 1);
          continue;
        }
      if (i == size)
        break;
      switch (data[i++])
        {
        case 0xff:
          g_byte_array_append (h->out, &c, 1);
          break;
        case 'w':
          server_write (h);
          pump (h);
          break;
        case 'p':
          gmulti_transfer_pause (h->transfers[0].transfer);
          pump (h);
          break;
        case 'u':
          gmulti_transfer_resume (h->transfers[0].transfer);
          pump (h);
          break;
        case 'x':
          remove_third (h);
          pump (h);
          break;
        case 't':
          engine_driver_action (&h->driver, GMULTI_SOCKET_TIMEOUT, 0);
          pump (h);
          break;
        case 'c':
          server_write (h);
          server_close (h);
          pump (h);
          break;
        default:
          break;
        }
    }
}

static void
finish (Harness *h)
{
  gint64 give_up = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  gmulti_transfer_resume (h->transfers[0].transfer);
  remove_third (h);
  server_write (h);
  pump (h);
  while (!all_ended (h))
    {
      struct pollfd none;
      gint64 wait;

      for (guint i = 0; i < h->n_conns; i++)
        shutdown (h->conns[i], SHUT_WR);
      h->closed = TRUE;
      pump (h);
      if (all_ended (h))
        break;
      if (g_get_monotonic_time () > give_up)
        {
          fprintf (stderr, "a transfer never ended\n");
          abort ();
        }
      /* Only a deadline is left to wait for. */
      wait = h->driver.timer_deadline < 0 ? 10000 : MAX (h->driver.timer_deadline - g_get_monotonic_time (), 0);
      poll (&none, 0, (int) MIN (wait / 1000 + 1, 100));
    }
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  struct sockaddr_un addr = { 0, };
  socklen_t len;

  if (listener >= 0)
    return 0;
  g_setenv ("G_SLICE", "always-malloc", TRUE);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  listener = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  CHECK (listener >= 0);
  addr.sun_family = AF_UNIX;
  len = offsetof (struct sockaddr_un, sun_path) + 1 +
        g_snprintf (addr.sun_path + 1, sizeof addr.sun_path - 1, "gmulti-fuzz-%d-h2",
                    (int) getpid ());
  CHECK (bind (listener, (struct sockaddr *) &addr, len) == 0);
  CHECK (listen (listener, 16) == 0);
  gmulti_resolver_divert_loopback ((struct sockaddr *) &addr, len);
  return 0;
}

static int
lowest_free_fd (void)
{
  int fd = dup (2);

  CHECK (fd >= 0);
  close (fd);
  return fd;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Harness harness = { 0, }, *h = &harness;
  int fd_mark, fd;

  LLVMFuzzerInitialize (NULL, NULL);
  fd_mark = lowest_free_fd ();
  h->out = g_byte_array_new ();
  h->engine = gmulti_engine_new ();
  engine_driver_init (&h->driver, h->engine, messages_cb, h);

  add_transfers (h);
  run_input (h, data, size);
  finish (h);

  for (guint i = 0; i < N_TRANSFERS; i++)
    {
      Transfer *t = &h->transfers[i];
      GBytes *body = gmulti_transfer_get_response_body (t->transfer);

      if (g_getenv ("FUZZ_VERBOSE") != NULL)
        fprintf (stderr, "transfer %u: %s, status %u, %s\n", i + 1,
                 t->removed ? "removed" : "not removed",
                 gmulti_transfer_get_status (t->transfer),
                 gmulti_transfer_get_error (t->transfer) != NULL
                 ? gmulti_transfer_get_error (t->transfer)->message : "success");
      if (!t->removed)
        {
          CHECK (t->n_messages == 1);
          CHECK (gmulti_engine_remove (h->engine, t->transfer) == GMULTI_ENGINE_OK);
        }
      if (body != NULL)
        CHECK (g_bytes_get_size (body) == gmulti_transfer_get_bytes_received (t->transfer));
      g_clear_pointer (&body, g_bytes_unref);
    }
  read_messages (h);
  CHECK (gmulti_engine_get_n_transfers (h->engine) == 0);
  gmulti_engine_unref (h->engine);
  engine_driver_clear (&h->driver);
  for (guint i = 0; i < N_TRANSFERS; i++)
    g_object_unref (h->transfers[i].transfer);
  for (guint i = 0; i < h->n_conns; i++)
    close (h->conns[i]);
  while ((fd = accept4 (listener, NULL, NULL, SOCK_CLOEXEC)) >= 0)
    close (fd);
  g_byte_array_unref (h->out);
  CHECK (lowest_free_fd () == fd_mark);
  return 0;
}
