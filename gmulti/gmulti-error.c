/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-error.h"
#include "gmulti-i18n-private.h"

/**
 * gmulti_error_quark:
 *
 * Returns the quark of the `GMULTI_ERROR` domain.
 *
 * Returns: the error domain's quark
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (gmulti-error-quark, gmulti_error)

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
