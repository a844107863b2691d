/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <netinet/in.h>

#include "gmulti-session.h"
#include "gmulti-session-object-private.h"
#include "gmulti-session-resolver-private.h"
#include "gmulti-engine-private.h"
#include "gmulti-error.h"
#include "gmulti-error-private.h"
#include "gmulti-i18n-private.h"

/* Which names a session looks up through GIO: with its resolver property set, every
 * name goes to that GResolver; without, to GLib's default resolver only once the
 * application replaced it with g_resolver_set_default(). GLib's own default (a
 * GThreadedResolver: getaddrinfo() on a thread) would do what the engine's thread pool
 * does, at the cost of a trip through the main context, so the pool keeps those.
 * Each lookup is asked with g_resolver_lookup_by_name_async() on the session's main
 * context, with a cancellable of its own that the engine's cancel fires. */

struct _GMultiSessionResolver {
  GMultiNameDelegate delegate;  /* the engine's view */
  gatomicrefcount ref_count;
  GMainContext *context;
  GResolver *resolver;          /* the session's; NULL: the rule for GLib's default */
  gboolean shut_down;
};

typedef struct {
  GMultiResolveRequest *request; /* NULL once the engine cancelled it */
  GCancellable *cancellable;
  char *host;
} Lookup;

static void
lookup_free (Lookup *lookup)
{
  g_object_unref (lookup->cancellable);
  g_free (lookup->host);
  g_free (lookup);
}

/* GLib's default resolver if the application replaced it; NULL while it is GLib's
 * own. No allocation: a lock and a reference. */
static GResolver *
dup_replaced_default (void)
{
  GResolver *resolver = g_resolver_get_default ();

  if (strcmp (G_OBJECT_TYPE_NAME (resolver), "GThreadedResolver") == 0)
    g_clear_object (&resolver);
  return resolver;
}

static gboolean
delegate_takes (GMultiNameDelegate *delegate,
                const char         *host)
{
  GMultiSessionResolver *self = delegate->data;
  g_autoptr(GResolver) replaced = NULL;

  if (G_UNLIKELY (self->shut_down))
    return FALSE;
  if (self->resolver != NULL)
    return TRUE;
  replaced = dup_replaced_default ();
  return replaced != NULL;
}

/* Kept in the order the resolver gave; the engine's resolver interleaves the
 * families. */
static GMultiAddress *
addresses_from_list (GList *list,
                     guint *n_addresses)
{
  GMultiAddress *addresses = g_new0 (GMultiAddress, MAX (g_list_length (list), 1));
  guint n = 0;

  for (GList *l = list; l != NULL; l = l->next)
    {
      GInetAddress *inet = l->data;
      GMultiAddress *address = &addresses[n];

      switch (g_inet_address_get_family (inet))
        {
        case G_SOCKET_FAMILY_IPV4:
          {
            struct sockaddr_in *sin = (struct sockaddr_in *) &address->addr;

            sin->sin_family = AF_INET;
            memcpy (&sin->sin_addr, g_inet_address_to_bytes (inet), sizeof sin->sin_addr);
            address->family = AF_INET;
            address->addrlen = sizeof *sin;
            n++;
          }
          break;
        case G_SOCKET_FAMILY_IPV6:
          {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &address->addr;

            sin6->sin6_family = AF_INET6;
            memcpy (&sin6->sin6_addr, g_inet_address_to_bytes (inet),
                    sizeof sin6->sin6_addr);
            address->family = AF_INET6;
            address->addrlen = sizeof *sin6;
            n++;
          }
          break;
        default:
          break;
        }
    }
  *n_addresses = n;
  return addresses;
}

static void
lookup_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Lookup *lookup = user_data;
  g_autoptr(GError) lookup_error = NULL;
  GList *list;

  list = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &lookup_error);
  /* Nobody waits for it any more (removed, timed out, the session gone). */
  if (lookup->request == NULL)
    {
      g_resolver_free_addresses (list);
      lookup_free (lookup);
      return;
    }

  if (list != NULL)
    {
      guint n_addresses;
      g_autofree GMultiAddress *addresses = addresses_from_list (list, &n_addresses);

      gmulti_resolver_answer (lookup->request, addresses, n_addresses, NULL);
      g_resolver_free_addresses (list);
    }
  else
    {
      /* The resolver's own message says what failed (not found, temporary failure),
       * and its GResolverError is what GIO code matches. */
      GError *error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED,
                                   _("Could not resolve host “%s”: %s"), lookup->host,
                                   lookup_error != NULL ? lookup_error->message
                                                        : _("No address"));

      gmulti_error_set_cause (error, lookup_error);
      gmulti_resolver_answer (lookup->request, NULL, 0, error);
    }
  lookup_free (lookup);
}

static gpointer
delegate_lookup (GMultiNameDelegate   *delegate,
                 GMultiResolveRequest *request,
                 const char           *host)
{
  GMultiSessionResolver *self = delegate->data;
  g_autoptr(GResolver) resolver = NULL;
  Lookup *lookup = g_new0 (Lookup, 1);

  resolver = self->resolver != NULL ? g_object_ref (self->resolver)
                                    : dup_replaced_default ();
  /* Replaced back between takes() and now: GLib's own does what the pool does. */
  if (resolver == NULL)
    resolver = g_resolver_get_default ();

  lookup->request = request;
  lookup->cancellable = g_cancellable_new ();
  lookup->host = g_strdup (host);
  /* The answer comes on the session's context, whichever is the thread's default. */
  g_main_context_push_thread_default (self->context);
  g_resolver_lookup_by_name_async (resolver, host, lookup->cancellable, lookup_done_cb,
                                   lookup);
  g_main_context_pop_thread_default (self->context);
  /* An answer already given leaves the request to the engine: the handle is not used. */
  return lookup;
}

static void
delegate_cancel (GMultiNameDelegate *delegate,
                 gpointer            handle)
{
  Lookup *lookup = handle;
  /* A resolver may finish (and lookup_done_cb free the lookup) from inside cancel(). */
  g_autoptr(GCancellable) cancellable = g_object_ref (lookup->cancellable);

  lookup->request = NULL;
  g_cancellable_cancel (cancellable);
}

static void
delegate_ref (GMultiNameDelegate *delegate)
{
  GMultiSessionResolver *self = delegate->data;

  g_atomic_ref_count_inc (&self->ref_count);
}

static void
delegate_unref (GMultiNameDelegate *delegate)
{
  gmulti_session_resolver_unref (delegate->data);
}

static const GMultiNameDelegateOps delegate_ops = {
  .takes = delegate_takes,
  .lookup = delegate_lookup,
  .cancel = delegate_cancel,
  .ref = delegate_ref,
  .unref = delegate_unref,
};

GMultiSessionResolver *
gmulti_session_resolver_new (GMainContext *context)
{
  GMultiSessionResolver *self = g_new0 (GMultiSessionResolver, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->delegate.ops = &delegate_ops;
  self->delegate.data = self;
  self->context = g_main_context_ref (context);
  return self;
}

void
gmulti_session_resolver_shutdown (GMultiSessionResolver *self)
{
  self->shut_down = TRUE;
  g_clear_object (&self->resolver);
}

void
gmulti_session_resolver_unref (GMultiSessionResolver *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_object (&self->resolver);
  g_main_context_unref (self->context);
  g_free (self);
}

GMultiNameDelegate *
gmulti_session_resolver_get_delegate (GMultiSessionResolver *self)
{
  return &self->delegate;
}

GResolver *
gmulti_session_resolver_get_resolver (GMultiSessionResolver *self)
{
  return self->resolver;
}

void
gmulti_session_resolver_set_resolver (GMultiSessionResolver *self,
                                      GResolver             *resolver)
{
  g_set_object (&self->resolver, resolver);
}

/* ------------------------------------------------------ the property */

void
gmulti_session_install_resolver_properties (GParamSpec **pspecs)
{
  /**
   * GMultiSession:resolver: (getter get_resolver) (setter set_resolver)
   *
   * The GIO resolver the session's transfers look their host names up with (and
   * those of their proxies). %NULL, the default, leaves the names to gmulti's own
   * lookups, `getaddrinfo()` on a small pool of threads, as GLib's own default
   * resolver does them, unless the application replaced GLib's default resolver
   * with `g_resolver_set_default()`: then that one is asked.
   *
   * A resolver is asked with `g_resolver_lookup_by_name_async()` on the session's
   * main context, once for each new connection; a transfer removed meanwhile cancels
   * its lookup, and the connect timeout ([property@Session:connect-timeout]) covers
   * the lookup as it covers the connection. IPv4 and IPv6 addresses are tried in the
   * resolver's order, the two families taking turns (Happy Eyeballs). Answers are not
   * cached by gmulti, unlike those of its own lookups: a resolver keeps its own cache
   * if it wants one. A lookup that fails ends the transfer with
   * %GMULTI_ERROR_RESOLVE_FAILED, whose message includes the resolver's. Numeric
   * addresses are never looked up.
   *
   * Since: 0.1
   */
  pspecs[PROP_RESOLVER] =
    g_param_spec_object ("resolver", NULL, NULL, G_TYPE_RESOLVER,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

/**
 * gmulti_session_get_resolver: (get-property resolver)
 * @self: a session
 *
 * Gets the GIO resolver the session looks names up with.
 *
 * Returns: (transfer none) (nullable): the resolver, or %NULL for gmulti's own lookups
 *   (or GLib's default resolver, where the application replaced it)
 *
 * Since: 0.1
 */
GResolver *
gmulti_session_get_resolver (GMultiSession *self)
{
  g_return_val_if_fail (GMULTI_IS_SESSION (self), NULL);

  return self->names != NULL ? gmulti_session_resolver_get_resolver (self->names) : NULL;
}

/**
 * gmulti_session_set_resolver: (set-property resolver)
 * @self: a session
 * @resolver: (nullable): a resolver, or %NULL for gmulti's own lookups
 *
 * Sets the GIO resolver the session looks names up with (see
 * [property@Session:resolver]). Lookups under way finish with the resolver they were
 * asked of; the next ones ask @resolver.
 *
 * Since: 0.1
 */
void
gmulti_session_set_resolver (GMultiSession *self,
                             GResolver     *resolver)
{
  g_return_if_fail (GMULTI_IS_SESSION (self));
  g_return_if_fail (resolver == NULL || G_IS_RESOLVER (resolver));

  if (self->names == NULL || gmulti_session_resolver_get_resolver (self->names) == resolver)
    return;
  gmulti_session_resolver_set_resolver (self->names, resolver);
  g_object_notify_by_pspec (G_OBJECT (self), gmulti_session_properties[PROP_RESOLVER]);
}
