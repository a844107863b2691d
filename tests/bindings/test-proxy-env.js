// SPDX-License-Identifier: LGPL-2.1-or-later
// The proxy environment variables from GJS: a session made with http_proxy set sends
// its http:// transfers to that proxy (here a closed port, so they fail as proxy
// connection failures), and no_proxy exempts a host. Run with `gjs -m`; the loopback
// server is the Python one, as a subprocess.
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
    return {proc, base: `http://127.0.0.1:${port}`};
}

for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY',
    'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'])
    GLib.unsetenv(name);

const {proc, base} = startServer();
const loop = GLib.MainLoop.new(null, false);

(async () => {
    try {
        // Nothing listens on port 1 of loopback: through the proxy, the transfer fails.
        GLib.setenv('http_proxy', 'http://127.0.0.1:1', true);
        const proxied = GMulti.Session.new();
        try {
            await proxied.send_and_read_async(GMulti.Transfer.new(`${base}/bytes/5`),
                GLib.PRIORITY_DEFAULT, null);
            check(false, 'http_proxy was not followed');
        } catch (e) {
            check(e.matches(GMulti.error_quark(), GMulti.Error.PROXY_CONNECT_FAILED),
                `through the closed proxy: ${e}`);
        }

        GLib.setenv('no_proxy', 'localhost,127.0.0.0/8', true);
        const exempt = GMulti.Session.new();
        const t = GMulti.Transfer.new(`${base}/bytes/5`);
        const body = await exempt.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null);
        check(t.get_status() === 200 && body.get_size() === 5, 'no_proxy sends it direct');
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
