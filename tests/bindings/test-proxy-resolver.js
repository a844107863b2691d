// SPDX-License-Identifier: LGPL-2.1-or-later
// proxy-resolver from GJS: a session whose resolver is GLib's GSimpleProxyResolver
// sends its transfers to the proxy it names (here a closed port, so they fail as
// proxy connection failures), except to the hosts it ignores. Run with `gjs -m`; the
// loopback server is the Python one, as a subprocess.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

Gio._promisify(GMulti.Session.prototype, 'send_and_read_async', 'send_and_read_finish');

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

function startServer() {
    const dir = GLib.path_get_dirname(System.programPath);
    const proc = Gio.Subprocess.new(
        ['/usr/bin/python3', GLib.build_filenamev([dir, 'loopback_server.py'])],
        Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
    const out = new Gio.DataInputStream({base_stream: proc.get_stdout_pipe()});
    const [line] = out.read_line_utf8(null);
    const [port] = line.split(' ');
    return {proc, port};
}

const {proc, port} = startServer();
const loop = GLib.MainLoop.new(null, false);

(async () => {
    try {
        // Nothing listens on port 1 of loopback.
        const resolver = Gio.SimpleProxyResolver.new('http://127.0.0.1:1', ['localhost']);
        const session = new GMulti.Session({proxy_resolver: resolver});
        check(session.proxy_resolver === resolver, 'the property holds the resolver');
        try {
            await session.send_and_read_async(
                GMulti.Transfer.new(`http://127.0.0.1:${port}/bytes/5`),
                GLib.PRIORITY_DEFAULT, null);
            check(false, 'the resolver was not asked');
        } catch (e) {
            check(e.matches(GMulti.error_quark(), GMulti.Error.PROXY_CONNECT_FAILED),
                `through the closed proxy: ${e}`);
        }

        const t = GMulti.Transfer.new(`http://localhost:${port}/bytes/5`);
        const body = await session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null);
        check(t.get_status() === 200 && body.get_size() === 5, 'an ignored host goes direct');
    } catch (e) {
        failures++;
        printerr(`error: ${e}\n${e.stack}`);
    }
    loop.quit();
})();
loop.run();
proc.get_stdin_pipe().close(null);
proc.wait(null);
print(`${passes} passed, ${failures} failed`);
System.exit(failures > 0 ? 1 : 0);
