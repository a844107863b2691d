// SPDX-License-Identifier: LGPL-2.1-or-later
// HTTP authentication from GJS: the authenticate signal answered asynchronously
// (GLib.timeout_add) while another transfer of the session completes, the
// session's signal answering for a transfer, and
// examples/login.js run as users run it. Run with `gjs -m`; the site is
// tests/bindings/auth_site.py, as a subprocess.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

const here = GLib.path_get_dirname(System.programPath);
let failures = 0;
let passes = 0;

function check(condition, what) {
    if (condition) {
        passes++;
    } else {
        failures++;
        printerr(`not ok: ${what}`);
    }
}

const proc = Gio.Subprocess.new(
    ['/usr/bin/python3', GLib.build_filenamev([here, 'auth_site.py'])],
    Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
const out = new Gio.DataInputStream({base_stream: proc.get_stdout_pipe()});
const base = `http://127.0.0.1:${out.read_line_utf8(null)[0].trim()}`;

// Runs @loop until a handler quits it, for 10 s at most.
function runLoop(loop) {
    const timeout = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 10000, () => {
        check(false, 'timed out');
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    loop.run();
    GLib.source_remove(timeout);
}

function later() {
    const loop = new GLib.MainLoop(null, false);
    const session = GMulti.Session.new();
    const login = GMulti.Transfer.new(`${base}/basic/later`);
    const other = GMulti.Transfer.new(`${base}/account`);
    const order = [];
    let asked = 0;

    login.allow_cleartext_auth = true;
    login.connect('authenticate', (_t, auth, retrying) => {
        asked++;
        check(!retrying && auth.get_scheme_name() === 'Basic' && auth.get_realm() === 'site',
            `the challenge: ${auth.get_scheme_name()} ${auth.get_realm()}`);
        session.add(other);
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 100, () => {
            order.push('answer');
            auth.authenticate('alice', 'wonderland');
            return GLib.SOURCE_REMOVE;
        });
        return true;
    });
    session.connect('transfer-finished', (_s, t, error) => {
        check(error === null, `no error: ${error}`);
        order.push(t === login ? 'login' : 'other');
        if (order.includes('login') && order.includes('other'))
            loop.quit();
    });
    session.add(login);
    runLoop(loop);
    check(asked === 1, `asked once (${asked})`);
    check(order.join(',') === 'other,answer,login', `order: ${order}`);
    check(login.get_status() === 200, `logged in: ${login.get_status()}`);
    check(other.get_status() === 403, `the other transfer ran meanwhile: ${other.get_status()}`);
}

// One handler on the session answers for a transfer that has none of its own.
function sessionSignal() {
    const loop = new GLib.MainLoop(null, false);
    const session = GMulti.Session.new();
    const transfer = GMulti.Transfer.new(`${base}/basic/session`);
    const asked = [];

    transfer.allow_cleartext_auth = true;
    session.connect('authenticate', (_s, t, auth, retrying) => {
        asked.push(`${t === transfer} ${auth.get_scheme_name()} ${retrying}`);
        auth.authenticate('alice', 'wonderland');
        return true;
    });
    session.connect('transfer-finished', () => loop.quit());
    session.add(transfer);
    runLoop(loop);
    check(asked.join(';') === 'true Basic false', `the session was asked: ${asked}`);
    check(transfer.get_status() === 200, `logged in: ${transfer.get_status()}`);
}

function example() {
    const script = GLib.build_filenamev([here, '..', '..', 'examples', 'login.js']);
    const run = Gio.Subprocess.new(['gjs', '-m', script, `${base}/basic/`, 'alice', 'wonderland'],
        Gio.SubprocessFlags.STDOUT_PIPE);
    const [, stdout] = run.communicate_utf8(null, null);
    check(run.get_exit_status() === 0, 'login.js exits 0');
    check(stdout.includes('Basic login to "site" at 127.0.0.1:'), `login.js asked: ${stdout}`);
    check(stdout.includes('200 basic hello alice'), `login.js fetched: ${stdout}`);
}

try {
    later();
    sessionSignal();
    example();
} catch (e) {
    failures++;
    printerr(`error: ${e}\n${e.stack}`);
}
proc.get_stdin_pipe().close(null);
proc.wait(null);
print(`${passes} passed, ${failures} failed`);
System.exit(failures > 0 ? 1 : 0);
