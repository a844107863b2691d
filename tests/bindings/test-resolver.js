// SPDX-License-Identifier: LGPL-2.1-or-later
// resolver from GJS: a session whose resolver is GLib's own (GJS cannot implement
// GResolver's async lookup, which takes a callback) asks it for its names. GLib answers
// loopback addresses for any name under .localhost itself, which gmulti's own lookups
// (getaddrinfo) do not: a transfer to made-up.localhost reaching the loopback server
// (the Python one, as a subprocess) shows the resolver was asked. Run with `gjs -m`.
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
        const resolver = Gio.Resolver.get_default();
        const session = new GMulti.Session({resolver});
        check(session.resolver === resolver, 'the property holds the resolver');
        const t = GMulti.Transfer.new(`http://made-up.localhost:${port}/bytes/5`);
        const body = await session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null);
        check(t.get_status() === 200 && body.get_size() === 5,
            'the name reached the server through the resolver');
        session.resolver = null;
        check(session.get_resolver() === null, 'the property is cleared');
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
