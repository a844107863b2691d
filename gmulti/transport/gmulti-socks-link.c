/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "gmulti-socks-link.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* The SOCKS handshake as a link: each open() call writes what is left of the current
 * request and reads what is left of the current answer, exactly that many bytes, so
 * that whatever the proxy sends after its reply (the origin's first bytes) stays in
 * the link below for the protocol. Once open, every call goes straight below. */

typedef enum {
  STEP_GREETING,               /* SOCKS5: methods offered / method chosen */
  STEP_AUTH,                   /* RFC 1929: user and password / status */
  STEP_CONNECT,                /* SOCKS5: CONNECT / the reply's first five bytes */
  STEP_CONNECT_REST,           /* SOCKS5: the rest of the bound address */
  STEP_SOCKS4,                 /* SOCKS4a: CONNECT / the 8-byte reply */
  STEP_OPEN,
  STEP_FAILED,
} Step;

/* The longest request: a SOCKS4a CONNECT with a 255-byte user id and host name. */
#define OUT_MAX (8 + 255 + 1 + 255 + 1)
/* The longest answer read at once: the rest of a SOCKS5 reply with a bound name. */
#define IN_MAX (255 + 2)

typedef struct {
  GMultiLink link;
  GMultiProxy *proxy;
  char *host;                  /* the origin, for messages and SOCKS5h/4a */
  guint16 port;
  gboolean have_address;
  GMultiAddress address;       /* SOCKS5: the origin, resolved here */
  Step step;
  GError *early_error;         /* what new() found unusable, told by the first open() */
  guint8 out[OUT_MAX];
  gsize out_len;
  gsize out_pos;
  guint8 in[IN_MAX];
  gsize in_len;
  gsize in_want;
} GMultiSocksLink;

/* "host:port" of the proxy, brackets around an IPv6 address; never its user. */
static char *
proxy_name (GMultiSocksLink *self)
{
  if (strchr (self->proxy->host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", self->proxy->host, self->proxy->port);
  return g_strdup_printf ("%s:%u", self->proxy->host, self->proxy->port);
}

static GMultiLinkStatus
fail (GMultiSocksLink  *self,
      GError          **error,
      GMultiError       code,
      const char       *format,
      ...) G_GNUC_PRINTF (4, 5);

/* The message names the proxy, then says what went wrong (@format). */
static GMultiLinkStatus
fail (GMultiSocksLink  *self,
      GError          **error,
      GMultiError       code,
      const char       *format,
      ...)
{
  g_autofree char *name = proxy_name (self);
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  /* The user and password are in the request buffer: drop them now. */
  memset (self->out, 0, sizeof self->out);
  self->step = STEP_FAILED;
  g_set_error (error, GMULTI_ERROR, code, _("SOCKS proxy %s: %s"), name, detail);
  return GMULTI_LINK_ERROR;
}

static void
expect (GMultiSocksLink *self,
        Step             step,
        gsize            in_want)
{
  self->step = step;
  self->out_pos = 0;
  self->in_len = 0;
  self->in_want = in_want;
}

static void
put (GMultiSocksLink *self,
     const void      *data,
     gsize            length)
{
  g_assert (self->out_len + length <= sizeof self->out);
  memcpy (self->out + self->out_len, data, length);
  self->out_len += length;
}

static void
put_byte (GMultiSocksLink *self,
          guint8           byte)
{
  put (self, &byte, 1);
}

static void
put_port (GMultiSocksLink *self)
{
  put_byte (self, self->port >> 8);
  put_byte (self, self->port & 0xff);
}

static gboolean
has_user (GMultiSocksLink *self)
{
  return self->proxy->user != NULL && self->proxy->user[0] != '\0';
}

static void
start_greeting (GMultiSocksLink *self)
{
  self->out_len = 0;
  put_byte (self, 5);
  /* Offer user/password only with one to give: a proxy that wants it and gets no
   * offer answers 0xFF, which tells the user what is missing. */
  if (has_user (self))
    {
      put_byte (self, 2);
      put_byte (self, 0x00);
      put_byte (self, 0x02);
    }
  else
    {
      put_byte (self, 1);
      put_byte (self, 0x00);
    }
  expect (self, STEP_GREETING, 2);
}

static void
start_auth (GMultiSocksLink *self)
{
  const char *password = self->proxy->password != NULL ? self->proxy->password : "";
  gsize user_len = strlen (self->proxy->user);
  gsize password_len = strlen (password);

  self->out_len = 0;
  put_byte (self, 1);
  put_byte (self, (guint8) user_len);
  put (self, self->proxy->user, user_len);
  put_byte (self, (guint8) password_len);
  put (self, password, password_len);
  expect (self, STEP_AUTH, 2);
}

static void
start_connect (GMultiSocksLink *self)
{
  self->out_len = 0;
  put_byte (self, 5);
  put_byte (self, 1);          /* CONNECT */
  put_byte (self, 0);
  if (self->have_address && self->address.addr.ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) &self->address.addr;

      put_byte (self, 1);
      put (self, &sin->sin_addr, 4);
    }
  else if (self->have_address)
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) &self->address.addr;

      put_byte (self, 4);
      put (self, &sin6->sin6_addr, 16);
    }
  else
    {
      gsize length = strlen (self->host);

      put_byte (self, 3);
      put_byte (self, (guint8) length);
      put (self, self->host, length);
    }
  put_port (self);
  /* VER REP RSV ATYP and the first byte of the address: enough to know the rest. */
  expect (self, STEP_CONNECT, 5);
}

static void
start_socks4 (GMultiSocksLink *self)
{
  const char *user = self->proxy->user != NULL ? self->proxy->user : "";
  static const guint8 invalid_ip[4] = { 0, 0, 0, 1 };   /* SOCKS4a: "name follows" */

  self->out_len = 0;
  put_byte (self, 4);
  put_byte (self, 1);          /* CONNECT */
  put_port (self);
  put (self, invalid_ip, 4);
  put (self, user, strlen (user) + 1);
  put (self, self->host, strlen (self->host) + 1);
  expect (self, STEP_SOCKS4, 8);
}

static const char *
socks5_reply_name (guint code)
{
  switch (code)
    {
    case 1: return _("general SOCKS server failure");
    case 2: return _("connection not allowed by the proxy's rules");
    case 3: return _("network unreachable");
    case 4: return _("host unreachable");
    case 5: return _("connection refused by the destination host");
    case 6: return _("TTL expired");
    case 7: return _("command not supported");
    case 8: return _("address type not supported");
    default: return _("unknown reply code");
    }
}

static GMultiLinkStatus
socks5_refused (GMultiSocksLink  *self,
                guint             code,
                GError          **error)
{
  return fail (self, error, GMULTI_ERROR_PROXY_SOCKS_FAILED,
               _("could not connect to %s:%u: %s (%u)"),
               self->host, self->port, socks5_reply_name (code), code);
}

/* The answer of the current step is complete: check it and start the next one. */
static GMultiLinkStatus
advance (GMultiSocksLink  *self,
         GError          **error)
{
  const guint8 *in = self->in;

  switch (self->step)
    {
    case STEP_GREETING:
      if (in[0] != 5)
        return fail (self, error, GMULTI_ERROR_PROXY_PROTOCOL,
                     _("answered with version %u"), in[0]);
      if (in[1] == 0xff)
        return fail (self, error, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                     has_user (self)
                     ? _("accepts none of the authentication methods offered")
                     : _("requires a user name and password"));
      if (in[1] == 0x02 && has_user (self))
        start_auth (self);
      else if (in[1] == 0x00)
        start_connect (self);
      else
        return fail (self, error, GMULTI_ERROR_PROXY_PROTOCOL,
                     _("chose an authentication method not offered (%u)"),
                     in[1]);
      return GMULTI_LINK_DONE;

    case STEP_AUTH:
      memset (self->out, 0, sizeof self->out);
      if (in[0] != 1)
        return fail (self, error, GMULTI_ERROR_PROXY_PROTOCOL,
                     _("answered the password with version %u"), in[0]);
      if (in[1] != 0)
        return fail (self, error, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                     _("refused the user name and password"));
      start_connect (self);
      return GMULTI_LINK_DONE;

    case STEP_CONNECT:
      if (in[0] != 5)
        return fail (self, error, GMULTI_ERROR_PROXY_PROTOCOL,
                     _("answered with version %u"), in[0]);
      if (in[1] != 0)
        return socks5_refused (self, in[1], error);
      /* The bound address: its first byte is read already; then the port. */
      switch (in[3])
        {
        case 1:
          expect (self, STEP_CONNECT_REST, 4 - 1 + 2);
          break;
        case 4:
          expect (self, STEP_CONNECT_REST, 16 - 1 + 2);
          break;
        case 3:
          expect (self, STEP_CONNECT_REST, (gsize) in[4] + 2);
          break;
        default:
          return fail (self, error, GMULTI_ERROR_PROXY_PROTOCOL,
                       _("answered with an unknown address type (%u)"),
                       in[3]);
        }
      self->out_len = 0;
      return GMULTI_LINK_DONE;

    case STEP_CONNECT_REST:
      self->step = STEP_OPEN;
      return GMULTI_LINK_DONE;

    case STEP_SOCKS4:
      if (in[0] != 0)
        return fail (self, error, GMULTI_ERROR_PROXY_PROTOCOL,
                     _("answered with version %u"), in[0]);
      switch (in[1])
        {
        case 90:
          self->step = STEP_OPEN;
          return GMULTI_LINK_DONE;
        case 91:
          return fail (self, error, GMULTI_ERROR_PROXY_SOCKS_FAILED,
                       _("could not connect to %s:%u: %s (%u)"),
                       self->host, self->port, _("request rejected or failed"), in[1]);
        case 92:
        case 93:
          return fail (self, error, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                       _("could not confirm the user id (%u)"), in[1]);
        default:
          return fail (self, error, GMULTI_ERROR_PROXY_PROTOCOL,
                       _("answered with an unknown code (%u)"), in[1]);
        }

    case STEP_OPEN:
    case STEP_FAILED:
    default:
      g_assert_not_reached ();
    }
}

static GMultiLinkStatus
socks_open (GMultiLink      *link,
            GMultiLinkOpen  *io,
            GError         **error)
{
  GMultiSocksLink *self = (GMultiSocksLink *) link;

  if (self->early_error != NULL)
    {
      self->step = STEP_FAILED;
      g_propagate_error (error, g_steal_pointer (&self->early_error));
      return GMULTI_LINK_ERROR;
    }
  g_return_val_if_fail (self->step != STEP_FAILED, GMULTI_LINK_ERROR);

  while (self->step != STEP_OPEN)
    {
      GError *local_error = NULL;

      if (self->out_pos < self->out_len)
        {
          struct iovec iov = { self->out + self->out_pos, self->out_len - self->out_pos };
          gssize n = gmulti_link_send (link->lower, &iov, 1, &local_error);

          if (n < 0 && local_error == NULL)
            return GMULTI_LINK_WANT_WRITE;
          if (n < 0)
            {
              GMultiLinkStatus status =
                fail (self, error, GMULTI_ERROR_PROXY_CONNECT_FAILED,
                      _("could not send: %s"), local_error->message);
              g_error_free (local_error);
              return status;
            }
          self->out_pos += (gsize) n;
          continue;
        }
      if (self->in_len < self->in_want)
        {
          /* Never more than the answer's length: the origin's bytes may follow. */
          gssize n = gmulti_link_recv (link->lower, self->in + self->in_len,
                                       self->in_want - self->in_len, &local_error);

          if (n < 0 && local_error == NULL)
            return GMULTI_LINK_WANT_READ;
          if (n < 0)
            {
              GMultiLinkStatus status =
                fail (self, error, GMULTI_ERROR_PROXY_CONNECT_FAILED,
                      _("could not receive: %s"), local_error->message);
              g_error_free (local_error);
              return status;
            }
          if (n == 0)
            {
              /* A short refusal then a close still says why. */
              if (self->step == STEP_CONNECT && self->in_len >= 2 && self->in[0] == 5 &&
                  self->in[1] != 0)
                return socks5_refused (self, self->in[1], error);
              return fail (self, error, GMULTI_ERROR_PROXY_CONNECT_FAILED,
                           _("closed the connection during the handshake"));
            }
          self->in_len += (gsize) n;
          continue;
        }
      if (advance (self, error) == GMULTI_LINK_ERROR)
        return GMULTI_LINK_ERROR;
    }
  return GMULTI_LINK_DONE;
}

static gssize
socks_recv (GMultiLink  *link,
            guint8      *buffer,
            gsize        length,
            GError     **error)
{
  return gmulti_link_recv (link->lower, buffer, length, error);
}

static gssize
socks_send (GMultiLink          *link,
            const struct iovec  *iov,
            int                  n_iov,
            GError             **error)
{
  return gmulti_link_send (link->lower, iov, n_iov, error);
}

static gboolean
socks_eof_was_clean (GMultiLink *link)
{
  return gmulti_link_eof_was_clean (link->lower);
}

static void
socks_free (GMultiLink *link)
{
  GMultiSocksLink *self = (GMultiSocksLink *) link;

  memset (self->out, 0, sizeof self->out);
  g_clear_error (&self->early_error);
  gmulti_proxy_unref (self->proxy);
  g_free (self->host);
  g_free (self);
}

static const GMultiLinkOps socks_ops = {
  .name = "socks",
  .open = socks_open,
  .recv = socks_recv,
  .send = socks_send,
  .eof_was_clean = socks_eof_was_clean,
  .free = socks_free,
};

GMultiLink *
gmulti_socks_link_new (GMultiLink          *lower,
                       GMultiProxy         *proxy,
                       const char          *host,
                       guint16              port,
                       const GMultiAddress *address)
{
  GMultiSocksLink *self;
  gboolean by_name;

  g_return_val_if_fail (lower != NULL, NULL);
  g_return_val_if_fail (proxy != NULL, NULL);
  g_return_val_if_fail (proxy->kind == GMULTI_PROXY_SOCKS4A ||
                        proxy->kind == GMULTI_PROXY_SOCKS5 ||
                        proxy->kind == GMULTI_PROXY_SOCKS5H, NULL);
  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail ((proxy->kind == GMULTI_PROXY_SOCKS5) == (address != NULL), NULL);

  self = g_new0 (GMultiSocksLink, 1);
  self->link.ops = &socks_ops;
  self->link.lower = lower;
  self->proxy = gmulti_proxy_ref (proxy);
  self->host = g_strdup (host);
  self->port = port;
  by_name = address == NULL;
  if (address != NULL)
    {
      self->have_address = TRUE;
      self->address = *address;
    }

  /* The protocols carry each of these in at most 255 bytes. */
  if (by_name && strlen (host) > 255)
    fail (self, &self->early_error, GMULTI_ERROR_PROXY_INVALID,
          _("the host name is too long to send (%zu bytes, at most 255)"),
          strlen (host));
  else if (proxy->user != NULL && strlen (proxy->user) > 255)
    fail (self, &self->early_error, GMULTI_ERROR_PROXY_INVALID,
          _("the user name is too long (at most 255 bytes)"));
  else if (proxy->kind != GMULTI_PROXY_SOCKS4A && proxy->password != NULL &&
           strlen (proxy->password) > 255)
    fail (self, &self->early_error, GMULTI_ERROR_PROXY_INVALID,
          _("the password is too long (at most 255 bytes)"));
  else if (proxy->kind == GMULTI_PROXY_SOCKS4A)
    start_socks4 (self);
  else
    start_greeting (self);
  return &self->link;
}
