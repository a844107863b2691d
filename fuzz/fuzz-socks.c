/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "gmulti-error.h"
#include "gmulti-proxy.h"
#include "transport/gmulti-socks-link.h"

/* The SOCKS handshake (gmulti/transport/gmulti-socks-link.c) against a proxy whose
 * answers are the input. Byte 0 picks the proxy (modulo 4: socks5:// without a user,
 * socks5:// with one, socks5h://, socks4a://); byte 1 how the answers are cut (its
 * low 4 bits + 1: the most bytes one read returns; bit 7: every other read finds
 * nothing yet). The rest is everything the proxy sends.
 *
 * Checked: the handshake ends (DONE or an error) without reading past what a valid
 * exchange holds; on DONE the bytes read are exactly what a second, plain reading of
 * the answers says, and everything after them comes out of the link unchanged; an
 * error is a GMULTI_ERROR proxy code whose message never holds the password. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        abort (); \
      } \
  } G_STMT_END

#define PASSWORD "pw-SECRET"

typedef struct {
  GMultiLink link;
  const guint8 *data;
  gsize size;
  gsize pos;
  gsize max_read;
  gboolean stalls;
  guint n_recv;
} ScriptLink;

static GMultiLinkStatus
script_open (GMultiLink      *link,
             GMultiLinkOpen  *io,
             GError         **error)
{
  return GMULTI_LINK_DONE;
}

static gssize
script_recv (GMultiLink  *link,
             guint8      *buffer,
             gsize        length,
             GError     **error)
{
  ScriptLink *self = (ScriptLink *) link;
  gsize n;

  CHECK (length > 0);
  if (self->stalls && self->n_recv++ % 2 == 0)
    {
      errno = EAGAIN;
      return -1;
    }
  n = MIN (MIN (length, self->max_read), self->size - self->pos);
  memcpy (buffer, self->data + self->pos, n);
  self->pos += n;
  return (gssize) n;
}

static gssize
script_send (GMultiLink          *link,
             const struct iovec  *iov,
             int                  n_iov,
             GError             **error)
{
  gsize total = 0;

  for (int i = 0; i < n_iov; i++)
    total += iov[i].iov_len;
  return (gssize) total;
}

static const GMultiLinkOps script_ops = {
  .name = "script",
  .open = script_open,
  .recv = script_recv,
  .send = script_send,
};

/* How many bytes a successful handshake reads, by a plain reading of @answers; 0:
 * not a successful handshake. */
static gsize
expected_length (const guint8 *answers,
                 gsize         size,
                 guint         mode)
{
  gsize pos = 0;

  if (mode == 3)
    return size >= 8 && answers[0] == 0 && answers[1] == 90 ? 8 : 0;
  if (size < 2 || answers[0] != 5)
    return 0;
  if (answers[1] == 2 && mode == 1)
    {
      if (size < 4 || answers[2] != 1 || answers[3] != 0)
        return 0;
      pos = 4;
    }
  else if (answers[1] == 0)
    pos = 2;
  else
    return 0;
  if (size < pos + 5 || answers[pos] != 5 || answers[pos + 1] != 0)
    return 0;
  switch (answers[pos + 3])
    {
    case 1: pos += 4 + 4 + 2; break;
    case 4: pos += 4 + 16 + 2; break;
    case 3: pos += 4 + 1 + answers[pos + 4] + 2; break;
    default: return 0;
    }
  return pos <= size ? pos : 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const char *const uris[] = {
    "socks5://127.0.0.1:1080",
    "socks5://user:" PASSWORD "@127.0.0.1:1080",
    "socks5h://127.0.0.1:1080",
    "socks4a://user@127.0.0.1:1080",
  };
  g_autoptr(GMultiProxy) proxy = NULL;
  g_autoptr(GError) error = NULL;
  ScriptLink *lower;
  GMultiLink *link;
  GMultiAddress address = { 0 };
  struct sockaddr_in *sin = (struct sockaddr_in *) &address.addr;
  GMultiLinkStatus status = GMULTI_LINK_WANT_READ;
  guint mode;
  gsize expected;

  if (size < 2)
    return 0;
  mode = data[0] % 4;
  proxy = gmulti_proxy_new_from_uri (uris[mode], NULL);
  CHECK (proxy != NULL);
  lower = g_new0 (ScriptLink, 1);
  lower->link.ops = &script_ops;
  lower->data = data + 2;
  lower->size = size - 2;
  lower->max_read = (data[1] & 0x0f) + 1;
  lower->stalls = (data[1] & 0x80) != 0;
  sin->sin_family = AF_INET;
  sin->sin_port = g_htons (443);
  address.addrlen = sizeof *sin;
  link = gmulti_socks_link_new (&lower->link, proxy, "origin.example", 443,
                                proxy->kind == GMULTI_PROXY_SOCKS5 ? &address : NULL);

  /* Each call reads at least a byte or finds nothing there: bounded by the input. */
  for (gsize calls = 0; status == GMULTI_LINK_WANT_READ || status == GMULTI_LINK_WANT_WRITE;
       calls++)
    {
      GMultiLinkOpen io = { .ready_fd = -1 };
      gsize before = lower->pos;

      CHECK (calls <= 2 * (lower->size + 2));
      status = gmulti_link_open (link, &io, &error);
      CHECK (status != GMULTI_LINK_WANT_WRITE);
      if (status == GMULTI_LINK_WANT_READ && lower->pos == lower->size && before == lower->pos &&
          !lower->stalls)
        break;   /* the proxy said all it had and the handshake waits for more */
    }

  expected = expected_length (data + 2, size - 2, mode);
  if (status == GMULTI_LINK_DONE)
    {
      guint8 buffer[64];
      gsize rest = 0;

      CHECK (error == NULL);
      CHECK (expected != 0);
      CHECK (lower->pos == expected);
      /* What follows the reply is the origin's, byte for byte. */
      lower->stalls = FALSE;
      for (;;)
        {
          gssize n = gmulti_link_recv (link, buffer, sizeof buffer, NULL);

          CHECK (n >= 0);
          if (n == 0)
            break;
          CHECK (memcmp (buffer, data + 2 + expected + rest, n) == 0);
          rest += (gsize) n;
        }
      CHECK (expected + rest == size - 2);
    }
  else if (status == GMULTI_LINK_ERROR)
    {
      CHECK (error != NULL && error->domain == GMULTI_ERROR);
      CHECK (error->code == GMULTI_ERROR_PROXY_CONNECT_FAILED ||
             error->code == GMULTI_ERROR_PROXY_AUTH_REQUIRED ||
             error->code == GMULTI_ERROR_PROXY_SOCKS_FAILED ||
             error->code == GMULTI_ERROR_PROXY_PROTOCOL);
      CHECK (strstr (error->message, PASSWORD) == NULL);
      CHECK (expected == 0 || lower->pos < expected);
    }
  else
    {
      /* Waiting for more: nothing a successful handshake needs was there. */
      CHECK (expected == 0);
    }
  gmulti_link_free_chain (link);
  return 0;
}
