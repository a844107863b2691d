/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <netdb.h>
#include <gio/gio.h>

#include "gmulti-error.h"
#include "gmulti-error-private.h"
#include "gmulti-i18n-private.h"

/* GMULTI_ERROR is an extended error domain (GLib 2.68): each error carries, beside
 * its code, the GIO error it is the same failure as when the place that failed knew
 * one finer than the code (the errno of a refused connect, a resolver's "try again",
 * an output stream's own error). gmulti_error_to_gio() prefers it to the table. */
typedef struct {
  GQuark gio_domain;          /* 0: nothing finer than the code */
  gint gio_code;
} GMultiErrorPrivate;

/* Where the private data sits: just before the GError, aligned as GLib aligns it. */
static GMultiErrorPrivate *
error_private (const GError *error)
{
  const gsize align = 2 * sizeof (gsize);
  const gsize size = (sizeof (GMultiErrorPrivate) + (align - 1)) & ~(align - 1);

  return (GMultiErrorPrivate *) (gpointer) ((guint8 *) error - size);
}

static void
error_private_init (GError *error)
{
  GMultiErrorPrivate *priv = error_private (error);

  priv->gio_domain = 0;
  priv->gio_code = 0;
}

static void
error_private_copy (const GError *src,
                    GError       *dest)
{
  *error_private (dest) = *error_private (src);
}

static void
error_private_clear (GError *error)
{
  /* Nothing owned. */
  (void) error;
}

/**
 * gmulti_error_quark:
 *
 * Returns the quark of the `GMULTI_ERROR` domain.
 *
 * Returns: the error domain's quark
 *
 * Since: 0.1
 */
GQuark
gmulti_error_quark (void)
{
  static GQuark quark;
  static gsize registered;

  if (g_once_init_enter (&registered))
    {
      /* The domain's name stays what bindings have always seen. */
      quark = g_error_domain_register_static ("gmulti-error-quark",
                                              sizeof (GMultiErrorPrivate),
                                              error_private_init, error_private_copy,
                                              error_private_clear);
      g_once_init_leave (&registered, 1);
    }
  return quark;
}

#if defined(__GNUC__)
/* Registered when the library is loaded: an error of the domain made before
 * registration would have no room for the private data. */
__attribute__ ((constructor)) static void
register_error_domain (void)
{
  (void) gmulti_error_quark ();
}
#endif

void
gmulti_error_set_gio (GError *error,
                      GQuark  domain,
                      gint    code)
{
  GMultiErrorPrivate *priv;

  if (error == NULL || error->domain != GMULTI_ERROR)
    return;
  priv = error_private (error);
  priv->gio_domain = domain;
  priv->gio_code = code;
}

void
gmulti_error_set_errno (GError *error,
                        int     errsv)
{
  if (errsv != 0)
    gmulti_error_set_gio (error, G_IO_ERROR, g_io_error_from_errno (errsv));
}

void
gmulti_error_set_addrinfo (GError *error,
                           int     gai_error)
{
  switch (gai_error)
    {
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
    case EAI_FAIL:
      gmulti_error_set_gio (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
      break;
    case EAI_AGAIN:
      gmulti_error_set_gio (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE);
      break;
    default:
      /* Out of memory, a system error, a family the host has not got... */
      gmulti_error_set_gio (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_INTERNAL);
      break;
    }
}

void
gmulti_error_set_cause (GError       *error,
                        const GError *cause)
{
  if (cause == NULL)
    return;
  if (cause->domain == GMULTI_ERROR)
    {
      const GMultiErrorPrivate *priv = error_private (cause);

      if (priv->gio_domain != 0)
        gmulti_error_set_gio (error, priv->gio_domain, priv->gio_code);
    }
  else if (cause->domain == G_IO_ERROR || cause->domain == G_RESOLVER_ERROR ||
           cause->domain == G_TLS_ERROR)
    gmulti_error_set_gio (error, cause->domain, cause->code);
}

/* Every code's GIO equivalent, in the order of the enum: the error GIO itself would
 * report for the same failure. `none` (domain 0): GIO has no such failure, and
 * gmulti_error_to_gio() keeps the GMULTI_ERROR. tests/test-error-gio.c checks that
 * the table names every code. */
typedef struct {
  GMultiError code;
  const char *gio_domain;     /* "io", "resolver", "tls", or NULL: none */
  gint gio_code;
} GioEquivalent;

static const GioEquivalent gio_equivalents[] = {
  { GMULTI_ERROR_FAILED, "io", G_IO_ERROR_FAILED },
  { GMULTI_ERROR_INVALID_ARGUMENT, "io", G_IO_ERROR_INVALID_ARGUMENT },
  { GMULTI_ERROR_INVALID_URI, "io", G_IO_ERROR_INVALID_ARGUMENT },
  { GMULTI_ERROR_UNSUPPORTED_SCHEME, "io", G_IO_ERROR_NOT_SUPPORTED },
  { GMULTI_ERROR_INVALID_HEADER, "io", G_IO_ERROR_INVALID_ARGUMENT },
  { GMULTI_ERROR_RESOLVE_FAILED, "resolver", G_RESOLVER_ERROR_NOT_FOUND },
  /* Refused, unreachable...: the errno, when the connect's own failure is known. */
  { GMULTI_ERROR_CONNECT_FAILED, "io", G_IO_ERROR_FAILED },
  { GMULTI_ERROR_CONNECT_TIMEOUT, "io", G_IO_ERROR_TIMED_OUT },
  { GMULTI_ERROR_TIMED_OUT, "io", G_IO_ERROR_TIMED_OUT },
  { GMULTI_ERROR_TOO_SLOW, "io", G_IO_ERROR_TIMED_OUT },
  { GMULTI_ERROR_SEND_FAILED, "io", G_IO_ERROR_FAILED },
  { GMULTI_ERROR_RECEIVE_FAILED, "io", G_IO_ERROR_FAILED },
  { GMULTI_ERROR_CONNECTION_CLOSED, "io", G_IO_ERROR_CONNECTION_CLOSED },
  { GMULTI_ERROR_PROTOCOL, "io", G_IO_ERROR_INVALID_DATA },
  { GMULTI_ERROR_HEADERS_TOO_LARGE, "io", G_IO_ERROR_MESSAGE_TOO_LARGE },
  { GMULTI_ERROR_TOO_MANY_REDIRECTS, NULL, 0 },
  { GMULTI_ERROR_BAD_REDIRECT, "io", G_IO_ERROR_INVALID_DATA },
  /* The application itself asked to stop: nothing to show its user. */
  { GMULTI_ERROR_CALLBACK_ABORTED, "io", G_IO_ERROR_CANCELLED },
  { GMULTI_ERROR_ENGINE_STOPPED, NULL, 0 },
  { GMULTI_ERROR_BUSY, "io", G_IO_ERROR_BUSY },
  { GMULTI_ERROR_TLS_HANDSHAKE_FAILED, "tls", G_TLS_ERROR_HANDSHAKE },
  { GMULTI_ERROR_TLS_UNTRUSTED, "tls", G_TLS_ERROR_BAD_CERTIFICATE },
  { GMULTI_ERROR_TLS_HOSTNAME_MISMATCH, "tls", G_TLS_ERROR_BAD_CERTIFICATE },
  { GMULTI_ERROR_TLS_EXPIRED, "tls", G_TLS_ERROR_BAD_CERTIFICATE },
  { GMULTI_ERROR_TLS_NOT_YET_VALID, "tls", G_TLS_ERROR_BAD_CERTIFICATE },
  { GMULTI_ERROR_TLS_PIN_MISMATCH, "tls", G_TLS_ERROR_BAD_CERTIFICATE },
  { GMULTI_ERROR_TLS_CERTIFICATE_REQUIRED, "tls", G_TLS_ERROR_CERTIFICATE_REQUIRED },
  /* GIO says the same of a certificate or key file it cannot load. */
  { GMULTI_ERROR_TLS_BAD_CERTIFICATE, "tls", G_TLS_ERROR_BAD_CERTIFICATE },
  { GMULTI_ERROR_TLS_FAILED, "tls", G_TLS_ERROR_MISC },
  /* The output stream's own error, when it gave one. */
  { GMULTI_ERROR_OUTPUT_FAILED, "io", G_IO_ERROR_FAILED },
  { GMULTI_ERROR_UNSUPPORTED_TRANSFER_CODING, "io", G_IO_ERROR_NOT_SUPPORTED },
  { GMULTI_ERROR_HTTP2_REQUIRED, "io", G_IO_ERROR_NOT_SUPPORTED },
  { GMULTI_ERROR_HTTP2_STREAM_RESET, "io", G_IO_ERROR_CONNECTION_CLOSED },
  { GMULTI_ERROR_HTTP2_GOAWAY, "io", G_IO_ERROR_CONNECTION_CLOSED },
  { GMULTI_ERROR_HTTP2_CONNECTION_ERROR, "io", G_IO_ERROR_INVALID_DATA },
  /* What GZlibDecompressor reports for a corrupt stream. */
  { GMULTI_ERROR_CONTENT_DECODING, "io", G_IO_ERROR_INVALID_DATA },
  { GMULTI_ERROR_DECODED_TOO_LARGE, "io", G_IO_ERROR_MESSAGE_TOO_LARGE },
  { GMULTI_ERROR_PROXY_INVALID, "io", G_IO_ERROR_INVALID_ARGUMENT },
  { GMULTI_ERROR_PROXY_LOOKUP_FAILED, "io", G_IO_ERROR_PROXY_FAILED },
  { GMULTI_ERROR_PROXY_CONNECT_FAILED, "io", G_IO_ERROR_PROXY_FAILED },
  { GMULTI_ERROR_PROXY_AUTH_REQUIRED, "io", G_IO_ERROR_PROXY_NEED_AUTH },
  { GMULTI_ERROR_PROXY_TUNNEL_FAILED, "io", G_IO_ERROR_PROXY_FAILED },
  { GMULTI_ERROR_PROXY_SOCKS_FAILED, "io", G_IO_ERROR_PROXY_FAILED },
  { GMULTI_ERROR_PROXY_PROTOCOL, "io", G_IO_ERROR_PROXY_FAILED },
  { GMULTI_ERROR_AUTH_FAILED, NULL, 0 },
};

gboolean
gmulti_error_has_gio_row (gint code)
{
  return code >= 0 && (gsize) code < G_N_ELEMENTS (gio_equivalents) &&
         gio_equivalents[code].code == (GMultiError) code;
}

static GQuark
gio_domain_quark (const char *name)
{
  if (name == NULL)
    return 0;
  if (name[0] == 'i')
    return G_IO_ERROR;
  if (name[0] == 'r')
    return G_RESOLVER_ERROR;
  return G_TLS_ERROR;
}

/* The GIO (domain, code) @error is the same failure as; FALSE: none. */
static gboolean
gio_equivalent (const GError *error,
                GQuark       *domain,
                gint         *code)
{
  const GMultiErrorPrivate *priv;

  if (error->domain != GMULTI_ERROR)
    return FALSE;
  priv = error_private (error);
  if (priv->gio_domain != 0)
    {
      *domain = priv->gio_domain;
      *code = priv->gio_code;
      return TRUE;
    }
  if (error->code < 0 || (gsize) error->code >= G_N_ELEMENTS (gio_equivalents))
    return FALSE;
  g_assert (gio_equivalents[error->code].code == (GMultiError) error->code);
  *domain = gio_domain_quark (gio_equivalents[error->code].gio_domain);
  *code = gio_equivalents[error->code].gio_code;
  return *domain != 0;
}

/**
 * gmulti_error_matches:
 * @error: (nullable): an error gmulti reported, or %NULL
 * @domain: an error domain: %GMULTI_ERROR, or one of GIO's (%G_IO_ERROR,
 *   %G_RESOLVER_ERROR, %G_TLS_ERROR)
 * @code: a code of @domain
 *
 * Tells whether @error is the failure (@domain, @code), in gmulti's terms or in
 * GIO's. Every gmulti call reports %GMULTI_ERROR codes, which say more than GIO's;
 * code written against GIO asks this instead of g_error_matches(), for example
 * whether a transfer failed because the server refused the connection
 * (%G_IO_ERROR_CONNECTION_REFUSED, a %GMULTI_ERROR_CONNECT_FAILED), timed out
 * (%G_IO_ERROR_TIMED_OUT), could not resolve its host (%G_RESOLVER_ERROR_NOT_FOUND)
 * or met an untrusted certificate (%G_TLS_ERROR_BAD_CERTIFICATE). The table of
 * equivalents is in the overview's "Errors" section.
 *
 * An error that went through a language binding and came back (a Python
 * `GLib.Error` passed in again) keeps only its domain and code: the finer detail of
 * %GMULTI_ERROR_CONNECT_FAILED, %GMULTI_ERROR_SEND_FAILED and
 * %GMULTI_ERROR_RECEIVE_FAILED is then lost; [method@Transfer.get_gio_error] keeps it.
 *
 * Returns: %TRUE if g_error_matches() is true for @error, or if @error is a
 *   %GMULTI_ERROR whose GIO equivalent is (@domain, @code)
 *
 * Since: 0.1
 */
gboolean
gmulti_error_matches (const GError *error,
                      GQuark        domain,
                      gint          code)
{
  GQuark gio_domain;
  gint gio_code;

  if (error == NULL)
    return FALSE;
  if (g_error_matches (error, domain, code))
    return TRUE;
  return gio_equivalent (error, &gio_domain, &gio_code) && gio_domain == domain &&
         gio_code == code;
}

/**
 * gmulti_error_to_gio:
 * @error: an error gmulti reported
 *
 * Gives @error in GIO's terms, for code that passes it on to GIO machinery (a
 * `GTask`, an input stream's reader) or shows it the way it shows GIO's errors: a
 * new error in %G_IO_ERROR, %G_RESOLVER_ERROR or %G_TLS_ERROR with the same
 * message, where GIO has an equivalent; otherwise (GIO has no such failure, or
 * @error is not a %GMULTI_ERROR) a copy of @error.
 *
 * Returns: (transfer full): the error in GIO's domain where it has one
 *
 * Since: 0.1
 */
GError *
gmulti_error_to_gio (const GError *error)
{
  GQuark domain;
  gint code;

  g_return_val_if_fail (error != NULL, NULL);

  if (!gio_equivalent (error, &domain, &code))
    return g_error_copy (error);
  return g_error_new_literal (domain, code, error->message);
}

/**
 * gmulti_engine_result_to_string:
 * @result: an engine call's result
 *
 * Describes an engine call's result in a sentence for logs and error messages.
 *
 * Returns: (transfer none): a translated description of @result
 *
 * Since: 0.1
 */
const char *
gmulti_engine_result_to_string (GMultiEngineResult result)
{
  switch (result)
    {
    case GMULTI_ENGINE_OK:
      return _("No error");
    case GMULTI_ENGINE_BAD_ARGUMENT:
      return _("Invalid argument");
    case GMULTI_ENGINE_BAD_TRANSFER:
      return _("The transfer belongs to another engine");
    case GMULTI_ENGINE_ADDED_ALREADY:
      return _("The transfer is already added to this engine");
    case GMULTI_ENGINE_RECURSIVE_CALL:
      return _("Engine called from inside one of its own callbacks");
    case GMULTI_ENGINE_CALLBACK_FAILED:
      return _("A socket or timer callback failed; the engine stopped");
    case GMULTI_ENGINE_OUT_OF_RESOURCES:
      return _("The system ran out of file descriptors or threads");
    case GMULTI_ENGINE_UNKNOWN_SOCKET:
      return _("The socket is not known to the engine");
    default:
      return _("Unknown engine result");
    }
}
