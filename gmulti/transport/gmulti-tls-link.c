/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include "gmulti-tls-link.h"

/* GMultiTls as a link: its calls, with the errno contract of gmulti-link.h. */

typedef struct {
  GMultiLink link;
  GMultiTls *tls;
} GMultiTlsLink;

static GMultiLinkStatus
status_to_link (GMultiTlsStatus status)
{
  switch (status)
    {
    case GMULTI_TLS_DONE:
      return GMULTI_LINK_DONE;
    case GMULTI_TLS_WANT_READ:
      return GMULTI_LINK_WANT_READ;
    case GMULTI_TLS_WANT_WRITE:
      return GMULTI_LINK_WANT_WRITE;
    case GMULTI_TLS_ERROR:
    default:
      return GMULTI_LINK_ERROR;
    }
}

static GMultiLinkStatus
tls_open (GMultiLink      *link,
          GMultiLinkOpen  *io,
          GError         **error)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;

  return status_to_link (gmulti_tls_handshake_step (self->tls, error));
}

/* "Not ready" is told from a failure by the error itself, not by whether the caller
 * asked for it: an idle connection reads with no error location, and must close on a
 * failure rather than wait for readiness that keeps coming. */
static gssize
read_result (gssize   n,
             GError  *local_error,
             GError **error)
{
  if (n < 0)
    {
      errno = local_error != NULL ? ECONNRESET : EAGAIN;
      if (local_error != NULL)
        g_propagate_error (error, local_error);
    }
  return n;
}

static gssize
tls_recv (GMultiLink  *link,
          guint8      *buffer,
          gsize        length,
          GError     **error)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;
  GError *local_error = NULL;
  gssize n = gmulti_tls_recv (self->tls, buffer, length, &local_error);

  return read_result (n, local_error, error);
}

static gssize
tls_recv_record (GMultiLink       *link,
                 GMultiTlsRecord  *record,
                 GError          **error)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;
  GError *local_error = NULL;
  gssize n = gmulti_tls_recv_record (self->tls, record, &local_error);

  return read_result (n, local_error, error);
}

static gssize
tls_send (GMultiLink          *link,
          const struct iovec  *iov,
          int                  n_iov,
          GError             **error)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;
  GError *local_error = NULL;
  gssize n = gmulti_tls_send (self->tls, iov, n_iov, &local_error);

  if (n < 0)
    {
      errno = local_error != NULL ? EPIPE : EAGAIN;
      if (local_error != NULL)
        g_propagate_error (error, local_error);
    }
  return n;
}

static gsize
tls_pending (GMultiLink *link)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;

  return gmulti_tls_pending (self->tls) + gmulti_link_pending (link->lower);
}

static gsize
tls_buffered (GMultiLink *link)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;

  return gmulti_tls_buffered (self->tls) + gmulti_link_buffered (link->lower);
}

static GMultiLinkInterest
tls_interest (GMultiLink *link)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;

  /* Records GnuTLS could not write yet go out whatever the protocol waits for. */
  return (gmulti_tls_wants_write (self->tls) ? GMULTI_LINK_INTEREST_WRITE : 0) |
         gmulti_link_interest (link->lower);
}

static GMultiLinkStatus
tls_flush (GMultiLink  *link,
           GError     **error)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;

  return status_to_link (gmulti_tls_flush (self->tls, error));
}

static gboolean
tls_eof_was_clean (GMultiLink *link)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;

  return gmulti_tls_was_clean_close (self->tls);
}

static void
tls_trim (GMultiLink *link,
          gboolean    keep_if_streaming)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;

  gmulti_tls_trim (self->tls, keep_if_streaming);
  gmulti_link_trim (link->lower, keep_if_streaming);
}

static void
tls_free (GMultiLink *link)
{
  GMultiTlsLink *self = (GMultiTlsLink *) link;

  /* close_notify, best effort, while the link below is still there. */
  gmulti_tls_close (self->tls);
  gmulti_tls_free (self->tls);
  g_free (self);
}

static const GMultiLinkOps tls_ops = {
  .name = "tls",
  .open = tls_open,
  .recv = tls_recv,
  .send = tls_send,
  .recv_record = tls_recv_record,
  .pending = tls_pending,
  .buffered = tls_buffered,
  .interest = tls_interest,
  .flush = tls_flush,
  .eof_was_clean = tls_eof_was_clean,
  .trim = tls_trim,
  .free = tls_free,
};

/* The most ciphertext of one TLS record (RFC 8446: 2^14 + 256, and the header): what
 * GnuTLS may hold of a record it is assembling, which buffered() cannot see. */
#define TLS_RECORD_MAX (16384 + 256 + 5)

GMultiLink *
gmulti_tls_link_new (GMultiLink        *lower,
                     GMultiTlsContext  *context,
                     GMultiTlsConfig   *config,
                     const char        *host,
                     guint16            port,
                     GError           **error)
{
  GMultiTlsLink *self;
  GMultiTls *tls;

  g_return_val_if_fail (lower != NULL, NULL);

  tls = gmulti_tls_new (context, config, lower, host, port, error);
  if (tls == NULL)
    return NULL;
  self = g_new0 (GMultiTlsLink, 1);
  self->link.ops = &tls_ops;
  self->link.lower = lower;
  self->link.unseen_max = TLS_RECORD_MAX;
  self->tls = tls;
  return &self->link;
}

GMultiTls *
gmulti_tls_link_get_tls (GMultiLink *link)
{
  g_return_val_if_fail (link->ops == &tls_ops, NULL);

  return ((GMultiTlsLink *) link)->tls;
}
