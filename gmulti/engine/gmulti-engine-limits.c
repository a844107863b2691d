/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-engine-private.h"

/* The engine's counters, its connection limits, and closing the idle connections. */

/**
 * gmulti_engine_get_n_running:
 * @self: an engine
 *
 * Counts the added transfers that have not completed.
 *
 * Returns: the number of running transfers
 *
 * Since: 0.1
 */
guint
gmulti_engine_get_n_running (GMultiEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_running;
}

/**
 * gmulti_engine_get_n_transfers:
 * @self: an engine
 *
 * Counts the added transfers, completed or not.
 *
 * Returns: the number of transfers
 *
 * Since: 0.1
 */
guint
gmulti_engine_get_n_transfers (GMultiEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->transfers.length;
}

/**
 * gmulti_engine_get_n_connections:
 * @self: an engine
 *
 * Counts the engine's open connections (connecting, active or idle).
 *
 * Returns: the number of connections
 *
 * Since: 0.1
 */
guint
gmulti_engine_get_n_connections (GMultiEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->connections.length;
}

/**
 * gmulti_engine_get_n_idle_connections:
 * @self: an engine
 *
 * Counts the connections waiting in the pool for a next request.
 *
 * Returns: the number of idle connections
 *
 * Since: 0.1
 */
guint
gmulti_engine_get_n_idle_connections (GMultiEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->idle_lru.length;
}

/* Waiting transfers that fit the new limits start now, as at the end of any call. Inside
 * a callback, the end of the running call does it. */
static void
limits_changed (GMultiEngine *self)
{
  gmulti_pool_limits_changed (self);
  if (self->pool_changed && !self->stopped && gmulti_engine_begin_turn (self))
    gmulti_engine_end_turn (self);
}

/**
 * gmulti_engine_set_max_connections:
 * @self: an engine
 * @max: the most connections open at once, 0 for no limit
 *
 * Limits the engine's open connections, in use or idle. A transfer the limit blocks
 * gets the least recently used idle connection closed for it; with none idle, it
 * waits. Waiting transfers start in the order they began to wait, as far as the
 * per-origin limit ([method@Engine.set_max_host_connections]) allows: one waiting
 * only for its own origin does not hold back those of other origins. The time they
 * wait counts toward their total timeout.
 *
 * The engine sets no limit of its own (0); [class@Session] does. Raising a limit
 * while transfers wait starts those that now fit at once, which calls the socket and
 * timer functions as any engine call does. Lowering it closes nothing at once: the
 * pool shrinks as connections are released.
 *
 * Since: 0.1
 */
void
gmulti_engine_set_max_connections (GMultiEngine *self,
                                   guint         max)
{
  g_return_if_fail (self != NULL);
  self->max_connections = max;
  limits_changed (self);
}

/**
 * gmulti_engine_get_max_connections:
 * @self: an engine
 *
 * Reads the limit set with [method@Engine.set_max_connections].
 *
 * Returns: the limit, 0 for none
 *
 * Since: 0.1
 */
guint
gmulti_engine_get_max_connections (GMultiEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_connections;
}

/**
 * gmulti_engine_set_max_host_connections:
 * @self: an engine
 * @max: the most connections open at once to one origin, 0 for no limit
 *
 * Limits the connections to each origin (scheme, host and port), in use or idle.
 * Transfers beyond it wait, in order, for a connection of their origin; see
 * [method@Engine.set_max_connections] for how waiting transfers start. The engine
 * sets no limit of its own (0); [class@Session] does.
 *
 * Since: 0.1
 */
void
gmulti_engine_set_max_host_connections (GMultiEngine *self,
                                        guint         max)
{
  g_return_if_fail (self != NULL);
  self->max_host_connections = max;
  limits_changed (self);
}

/**
 * gmulti_engine_get_max_host_connections:
 * @self: an engine
 *
 * Reads the limit set with [method@Engine.set_max_host_connections].
 *
 * Returns: the limit, 0 for none
 *
 * Since: 0.1
 */
guint
gmulti_engine_get_max_host_connections (GMultiEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_host_connections;
}

/**
 * gmulti_engine_set_max_idle_connections:
 * @self: an engine
 * @max: the most idle connections kept in the pool, 0 for automatic
 *
 * Limits the connections kept open for reuse; the least recently used is closed
 * first. Automatic keeps 16, or four per added transfer if that is more.
 *
 * Since: 0.1
 */
void
gmulti_engine_set_max_idle_connections (GMultiEngine *self,
                                        guint         max)
{
  g_return_if_fail (self != NULL);
  self->max_idle_connections = max;
}

/**
 * gmulti_engine_get_max_idle_connections:
 * @self: an engine
 *
 * Reads the limit set with [method@Engine.set_max_idle_connections].
 *
 * Returns: the limit, 0 for automatic
 *
 * Since: 0.1
 */
guint
gmulti_engine_get_max_idle_connections (GMultiEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_idle_connections;
}

/**
 * gmulti_engine_close_idle_connections:
 * @self: an engine
 *
 * Closes every idle connection and forgets cached name lookups, as after a network
 * change. Connections in use are not touched. Not allowed from inside a callback
 * (it does nothing there).
 *
 * Since: 0.1
 */
void
gmulti_engine_close_idle_connections (GMultiEngine *self)
{
  g_return_if_fail (self != NULL);
  if (!gmulti_engine_begin_turn (self))
    return;
  gmulti_pool_close_all (self, TRUE);
  if (self->resolver != NULL)
    gmulti_resolver_clear_cache (self->resolver);
  gmulti_engine_end_turn (self);
}
