/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <gnutls/abstract.h>

#include "gmulti-tls.h"
#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/* Offered in this order, preferred first: all of them, or only the last one
 * (gmulti_tls_set_offer_h2()). */
static const char *const alpn_protocols[] = { "h2", "http/1.1" };
#define ALPN_HTTP1_ONLY (G_N_ELEMENTS (alpn_protocols) - 1)

struct _GMultiTls
{
  GMultiTlsContext *context;
  GMultiTlsConfig *config;
  gnutls_session_t session;
  GMultiLink *lower;           /* the bytes go through it (not owned) */
  char *host;                  /* without brackets */
  char *origin;                /* "host:port", the resumption key */
  guint16 port;

  int io_errno;                /* of the last failed call of the lower link */
  gboolean would_block;        /* a socket call failed with EAGAIN since it was reset */
  gboolean established;        /* handshake done and every check passed */
  gboolean resumed;
  gboolean flush_pending;      /* corked records the socket has not taken yet */
  gboolean recv_wants_write;   /* the last recv stopped while GnuTLS was writing */
  gboolean eof;                /* the stream ended (found while reading) */
  gboolean offer_h2;           /* ALPN offers "h2" too */
  gboolean alpn_set;           /* the offer went to GnuTLS (once: a second call breaks it) */
  gboolean eof_reported;       /* ... and recv returned 0 for it */
  gboolean clean_close;
  GError *deferred_error;      /* found after bytes that were returned first */
  const GMultiTlsVerifier *verifier; /* the owner's say on a failed verification */
  unsigned int verify_status;  /* GnuTLS's findings, or 0 (passed, or from a database) */
  GTlsCertificateFlags errors; /* the same as GIO's flags */
  gboolean verify_failed;      /* the handshake failed on the checks above */
  gboolean accepted;           /* it failed them, and the verifier accepted it */
  GMultiTlsPeer *peer;         /* the server's chain, taken when first asked for */
  gboolean broken;             /* a fatal error happened: no more I/O, no close_notify */
  gboolean closed;

  /* Read-ahead: ciphertext taken from the socket that GnuTLS has not pulled yet. */
  guint8 *ahead;
  gsize ahead_size;
  gsize ahead_start;
  gsize ahead_end;
  gboolean ahead_grow;         /* the last refill that read anything filled it: a stream
                                * (double it at the next, keep it between events) */
};

/* What a failed call of the lower link leaves in errno: EAGAIN when it was not ready
 * (no error), the reason otherwise. */
static int
lower_errno (GError *error)
{
  int errsv = errno;

  if (error == NULL)
    return EAGAIN;
  g_error_free (error);
  return errsv != 0 && errsv != EAGAIN && errsv != EWOULDBLOCK ? errsv : EIO;
}

/* GnuTLS pulls a record's header and then its body: two socket reads per record of at
 * most 16 KiB. Reading ahead into a buffer of our own makes that one read per buffer
 * full (a bulk body over TLS took 32,000 reads per 256 MiB without it), for one copy
 * of data that is still in the cache. The buffer starts small, doubles while refills
 * fill it, and is freed when the connection goes idle with nothing in it. */
#define READ_AHEAD_MIN_SIZE (16 * 1024)
#define READ_AHEAD_MAX_SIZE (256 * 1024)

static ssize_t
refill (GMultiTls *self)
{
  GError *error = NULL;
  ssize_t n;

  if (self->ahead == NULL || (self->ahead_grow && self->ahead_size < READ_AHEAD_MAX_SIZE))
    {
      self->ahead_size = self->ahead == NULL ? READ_AHEAD_MIN_SIZE : self->ahead_size * 2;
      g_free (self->ahead);
      self->ahead = g_malloc (self->ahead_size);
      self->ahead_grow = FALSE;
    }
  self->ahead_start = self->ahead_end = 0;

  n = gmulti_link_recv (self->lower, self->ahead, self->ahead_size, &error);
  if (n > 0)
    {
      self->ahead_end = (gsize) n;
      self->ahead_grow = (gsize) n == self->ahead_size;
    }
  else if (n < 0)
    {
      self->io_errno = lower_errno (error);
      self->would_block |= self->io_errno == EAGAIN;
      gnutls_transport_set_errno (self->session, self->io_errno);
    }
  return n;
}

static ssize_t
pull_cb (gnutls_transport_ptr_t  ptr,
         void                   *data,
         size_t                  size)
{
  GMultiTls *self = ptr;
  gsize available;

  if (self->ahead_start == self->ahead_end)
    {
      ssize_t n = refill (self);

      if (n <= 0)
        return n;
    }

  available = self->ahead_end - self->ahead_start;
  if (size > available)
    size = available;
  memcpy (data, self->ahead + self->ahead_start, size);
  self->ahead_start += size;
  return (ssize_t) size;
}

static ssize_t
vec_push_cb (gnutls_transport_ptr_t  ptr,
             const giovec_t         *iov,
             int                     iovcnt)
{
  GMultiTls *self = ptr;
  GError *error = NULL;
  ssize_t n;

  /* giovec_t is struct iovec (GnuTLS says so). */
  n = gmulti_link_send (self->lower, (const struct iovec *) iov, iovcnt, &error);
  if (n < 0)
    {
      self->io_errno = lower_errno (error);
      self->would_block |= self->io_errno == EAGAIN;
      gnutls_transport_set_errno (self->session, self->io_errno);
    }
  return n;
}

/* GnuTLS asks this only when a timeout is set, and none is (the owner keeps the
 * deadlines). It must not block, and the link below has no way to wait: "maybe",
 * and the pull that follows says EAGAIN if nothing is there. */
static int
pull_timeout_cb (gnutls_transport_ptr_t ptr,
                 unsigned int           ms)
{
  return 1;
}

static void
store_session (GMultiTls *self)
{
  gnutls_datum_t data = { NULL, 0 };

  /* An accepted certificate is for this connection only: a resumed session would skip
   * its verification. */
  if (self->accepted)
    return;
  if (gnutls_session_get_data2 (self->session, &data) == 0 && data.size > 0)
    gmulti_tls_context_store_session (self->context, self->origin, self->config, &data);
  gnutls_free (data.data);
}

/* TLS 1.3 tickets arrive after the handshake, inside gnutls_record_recv(): only then
 * does the session data allow resumption. */
static int
ticket_hook_cb (gnutls_session_t      session,
                unsigned int          htype,
                unsigned int          when,
                unsigned int          incoming,
                const gnutls_datum_t *msg)
{
  GMultiTls *self = gnutls_session_get_ptr (session);

  if (self != NULL && self->established && incoming && when == GNUTLS_HOOK_POST &&
      htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET)
    store_session (self);
  return 0;
}

static char *
strip_brackets (const char *host)
{
  gsize len = strlen (host);

  if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
    return g_strndup (host + 1, len - 2);
  return g_strdup (host);
}

GMultiTls *
gmulti_tls_new (GMultiTlsContext  *context,
                GMultiTlsConfig   *config,
                GMultiLink        *lower,
                const char        *host,
                guint16            port,
                GError           **error)
{
  gnutls_certificate_credentials_t credentials;
  gnutls_priority_t priority;
  const gnutls_datum_t *cached;
  gboolean is_ip;
  GMultiTls *self;
  int ret;

  g_return_val_if_fail (context != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (lower != NULL, NULL);
  g_return_val_if_fail (host != NULL && *host != '\0', NULL);

  credentials = gmulti_tls_context_get_credentials (context, config, error);
  if (credentials == NULL)
    return NULL;
  priority = gmulti_tls_context_get_priority (context, config->priority, error);
  if (priority == NULL)
    return NULL;

  self = g_new0 (GMultiTls, 1);
  self->context = gmulti_tls_context_ref (context);
  self->config = gmulti_tls_config_ref (config);
  self->lower = lower;
  self->host = strip_brackets (host);
  self->port = port;
  is_ip = g_hostname_is_ip_address (self->host);
  self->origin = strchr (self->host, ':') != NULL
                 ? g_strdup_printf ("[%s]:%u", self->host, port)
                 : g_strdup_printf ("%s:%u", self->host, port);

  ret = gnutls_init (&self->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
  if (ret < 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
                   _("Could not set up a TLS session: %s"), gnutls_strerror (ret));
      self->session = NULL;
      gmulti_tls_free (self);
      return NULL;
    }

  gnutls_session_set_ptr (self->session, self);
  gnutls_transport_set_ptr (self->session, self);
  gnutls_transport_set_pull_function (self->session, pull_cb);
  gnutls_transport_set_vec_push_function (self->session, vec_push_cb);
  gnutls_transport_set_pull_timeout_function (self->session, pull_timeout_cb);
  /* The owner's connect timeout covers the handshake. */
  gnutls_handshake_set_timeout (self->session, 0);

  ret = gnutls_priority_set (self->session, priority);
  if (ret >= 0)
    ret = gnutls_credentials_set (self->session, GNUTLS_CRD_CERTIFICATE, credentials);
  /* RFC 6066: SNI carries host names only, never address literals. */
  if (ret >= 0 && !is_ip)
    ret = gnutls_server_name_set (self->session, GNUTLS_NAME_DNS, self->host,
                                  strlen (self->host));
  if (ret < 0)
    {
      g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
                   _("Could not set up a TLS session: %s"), gnutls_strerror (ret));
      gmulti_tls_free (self);
      return NULL;
    }

  /* The chain, the validity dates and the host name are checked inside the handshake,
   * by gmulti_tls_verify_cb(), which the credentials call. */

  gnutls_handshake_set_hook_function (self->session, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
                                      GNUTLS_HOOK_POST, ticket_hook_cb);

  cached = gmulti_tls_context_lookup_session (context, self->origin, config);
  if (cached != NULL)
    gnutls_session_set_data (self->session, cached->data, cached->size);

  return self;
}

void
gmulti_tls_free (GMultiTls *self)
{
  if (self == NULL)
    return;

  if (self->session != NULL)
    gnutls_deinit (self->session);
  g_clear_error (&self->deferred_error);
  g_clear_pointer (&self->peer, gmulti_tls_peer_unref);
  gmulti_tls_config_unref (self->config);
  gmulti_tls_context_unref (self->context);
  g_free (self->host);
  g_free (self->origin);
  g_free (self->ahead);
  g_free (self);
}

void
gmulti_tls_trim (GMultiTls *self,
                 gboolean   keep_if_streaming)
{
  g_return_if_fail (self != NULL);

  if (self->ahead_start == self->ahead_end && !(keep_if_streaming && self->ahead_grow))
    {
      g_clear_pointer (&self->ahead, g_free);
      self->ahead_size = self->ahead_start = self->ahead_end = 0;
      self->ahead_grow = FALSE;
    }
}

static char *
verification_reason (unsigned int status)
{
  gnutls_datum_t out = { NULL, 0 };
  char *reason;

  if (gnutls_certificate_verification_status_print (status, GNUTLS_CRT_X509, &out, 0) < 0)
    return g_strdup ("?");
  reason = g_strndup ((const char *) out.data, out.size);
  gnutls_free (out.data);
  return g_strstrip (reason);
}

/* Several bits can be set at once (an expired certificate is also "invalid"); the
 * cause that explains the others wins. */
static void
set_verification_error (GMultiTls    *self,
                        unsigned int  status,
                        GError      **error)
{
  g_autofree char *reason = verification_reason (status);

  if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA |
                GNUTLS_CERT_REVOKED | GNUTLS_CERT_INSECURE_ALGORITHM |
                GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE))
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED,
                 _("The server’s certificate is not trusted: %s"), reason);
  else if (status & GNUTLS_CERT_EXPIRED)
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_EXPIRED,
                 _("The server’s certificate has expired: %s"), reason);
  else if (status & GNUTLS_CERT_NOT_ACTIVATED)
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_NOT_YET_VALID,
                 _("The server’s certificate is not valid yet: %s"), reason);
  else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HOSTNAME_MISMATCH,
                 _("The server’s certificate is not valid for “%s”: %s"), self->host,
                 reason);
  else
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED,
                 _("The server’s certificate is not trusted: %s"), reason);
}

/* The same for what a GTlsDatabase found. */
static void
set_flags_error (GMultiTls  *self,
                 GError    **error)
{
  GTlsCertificateFlags errors = self->errors;

  if (errors & (G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_REVOKED |
                G_TLS_CERTIFICATE_INSECURE))
    g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED,
                         _("The server’s certificate is not trusted by the TLS database"));
  else if (errors & G_TLS_CERTIFICATE_EXPIRED)
    g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_EXPIRED,
                         _("The server’s certificate has expired"));
  else if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_NOT_YET_VALID,
                         _("The server’s certificate is not valid yet"));
  else if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HOSTNAME_MISMATCH,
                 _("The server’s certificate is not valid for “%s”"), self->host);
  else
    g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_UNTRUSTED,
                         _("The server’s certificate is not trusted by the TLS database"));
}

/* Whether a fatal alert means the server wanted a (different) client certificate:
 * certificate_required (TLS 1.3); any failure of the handshake after it asked for one
 * and got none (GnuTLS servers send decode_error, others handshake_failure); or a
 * certificate-related alert after it asked and got one. */
static gboolean
is_client_certificate_alert (GMultiTls                   *self,
                             gnutls_alert_description_t   alert,
                             gboolean                     in_handshake)
{
  if (alert == GNUTLS_A_CERTIFICATE_REQUIRED)
    return TRUE;
  if (!gnutls_certificate_client_get_request_status (self->session))
    return FALSE;
  if (self->config->client_certificate == NULL && in_handshake)
    return TRUE;

  switch (alert)
    {
    case GNUTLS_A_HANDSHAKE_FAILURE:
    case GNUTLS_A_BAD_CERTIFICATE:
    case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
    case GNUTLS_A_CERTIFICATE_REVOKED:
    case GNUTLS_A_CERTIFICATE_EXPIRED:
    case GNUTLS_A_CERTIFICATE_UNKNOWN:
    case GNUTLS_A_UNKNOWN_CA:
    case GNUTLS_A_ACCESS_DENIED:
      return TRUE;
    default:
      return FALSE;
    }
}

typedef enum {
  DURING_HANDSHAKE,
  DURING_RECV,
  DURING_SEND,
} Phase;

/* Turns a fatal GnuTLS result into our error and marks the session unusable. */
static void
set_error (GMultiTls  *self,
           int         ret,
           Phase       phase,
           GError    **error)
{
  self->broken = TRUE;

  if (self->verify_failed)
    {
      if (self->verify_status != 0)
        set_verification_error (self, self->verify_status, error);
      else
        set_flags_error (self, error);
      return;
    }

  if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
    {
      gnutls_alert_description_t alert = gnutls_alert_get (self->session);
      const char *name = gnutls_alert_get_name (alert);

      if (name == NULL)
        name = "?";

      if (is_client_certificate_alert (self, alert, phase == DURING_HANDSHAKE))
        {
          if (self->config->client_certificate == NULL)
            g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED,
                         _("The server requires a client certificate (TLS alert: %s)"),
                         name);
          else
            g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED,
                         _("The server refused the client certificate (TLS alert: %s)"),
                         name);
        }
      else if (phase == DURING_HANDSHAKE)
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
                     _("TLS handshake failed: the server sent the alert “%s”"), name);
      else
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_FAILED,
                     _("The server sent the TLS alert “%s”"), name);
      return;
    }

  if (ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_PUSH_ERROR)
    {
      const char *reason = g_strerror (self->io_errno != 0 ? self->io_errno : EIO);

      if (phase == DURING_HANDSHAKE)
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
                     _("TLS handshake failed: %s"), reason);
      else if (phase == DURING_RECV && ret == GNUTLS_E_PULL_ERROR)
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_RECEIVE_FAILED,
                     _("Could not receive from the server: %s"), reason);
      else
        g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_SEND_FAILED,
                     _("Could not send to the server: %s"), reason);
      return;
    }

  if (phase == DURING_HANDSHAKE && ret == GNUTLS_E_PREMATURE_TERMINATION)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
                           _("TLS handshake failed: the server closed the connection"));
      return;
    }

  if (phase == DURING_HANDSHAKE)
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
                 _("TLS handshake failed: %s"), gnutls_strerror (ret));
  else
    g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_FAILED,
                 _("TLS error: %s"), gnutls_strerror (ret));
}

static char *
public_key_pin (const gnutls_datum_t *certificate)
{
  gnutls_pubkey_t key = NULL;
  gnutls_datum_t der = { NULL, 0 };
  char *pin = NULL;

  if (gnutls_pubkey_init (&key) < 0)
    return NULL;
  if (gnutls_pubkey_import_x509_raw (key, certificate, GNUTLS_X509_FMT_DER, 0) >= 0 &&
      gnutls_pubkey_export2 (key, GNUTLS_X509_FMT_DER, &der) >= 0)
    {
      guint8 digest[GMULTI_TLS_PIN_SIZE];
      gsize digest_len = sizeof digest;
      GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);

      g_checksum_update (checksum, der.data, der.size);
      g_checksum_get_digest (checksum, digest, &digest_len);
      g_checksum_free (checksum);
      pin = g_base64_encode (digest, sizeof digest);
    }
  gnutls_free (der.data);
  gnutls_pubkey_deinit (key);
  return pin;
}

static gboolean
check_pins (GMultiTls  *self,
            GError    **error)
{
  const gnutls_datum_t *peers;
  unsigned int n_peers = 0;
  g_autofree char *pin = NULL;
  g_autofree guint8 *digest = NULL;
  gsize size = 0;

  peers = gnutls_certificate_get_peers (self->session, &n_peers);
  if (peers == NULL || n_peers == 0)
    {
      /* Only ever resumed from a session that passed this same pin check: the cache
       * key includes the pins. */
      if (self->resumed)
        return TRUE;
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_PIN_MISMATCH,
                           _("The server sent no certificate to check the pinned key "
                             "against"));
      return FALSE;
    }

  pin = public_key_pin (&peers[0]);
  if (pin != NULL)
    digest = g_base64_decode (pin, &size);

  for (guint i = 0; digest != NULL && i < self->config->n_pins; i++)
    {
      if (memcmp (digest, self->config->pins + i * GMULTI_TLS_PIN_SIZE,
                  GMULTI_TLS_PIN_SIZE) == 0)
        return TRUE;
    }

  g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_PIN_MISMATCH,
               _("The server’s public key sha256//%s does not match the pinned key"),
               pin != NULL ? pin : "?");
  return FALSE;
}

/* The handshake itself completed: the checks GnuTLS does not do, then bookkeeping. */
static GMultiTlsStatus
finish_handshake (GMultiTls  *self,
                  GError    **error)
{
  self->resumed = gnutls_session_is_resumed (self->session) != 0;

  if (self->config->n_pins > 0 && !check_pins (self, error))
    {
      self->broken = TRUE;
      /* Never resume into a key that failed the pin. */
      gmulti_tls_context_forget_session (self->context, self->origin, self->config);
      return GMULTI_TLS_ERROR;
    }

  self->established = TRUE;
  /* It belongs to the transfer that opened the connection, which a pooled connection
   * outlives; no verification follows a handshake. */
  self->verifier = NULL;
  gmulti_tls_context_count_handshake (self->context, self->resumed);

  /* TLS 1.3 sessions are stored from the ticket hook. */
  if (gnutls_protocol_get_version (self->session) != GNUTLS_TLS1_3)
    store_session (self);

  return GMULTI_TLS_DONE;
}

GMultiTlsStatus
gmulti_tls_handshake_step (GMultiTls  *self,
                           GError    **error)
{
  g_return_val_if_fail (self != NULL, GMULTI_TLS_ERROR);

  if (self->established)
    return GMULTI_TLS_DONE;
  if (self->broken)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
                           _("TLS handshake failed"));
      return GMULTI_TLS_ERROR;
    }

  /* The ALPN offer is known by now (gmulti_tls_set_offer_h2()). */
  if (!self->alpn_set)
    {
      gnutls_datum_t alpn[G_N_ELEMENTS (alpn_protocols)];
      guint first = self->offer_h2 ? 0 : ALPN_HTTP1_ONLY;
      int ret;

      for (guint i = first; i < G_N_ELEMENTS (alpn_protocols); i++)
        {
          alpn[i - first].data = (unsigned char *) alpn_protocols[i];
          alpn[i - first].size = strlen (alpn_protocols[i]);
        }
      ret = gnutls_alpn_set_protocols (self->session, alpn,
                                       G_N_ELEMENTS (alpn_protocols) - first, 0);
      if (ret < 0)
        {
          self->broken = TRUE;
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_TLS_HANDSHAKE_FAILED,
                       _("Could not set up a TLS session: %s"), gnutls_strerror (ret));
          return GMULTI_TLS_ERROR;
        }
      self->alpn_set = TRUE;
    }

  for (;;)
    {
      int ret = gnutls_handshake (self->session);

      if (ret == GNUTLS_E_SUCCESS)
        return finish_handshake (self, error);

      if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
        return gnutls_record_get_direction (self->session) == 1
               ? GMULTI_TLS_WANT_WRITE : GMULTI_TLS_WANT_READ;

      /* Warning alerts and the like: the handshake goes on. */
      if (!gnutls_error_is_fatal (ret))
        continue;

      /* A resumption the server refused in a broken way must not be retried. */
      gmulti_tls_context_forget_session (self->context, self->origin, self->config);
      set_error (self, ret, DURING_HANDSHAKE, error);
      return GMULTI_TLS_ERROR;
    }
}

/* Reads records until @buffer is full or the socket has nothing more: one call per
 * readable event moves as much as plain TCP would, though GnuTLS hands out at most one
 * record per call. An end or error met after some bytes is kept for the next call, and
 * gmulti_tls_pending() says so, since the socket may never signal again. With @record,
 * reads one record instead, left in GnuTLS's packet (no copy). */
static gssize
read_records (GMultiTls        *self,
              guint8           *buffer,
              gsize             length,
              GMultiTlsRecord  *record,
              GError          **error)
{
  gsize total = 0;
  guint spurious_again = 0;

  self->recv_wants_write = FALSE;

  if (self->deferred_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->deferred_error));
      errno = EIO;
      return -1;
    }
  if (self->eof)
    {
      self->eof_reported = TRUE;
      return 0;
    }
  if (self->broken)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_FAILED,
                           _("The TLS connection failed earlier"));
      errno = EIO;
      return -1;
    }

  while (total < length)
    {
      ssize_t ret;

      self->would_block = FALSE;
      if (record == NULL)
        ret = gnutls_record_recv (self->session, buffer + total, length - total);
      else
        {
          gnutls_packet_t packet = NULL;

          ret = gnutls_record_recv_packet (self->session, &packet);
          if (ret > 0)
            {
              gnutls_datum_t data;

              gnutls_packet_get (packet, &data, NULL);
              record->packet = packet;
              record->data = data.data;
              return (gssize) data.size;
            }
          if (packet != NULL)
            gnutls_packet_deinit (packet);
        }

      if (ret > 0)
        {
          total += (gsize) ret;
          continue;
        }

      if (ret == 0 || ret == GNUTLS_E_PREMATURE_TERMINATION)
        {
          self->eof = TRUE;
          self->clean_close = ret == 0;
          break;
        }

      /* TLS 1.3: GnuTLS answers AGAIN after taking in a post-handshake message (a
       * session ticket) even when more records wait in the socket; only a socket that
       * would block ends the read, or a reader that never polls would stall. The cap
       * does not apply while bytes wait in the read-ahead buffer, where the socket would
       * never signal them; each turn consumes some, so this ends. */
      if (ret == GNUTLS_E_AGAIN && !self->would_block &&
          (spurious_again++ < 16 || self->ahead_start < self->ahead_end))
        continue;

      if (ret == GNUTLS_E_AGAIN)
        {
          self->recv_wants_write = gnutls_record_get_direction (self->session) == 1;
          if (total > 0)
            break;
          errno = EAGAIN;
          return -1;
        }

      if (ret == GNUTLS_E_REHANDSHAKE)
        {
          /* A TLS 1.2 server asks to renegotiate; say no and read on. The alert is
           * best-effort, and skipped while records wait to be flushed: sending it
           * would complete those behind the cork's back. */
          if (!self->flush_pending)
            gnutls_alert_send (self->session, GNUTLS_AL_WARNING,
                               GNUTLS_A_NO_RENEGOTIATION);
          continue;
        }

      /* Interrupted calls, warning alerts: read on. */
      if (!gnutls_error_is_fatal ((int) ret))
        continue;

      if (total == 0)
        {
          set_error (self, (int) ret, DURING_RECV, error);
          errno = EIO;
          return -1;
        }
      set_error (self, (int) ret, DURING_RECV, &self->deferred_error);
      break;
    }

  if (total == 0)
    self->eof_reported = TRUE;
  return (gssize) total;
}

gssize
gmulti_tls_recv (GMultiTls  *self,
                 guint8     *buffer,
                 gsize       length,
                 GError    **error)
{
  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (self->established, -1);
  g_return_val_if_fail (buffer != NULL && length > 0, -1);

  return read_records (self, buffer, length, NULL, error);
}

gssize
gmulti_tls_recv_record (GMultiTls        *self,
                        GMultiTlsRecord  *record,
                        GError          **error)
{
  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (self->established, -1);
  g_return_val_if_fail (record != NULL && record->packet == NULL, -1);

  /* The limit only bounds a loop that stops at the first record anyway. */
  return read_records (self, NULL, G_MAXSIZE, record, error);
}

void
gmulti_tls_record_clear (GMultiTlsRecord *record)
{
  if (record->packet != NULL)
    gnutls_packet_deinit (record->packet);
  record->packet = NULL;
  record->data = NULL;
}

gboolean
gmulti_tls_was_clean_close (GMultiTls *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->eof && self->clean_close;
}

void
gmulti_tls_set_unclean_close_error (GError **error)
{
  g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_FAILED,
                       _("The server closed the connection without a TLS close_notify: "
                         "the response may be truncated"));
}

gsize
gmulti_tls_pending (GMultiTls *self)
{
  g_return_val_if_fail (self != NULL, 0);

  /* An end or error not reported yet counts: the next recv returns it at once. */
  if (self->deferred_error != NULL || (self->eof && !self->eof_reported))
    return 1;
  if (!self->established || self->broken || self->eof)
    return 0;
  return gmulti_tls_buffered (self);
}

gsize
gmulti_tls_buffered (GMultiTls *self)
{
  g_return_val_if_fail (self != NULL, 0);

  if (self->session == NULL)
    return 0;
  return gnutls_record_check_pending (self->session) +
         (self->ahead_end - self->ahead_start);
}

GMultiTlsStatus
gmulti_tls_flush (GMultiTls  *self,
                  GError    **error)
{
  ssize_t ret;

  g_return_val_if_fail (self != NULL, GMULTI_TLS_ERROR);

  if (!self->flush_pending)
    return GMULTI_TLS_DONE;
  if (self->broken)
    {
      g_set_error_literal (error, GMULTI_ERROR, GMULTI_ERROR_TLS_FAILED,
                           _("The TLS connection failed earlier"));
      return GMULTI_TLS_ERROR;
    }

  /* A failed uncork leaves GnuTLS corked with the same buffer, so this call repeats
   * the interrupted write exactly as GnuTLS requires. */
  do
    ret = gnutls_record_uncork (self->session, 0);
  while (ret == GNUTLS_E_INTERRUPTED);

  if (ret >= 0)
    {
      self->flush_pending = FALSE;
      return GMULTI_TLS_DONE;
    }
  if (ret == GNUTLS_E_AGAIN)
    return GMULTI_TLS_WANT_WRITE;

  set_error (self, (int) ret, DURING_SEND, error);
  return GMULTI_TLS_ERROR;
}

gssize
gmulti_tls_send (GMultiTls           *self,
                 const struct iovec  *iov,
                 int                  n_iov,
                 GError             **error)
{
  gsize taken = 0;

  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (self->established, -1);
  g_return_val_if_fail (iov != NULL || n_iov == 0, -1);

  switch (gmulti_tls_flush (self, error))
    {
    case GMULTI_TLS_DONE:
      break;
    case GMULTI_TLS_ERROR:
      errno = EIO;
      return -1;
    default:
      errno = EAGAIN;
      return -1;
    }

  /* Corked, the head and a small body leave as one record instead of two. */
  gnutls_record_cork (self->session);
  for (int i = 0; i < n_iov && taken < GMULTI_TLS_SEND_MAX; i++)
    {
      gsize take = MIN (iov[i].iov_len, GMULTI_TLS_SEND_MAX - taken);
      ssize_t ret;

      if (take == 0)
        continue;
      /* Corked, this only appends to GnuTLS's buffer. */
      ret = gnutls_record_send (self->session, iov[i].iov_base, take);
      if (ret < 0)
        {
          set_error (self, (int) ret, DURING_SEND, error);
          errno = EIO;
          return -1;
        }
      taken += (gsize) ret;
    }

  self->flush_pending = TRUE;
  if (gmulti_tls_flush (self, error) == GMULTI_TLS_ERROR)
    {
      errno = EIO;
      return -1;
    }

  return (gssize) taken;
}

gboolean
gmulti_tls_wants_write (GMultiTls *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return !self->broken && (self->flush_pending || self->recv_wants_write);
}

void
gmulti_tls_close (GMultiTls *self)
{
  g_return_if_fail (self != NULL);

  if (self->closed || self->broken || !self->established)
    return;
  self->closed = TRUE;

  if (gmulti_tls_flush (self, NULL) != GMULTI_TLS_DONE)
    return;
  /* SHUT_WR: send close_notify without waiting for the server's. */
  gnutls_bye (self->session, GNUTLS_SHUT_WR);
}

void
gmulti_tls_set_offer_h2 (GMultiTls *self,
                         gboolean   offer_h2)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->alpn_set);

  self->offer_h2 = offer_h2;
}

gboolean
gmulti_tls_is_resumed (GMultiTls *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->resumed;
}

const char *
gmulti_tls_get_alpn_protocol (GMultiTls *self)
{
  gnutls_datum_t selected = { NULL, 0 };

  g_return_val_if_fail (self != NULL, NULL);

  if (gnutls_alpn_get_selected_protocol (self->session, &selected) < 0)
    return NULL;

  /* Return our own constant: GnuTLS's datum is not NUL-terminated. */
  for (guint i = 0; i < G_N_ELEMENTS (alpn_protocols); i++)
    {
      if (selected.size == strlen (alpn_protocols[i]) &&
          memcmp (selected.data, alpn_protocols[i], selected.size) == 0)
        return alpn_protocols[i];
    }
  return NULL;
}

const char *
gmulti_tls_get_version_name (GMultiTls *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return gnutls_protocol_get_name (gnutls_protocol_get_version (self->session));
}

static GMultiTlsPeer *
capture_peer (GMultiTls *self)
{
  const gnutls_datum_t *chain;
  unsigned int n = 0;

  if (self->peer != NULL)
    return self->peer;
  chain = gnutls_certificate_get_peers (self->session, &n);
  if (chain == NULL || n == 0)
    return NULL;
  self->peer = gmulti_tls_peer_new (chain, n, self->errors);
  return self->peer;
}

/* The application's GTlsDatabase instead of GnuTLS's trust list, for the chain as GIO
 * certificates. Synchronous, inside the handshake step: quick for a file database
 * (g_tls_file_database_new()); one that asks a token or the network would hold the
 * loop meanwhile. */
static GTlsCertificateFlags
verify_with_database (GMultiTls *self)
{
  g_autoptr(GTlsCertificate) chain = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GError) error = NULL;
  GTlsCertificateFlags errors;

  if (capture_peer (self) == NULL)
    return G_TLS_CERTIFICATE_GENERIC_ERROR;
  chain = gmulti_tls_peer_to_certificate (self->peer, NULL);
  if (chain == NULL)
    return G_TLS_CERTIFICATE_GENERIC_ERROR;
  identity = g_network_address_new (self->host, self->port);
  errors = g_tls_database_verify_chain (self->config->database, chain,
                                        G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                        identity, self->config->interaction,
                                        G_TLS_DATABASE_VERIFY_NONE, NULL, &error);
  if (error != NULL)
    errors |= G_TLS_CERTIFICATE_GENERIC_ERROR;
  return errors;
}

/* Called by GnuTLS once the server's certificate (and, in TLS 1.3, its proof of the
 * key) arrived, before the client sends anything more: a refusal here keeps a client
 * certificate from going to a server that failed. Synchronous, as GnuTLS's callback
 * cannot wait. */
int
gmulti_tls_verify_cb (gnutls_session_t session)
{
  GMultiTls *self = gnutls_session_get_ptr (session);
  unsigned int status = 0;

  if (self == NULL || !self->config->verify)
    return 0;

  if (self->config->database != NULL)
    self->errors = verify_with_database (self);
  else
    {
      if (gnutls_certificate_verify_peers3 (session, self->host, &status) < 0)
        status = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND;
      self->verify_status = status;
      self->errors = gmulti_tls_flags_from_status (status);
    }
  if (self->peer != NULL)
    self->peer->errors = self->errors;
  if (self->errors == 0)
    return 0;

  if (self->verifier != NULL && capture_peer (self) != NULL &&
      self->verifier->accept (self->verifier, self->peer))
    {
      self->accepted = TRUE;
      return 0;
    }
  self->verify_failed = TRUE;
  return -1;
}

void
gmulti_tls_set_verifier (GMultiTls               *self,
                         const GMultiTlsVerifier *verifier)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->alpn_set);

  self->verifier = verifier;
}

gboolean
gmulti_tls_hand_over_verifier (GMultiTls               *self,
                               const GMultiTlsVerifier *verifier)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->established || self->verify_failed || self->accepted)
    return FALSE;
  self->verifier = verifier;
  return TRUE;
}

GMultiTlsPeer *
gmulti_tls_get_peer (GMultiTls *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->session == NULL)
    return NULL;
  return capture_peer (self);
}

gboolean
gmulti_tls_is_accepted (GMultiTls *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->accepted;
}
