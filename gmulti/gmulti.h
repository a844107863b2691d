/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define GMULTI_INSIDE

#include <gmulti/gmulti-version.h>
#include <gmulti/gmulti-enums.h>
#include <gmulti/gmulti-enum-types.h>
#include <gmulti/gmulti-error.h>
#include <gmulti/gmulti-headers.h>
#include <gmulti/gmulti-metrics.h>
#include <gmulti/gmulti-transfer.h>
#include <gmulti/gmulti-engine.h>
#include <gmulti/gmulti-session.h>
#include <gmulti/gmulti-cookie.h>
#include <gmulti/gmulti-cookie-jar.h>
#include <gmulti/gmulti-auth.h>
#include <gmulti/gmulti-hsts-enforcer.h>

#undef GMULTI_INSIDE
