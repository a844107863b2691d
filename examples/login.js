// SPDX-License-Identifier: LGPL-2.1-or-later
// Fetches a page behind HTTP authentication and asks for the credentials when the
// server wants them: the `authenticate` handler keeps the GMultiAuth and answers
// later, as a dialog would (here a timeout stands in for the user). Usage:
// gjs -m login.js URI USER PASSWORD
import GLib from 'gi://GLib';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

const [uri, user, password] = ARGV;
const loop = new GLib.MainLoop(null, false);
const session = GMulti.Session.new();
const transfer = GMulti.Transfer.new(uri);
transfer.allow_cleartext_auth = true; // a loopback demo; use https:// for real

transfer.connect('authenticate', (_transfer, auth, retrying) => {
    print(`${auth.get_scheme_name()} login to "${auth.get_realm()}" at ` +
          `${auth.get_authority()}${retrying ? ' (again)' : ''}`);
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 200, () => {
        auth.authenticate(user, password);
        return GLib.SOURCE_REMOVE;
    });
    return true; // answered later
});
session.connect('transfer-finished', (_session, t, error) => {
    if (error)
        print(`failed: ${error.message}`);
    else
        print(`${t.get_status()} ${new TextDecoder().decode(t.get_response_body().toArray())}`);
    loop.quit();
});
session.add(transfer);
loop.run();
System.exit(transfer.get_status() === 200 ? 0 : 1);
