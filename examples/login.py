#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Log in to a site with its form, keep the session cookie, fetch a page only a
logged-in user sees, then one behind HTTP Basic authentication. Usage:
login.py BASE_URI USER PASSWORD (tests/bindings/auth_site.py is such a site)."""

import sys

import gi

gi.require_version("GMulti", "1.0")
from gi.repository import GLib, GMulti  # noqa: E402

base, user, password = sys.argv[1:4]
jar = GMulti.CookieJar.new()


def fetch(path, form=None):
    transfer = GMulti.Transfer.new(base + path)
    transfer.set_cookie_jar(jar)  # the session cookie goes with every request
    if form is not None:
        transfer.add_request_header("Content-Type", "application/x-www-form-urlencoded")
        transfer.set_request_body(GLib.Bytes.new(form.encode()))
    transfer.perform(None)
    return transfer.props.status, transfer.get_response_body().get_data().decode()


print(*fetch("/login", "user=%s&password=%s" % (user, password)))
print(*fetch("/account"))

# HTTP authentication: the credentials answer the server's 401.
transfer = GMulti.Transfer.new(base + "/basic/")
transfer.props.username = user
transfer.props.password = password
transfer.props.allow_cleartext_auth = True  # a loopback demo; use https:// for real
transfer.perform(None)
print(transfer.props.status, transfer.get_response_body().get_data().decode(), end="")
