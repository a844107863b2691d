/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "gmulti-error.h"
#include "gmulti-i18n-private.h"
#include "gmulti-http-tunnel-link.h"
#include "http1/gmulti-http1-parser.h"

/* CONNECT as a link: the request and the proxy's answer are its open(); after them it
 * is a plain pipe, except for the first tunnelled bytes that came with the answer. */

typedef enum {
  TUNNEL_SENDING,
  TUNNEL_READING,
  TUNNEL_OPEN,
} TunnelState;

typedef struct {
  GMultiLink link;
  GMultiProxy *proxy;
  char *origin;              /* "host:port" as sent, for messages */
  gboolean authorized;       /* the request carries Proxy-Authorization */
  GMultiHeaders *challenge;  /* the fields of a 407 answer, until taken */
  TunnelState state;
  GString *request;          /* until sent */
  gsize sent;
  guint8 *answer;            /* the answer as read; once open, [pos, length) are
                                tunnel bytes not returned yet */
  gsize length;
  gsize pos;
} GMultiHttpTunnelLink;

static void
set_connect_error (GMultiHttpTunnelLink  *self,
                   GError               **error,
                   const char            *reason)
{
  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_CONNECT_FAILED,
               _("The connection to the proxy %s:%u failed: %s"),
               self->proxy->host, self->proxy->port, reason);
}

static GMultiLinkStatus
send_request (GMultiHttpTunnelLink  *self,
              GError               **error)
{
  while (self->sent < self->request->len)
    {
      struct iovec iov = { self->request->str + self->sent, self->request->len - self->sent };
      GError *local_error = NULL;
      gssize n = gmulti_link_send (self->link.lower, &iov, 1, &local_error);

      if (n < 0 && local_error == NULL && errno == EAGAIN)
        return GMULTI_LINK_WANT_WRITE;
      if (n < 0)
        {
          set_connect_error (self, error, local_error != NULL ? local_error->message
                                                              : g_strerror (errno));
          g_clear_error (&local_error);
          return GMULTI_LINK_ERROR;
        }
      self->sent += n;
    }
  /* The request held the password: gone as soon as it is out. */
  memset (self->request->str, 0, self->request->len);
  g_string_free (self->request, TRUE);
  self->request = NULL;
  self->state = TUNNEL_READING;
  return GMULTI_LINK_DONE;
}

/* A final answer was parsed: 2xx opens the tunnel, anything else ends it. */
static GMultiLinkStatus
judge_answer (GMultiHttpTunnelLink  *self,
              GMultiHttp1Parser     *parser,
              GError               **error)
{
  if (parser->status >= 200 && parser->status < 300)
    {
      self->state = TUNNEL_OPEN;
      if (self->pos == self->length)
        g_clear_pointer (&self->answer, g_free);
      return GMULTI_LINK_DONE;
    }
  if (parser->status == 407)
    {
      /* Kept for the engine, which may answer the challenge on a new connection. */
      g_clear_pointer (&self->challenge, gmulti_headers_unref);
      self->challenge = gmulti_http1_parser_steal_headers (parser);
      if (!self->authorized)
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                     _("The proxy %s:%u requires authentication, and no credentials were given"),
                     self->proxy->host, self->proxy->port);
      else if (self->proxy->user != NULL)
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                     _("The proxy %s:%u refused the credentials of the user %s"),
                     self->proxy->host, self->proxy->port, self->proxy->user);
      else
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                     _("The proxy %s:%u refused the credentials"),
                     self->proxy->host, self->proxy->port);
      return GMULTI_LINK_ERROR;
    }
  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_TUNNEL_FAILED,
               _("The proxy %s:%u refused the tunnel to %s: %u %s"),
               self->proxy->host, self->proxy->port, self->origin, parser->status,
               parser->reason != NULL ? parser->reason : "");
  return GMULTI_LINK_ERROR;
}

/* Parses what was read so far. DONE once the answer is judged, WANT_READ for more. */
static GMultiLinkStatus
parse_answer (GMultiHttpTunnelLink  *self,
              GError               **error)
{
  GMultiHttp1Parser parser;
  GMultiLinkStatus status = GMULTI_LINK_WANT_READ;
  GError *local_error = NULL;
  gsize offset = 0;

  /* The answer is small: parsed again from its start as bytes come. A CONNECT answer
   * has no body (as for HEAD). */
  gmulti_http1_parser_init (&parser);
  gmulti_http1_parser_reset (&parser, TRUE);
  for (;;)
    {
      gsize consumed = 0;
      const guint8 *body = NULL;
      gsize body_length = 0;
      GMultiHttp1Event event = gmulti_http1_parser_feed (&parser, self->answer + offset,
                                                         self->length - offset, &consumed,
                                                         &body, &body_length, &local_error);

      offset += consumed;
      if (event == GMULTI_HTTP1_ERROR)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_PROTOCOL,
                       _("The proxy %s:%u sent a malformed answer to CONNECT: %s"),
                       self->proxy->host, self->proxy->port, local_error->message);
          g_clear_error (&local_error);
          status = GMULTI_LINK_ERROR;
          break;
        }
      if (event == GMULTI_HTTP1_HEADERS && parser.status >= 200)
        {
          self->pos = offset;
          status = judge_answer (self, &parser, error);
          break;
        }
      if (event == GMULTI_HTTP1_HEADERS)
        {
          /* 1xx: the answer follows. */
          gmulti_http1_parser_reset (&parser, TRUE);
          continue;
        }
      if (event == GMULTI_HTTP1_NEED_MORE || consumed == 0)
        break;
    }
  gmulti_http1_parser_clear (&parser);
  if (status == GMULTI_LINK_WANT_READ && self->length >= GMULTI_HTTP_TUNNEL_MAX_HEAD)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_PROTOCOL,
                   _("The proxy %s:%u sent an answer to CONNECT longer than %u bytes"),
                   self->proxy->host, self->proxy->port, GMULTI_HTTP_TUNNEL_MAX_HEAD);
      status = GMULTI_LINK_ERROR;
    }
  return status;
}

static GMultiLinkStatus
read_answer (GMultiHttpTunnelLink  *self,
             GError               **error)
{
  for (;;)
    {
      GError *local_error = NULL;
      gssize n;
      GMultiLinkStatus status;

      if (self->answer == NULL)
        self->answer = g_malloc (GMULTI_HTTP_TUNNEL_MAX_HEAD);
      n = gmulti_link_recv (self->link.lower, self->answer + self->length,
                            GMULTI_HTTP_TUNNEL_MAX_HEAD - self->length, &local_error);
      if (n < 0 && local_error == NULL && errno == EAGAIN)
        return GMULTI_LINK_WANT_READ;
      if (n < 0)
        {
          set_connect_error (self, error, local_error != NULL ? local_error->message
                                                              : g_strerror (errno));
          g_clear_error (&local_error);
          return GMULTI_LINK_ERROR;
        }
      if (n == 0)
        {
          if (self->length == 0)
            set_connect_error (self, error, _("it closed the connection before answering CONNECT"));
          else
            g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_PROXY_PROTOCOL,
                         _("The proxy %s:%u closed the connection in its answer to CONNECT"),
                         self->proxy->host, self->proxy->port);
          return GMULTI_LINK_ERROR;
        }
      self->length += n;
      status = parse_answer (self, error);
      if (status != GMULTI_LINK_WANT_READ)
        return status;
    }
}

static GMultiLinkStatus
tunnel_open (GMultiLink      *link,
             GMultiLinkOpen  *io,
             GError         **error)
{
  GMultiHttpTunnelLink *self = (GMultiHttpTunnelLink *) link;

  if (self->state == TUNNEL_SENDING)
    {
      GMultiLinkStatus status = send_request (self, error);

      if (status != GMULTI_LINK_DONE)
        return status;
    }
  if (self->state == TUNNEL_READING)
    return read_answer (self, error);
  return GMULTI_LINK_DONE;
}

static gssize
tunnel_recv (GMultiLink  *link,
             guint8      *buffer,
             gsize        length,
             GError     **error)
{
  GMultiHttpTunnelLink *self = (GMultiHttpTunnelLink *) link;

  /* What came with the answer goes first. */
  if (G_UNLIKELY (self->answer != NULL))
    {
      gsize n = MIN (length, self->length - self->pos);

      memcpy (buffer, self->answer + self->pos, n);
      self->pos += n;
      if (self->pos == self->length)
        g_clear_pointer (&self->answer, g_free);
      return n;
    }
  return gmulti_link_recv (link->lower, buffer, length, error);
}

static gssize
tunnel_send (GMultiLink          *link,
             const struct iovec  *iov,
             int                  n_iov,
             GError             **error)
{
  return gmulti_link_send (link->lower, iov, n_iov, error);
}

static gsize
tunnel_pending (GMultiLink *link)
{
  GMultiHttpTunnelLink *self = (GMultiHttpTunnelLink *) link;

  if (self->state == TUNNEL_OPEN && self->answer != NULL)
    return self->length - self->pos;
  return gmulti_link_pending (link->lower);
}

static gsize
tunnel_buffered (GMultiLink *link)
{
  GMultiHttpTunnelLink *self = (GMultiHttpTunnelLink *) link;
  gsize own = self->state == TUNNEL_OPEN && self->answer != NULL ? self->length - self->pos : 0;

  return own + gmulti_link_buffered (link->lower);
}

static gboolean
tunnel_eof_was_clean (GMultiLink *link)
{
  return gmulti_link_eof_was_clean (link->lower);
}

static void
tunnel_free (GMultiLink *link)
{
  GMultiHttpTunnelLink *self = (GMultiHttpTunnelLink *) link;

  if (self->request != NULL)
    {
      memset (self->request->str, 0, self->request->len);
      g_string_free (self->request, TRUE);
    }
  g_free (self->answer);
  g_free (self->origin);
  g_clear_pointer (&self->challenge, gmulti_headers_unref);
  gmulti_proxy_unref (self->proxy);
  g_free (self);
}

static const GMultiLinkOps tunnel_ops = {
  .name = "http-tunnel",
  .open = tunnel_open,
  .recv = tunnel_recv,
  .send = tunnel_send,
  .pending = tunnel_pending,
  .buffered = tunnel_buffered,
  .eof_was_clean = tunnel_eof_was_clean,
  .free = tunnel_free,
};

GMultiLink *
gmulti_http_tunnel_link_new (GMultiLink  *lower,
                             GMultiProxy *proxy,
                             const char  *host,
                             guint16      port,
                             const char  *authorization,
                             const char  *user_agent)
{
  GMultiHttpTunnelLink *self = g_new0 (GMultiHttpTunnelLink, 1);
  gboolean literal6 = strchr (host, ':') != NULL;

  self->link.ops = &tunnel_ops;
  self->link.lower = lower;
  self->proxy = gmulti_proxy_ref (proxy);
  self->origin = g_strdup_printf (literal6 ? "[%s]:%u" : "%s:%u", host, port);
  self->request = g_string_sized_new (256);
  /* RFC 9110 9.3.6: authority-form, and the same as Host. */
  g_string_append_printf (self->request, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n",
                          self->origin, self->origin);
  if (authorization != NULL)
    {
      g_string_append_printf (self->request, "Proxy-Authorization: %s\r\n", authorization);
      self->authorized = TRUE;
    }
  if (user_agent != NULL)
    g_string_append_printf (self->request, "User-Agent: %s\r\n", user_agent);
  g_string_append (self->request, "\r\n");
  return &self->link;
}

GMultiHeaders *
gmulti_http_tunnel_link_take_challenge (GMultiLink *link)
{
  GMultiHttpTunnelLink *self = (GMultiHttpTunnelLink *) link;

  g_return_val_if_fail (link->ops == &tunnel_ops, NULL);
  return g_steal_pointer (&self->challenge);
}
