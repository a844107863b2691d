#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turns the result lines bench/run collects into Markdown tables of medians, the
ratios of gmulti against each competitor, and the targets met or missed.

Each input line is key=value pairs: scenario, rep, status (ok, fail, timeout, na,
skipped), client and, for ok lines, the client's report (transfers, seconds, bytes,
cpu_user, cpu_sys, maxrss_kb; over HTTP/2 also http, the version the client's library
reported, and http_server, the one nginx logged) or, for callgrind, ir."""

import argparse
import statistics
import sys

CLIENTS = ["gmulti-session", "gmulti-session-unix-fd", "gmulti-engine", "curl-glib", "curl-poll",
           "curl-poll-16k", "soup", "wrk", "h2load"]
CURL = ["curl-glib", "curl-poll", "curl-poll-16k"]
NOT_OK = {"fail": "FAIL", "timeout": "TIMEOUT", "skipped": "FAIL",
          "na": "n/a (no TLS yet)", "na-h1": "n/a (negotiated HTTP/1.1)"}


def parse(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            if "scenario" in fields and "client" in fields:
                runs.append(fields)
    return runs


class Results:
    def __init__(self, runs):
        self.ok = {}          # (scenario, client) -> [run dict]
        self.bad = {}         # (scenario, client) -> status text
        self.order = []       # scenarios in the order they ran
        for run in runs:
            key = (run["scenario"], run["client"])
            if run["scenario"] not in self.order:
                self.order.append(run["scenario"])
            if run.get("status") == "ok":
                self.ok.setdefault(key, []).append(run)
            else:
                self.bad.setdefault(key, NOT_OK.get(run.get("status"), "FAIL"))

    def clients(self, scenario):
        return [c for c in CLIENTS
                if (scenario, c) in self.ok or (scenario, c) in self.bad]

    def median(self, scenario, client, metric):
        """The median over the runs of metric(run), or None. A client that failed in
        any run of a scenario has no figure there."""
        if (scenario, client) in self.bad or (scenario, client) not in self.ok:
            return None
        values = [metric(r) for r in self.ok[(scenario, client)]]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    def status(self, scenario, client):
        return self.bad.get((scenario, client))


def cpu(run):
    return float(run["cpu_user"]) + float(run["cpu_sys"])


def rate(run):
    s = float(run["seconds"])
    return int(run["transfers"]) / s if s > 0 else None


def mbps(run):
    s = float(run["seconds"])
    b = int(run["bytes"])
    return b / 1e6 / s if s > 0 and b > 0 else None


def cpu_per_transfer(run):
    n = int(run["transfers"])
    return cpu(run) * 1e6 / n if n else None


def cpu_per_mb(run):
    b = int(run["bytes"])
    return cpu(run) * 1e6 / (b / 1e6) if b else None


def server_share(run):
    """nginx's worker CPU over the client's wall time, in percent (None for wrk and
    the trickle server, or where /proc could not be read)."""
    if "server_cpu" not in run or float(run["seconds"]) <= 0:
        return None
    return 100 * float(run["server_cpu"]) / float(run["seconds"])


def fmt(value, digits=1, suffix=""):
    if value is None:
        return "—"
    if abs(value) >= 1000 and digits <= 1:
        return f"{value:,.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(value):
    return "—" if value is None else f"{value:.2f}x"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def http_used(run):
    """What carried a run: the server's log where there is one, else the library's word,
    else what the client asked for (in parentheses: nobody could tell)."""
    if "http_server" in run:
        return run["http_server"]
    if "http" in run:
        return run["http"]
    return f"({run['http_asked']} asked)" if "http_asked" in run else "—"


def throughput_section(res, scenarios, title, server="nginx CPU", http=False):
    if not any(sc in res.order for sc in scenarios):
        return []
    lines = [f"### {title}", ""]
    for sc in scenarios:
        if sc not in res.order:
            continue
        rows = []
        for client in res.clients(sc):
            bad = res.status(sc, client)
            if bad:
                rows.append([client] + ([""] if http else []) + [bad] + [""] * 7)
                continue
            m = lambda f: res.median(sc, client, f)  # noqa: E731
            rss = m(lambda r: int(r["maxrss_kb"]) / 1024 or None)
            versions = sorted({http_used(r) for r in res.ok[(sc, client)]})
            rows.append([client] + ([", ".join(versions)] if http else []) +
                        [fmt(m(lambda r: float(r["seconds"])), 3),
                         fmt(m(rate)), fmt(m(mbps)), fmt(m(cpu), 3),
                         fmt(m(cpu_per_transfer)), fmt(m(cpu_per_mb)), fmt(rss),
                         fmt(m(server_share), 0, " %"),
                         len(res.ok[(sc, client)])])
        lines.append(f"**{sc}**")
        lines.append("")
        lines.append(table(["client"] + (["HTTP"] if http else []) +
                           ["wall s", "transfers/s", "MB/s", "CPU s",
                            "CPU µs/transfer", "CPU µs/MB", "peak RSS MB",
                            server, "runs"],
                           rows))
        lines.append("")
    return lines


def ratio_section(res, scenarios):
    if not any(sc in res.order for sc in scenarios):
        return []
    rows = []
    for sc in scenarios:
        if sc not in res.order:
            continue
        for mine in ("gmulti-session", "gmulti-engine"):
            bad = res.status(sc, mine)
            row = [sc, mine]
            for other in ("curl-glib", "curl-poll", "soup"):
                if bad:
                    row.append(bad)
                    continue
                speed = ratio(res.median(sc, mine, rate), res.median(sc, other, rate))
                cost = ratio(res.median(sc, mine, cpu_per_transfer),
                             res.median(sc, other, cpu_per_transfer))
                row.append(f"{fmt_ratio(speed)} speed, {fmt_ratio(cost)} CPU")
            rows.append(row)
    return ["### Ratios (gmulti / competitor: transfers/s, and CPU per transfer)", "",
            table(["scenario", "client", "vs curl-glib", "vs curl-poll", "vs soup"],
                  rows), ""]


def h2_ratio_section(res, scenarios):
    """Each HTTP/2 client against h2load, the ceiling: throughput and CPU per transfer
    (in S8, where every client moves the same bytes, that is also CPU per MB)."""
    rows = []
    for sc in scenarios:
        if sc not in res.order:
            continue
        for client in res.clients(sc):
            if client == "h2load":
                continue
            bad = res.status(sc, client)
            if bad:
                rows.append([sc, client, "", bad, ""])
                continue
            versions = sorted({http_used(r) for r in res.ok[(sc, client)]})
            rows.append([sc, client, ", ".join(versions),
                         fmt_ratio(ratio(res.median(sc, client, rate),
                                         res.median(sc, "h2load", rate))),
                         fmt_ratio(ratio(res.median(sc, client, cpu_per_transfer),
                                         res.median(sc, "h2load", cpu_per_transfer)))])
    if not rows:
        return []
    return ["### HTTP/2 ratios (client / h2load)", "",
            "Throughput below 1.00x is slower than h2load; CPU above 1.00x costs more per "
            "transfer (user + system time of the client process).", "",
            table(["scenario", "client", "HTTP", "throughput", "CPU per transfer"], rows),
            ""]


def h2_memory_section(res, level):
    """S9: (peak RSS at level streams - peak RSS of the S9-base run) / the streams
    between them; the base run's own count (bench/run: 100 over the same connections)
    comes from its record."""
    sc = f"S9-{level}"
    if sc not in res.order:
        return []
    rows = []
    base_level = None
    for client in res.clients(sc):
        bad = res.status(sc, client)
        base = res.median("S9-base", client, lambda r: int(r["maxrss_kb"]))
        streams = res.median("S9-base", client, lambda r: int(r["transfers"]))
        base_level = base_level or streams
        if bad:
            rows.append([client, "", fmt(base and base / 1024), bad, ""])
            continue
        peak = res.median(sc, client, lambda r: int(r["maxrss_kb"]))
        per = res.median(sc, client,
                         lambda r: (int(r["maxrss_kb"]) - base) / (level - streams)
                         if base is not None and streams is not None else None)
        versions = sorted({http_used(r) for r in res.ok[(sc, client)]})
        rows.append([client, ", ".join(versions), fmt(base and base / 1024),
                     fmt(peak and peak / 1024), fmt(per)])
    return [f"### S9: memory per in-flight HTTP/2 stream ({level:,} streams)", "",
            table(["client", "HTTP", f"peak RSS at {base_level or 0:,} MB",
                   f"peak RSS at {level:,} MB", "KB per stream"], rows), ""]


def trickle_section(res, levels, body_bytes):
    lines = ["### S5: trickling connections (1 byte per connection every 250 ms)", "",
             f"Each transfer is {body_bytes} body bytes, each byte its own socket event; "
             f"an ideal run takes {body_bytes * 0.25:.1f} s. CPU per event is the "
             "client's CPU time less that of the same client run with no transfer, "
             "divided by the body bytes received.", ""]
    rows = []
    for client in CLIENTS:
        base = res.median("S6-base", client, cpu)
        for level in levels:
            sc = f"S5-{level}"
            if sc not in res.order or client not in res.clients(sc):
                continue
            bad = res.status(sc, client)
            if bad:
                rows.append([client, f"{level:,}", bad, "", "", "", ""])
                continue
            m = lambda f: res.median(sc, client, f)  # noqa: E731
            per_event = m(lambda r: (cpu(r) - (base or 0)) * 1e6 / int(r["bytes"])
                          if int(r["bytes"]) else None)
            rows.append([client, f"{level:,}", fmt(m(lambda r: float(r["seconds"])), 2),
                         fmt(m(lambda r: int(r["bytes"])), 0), fmt(m(cpu), 3),
                         fmt(per_event),
                         fmt(m(lambda r: int(r["maxrss_kb"]) / 1024))])
    lines.append(table(["client", "in flight", "wall s", "events", "CPU s",
                        "CPU µs/event", "peak RSS MB"], rows))
    lines.append("")
    return lines


def per_event(res, client, level):
    base = res.median("S6-base", client, cpu)
    if base is None:
        return None
    return res.median(f"S5-{level}", client,
                      lambda r: (cpu(r) - base) * 1e6 / int(r["bytes"])
                      if int(r["bytes"]) else None)


def memory_per_transfer(res, client, level):
    base = res.median("S6-base", client, lambda r: int(r["maxrss_kb"]))
    if base is None:
        return None
    return res.median(f"S5-{level}", client,
                      lambda r: (int(r["maxrss_kb"]) - base) / level)


def memory_section(res, level):
    sc = f"S5-{level}"
    if sc not in res.order:
        return []
    rows = []
    for client in res.clients(sc):
        bad = res.status(sc, client)
        base = res.median("S6-base", client, lambda r: int(r["maxrss_kb"]))
        if bad:
            rows.append([client, fmt(base and base / 1024), bad, ""])
            continue
        peak = res.median(sc, client, lambda r: int(r["maxrss_kb"]))
        rows.append([client, fmt(base and base / 1024), fmt(peak and peak / 1024),
                     fmt(memory_per_transfer(res, client, level))])
    return [f"### S6: memory per in-flight transfer ({level:,} in flight, S5's runs)", "",
            table(["client", "RSS with 0 transfers MB", f"peak RSS at {level:,} MB",
                   "KB per transfer"], rows), ""]


def callgrind_section(res):
    if "callgrind" not in res.order:
        return []
    rows = []
    for client in CLIENTS:
        runs = res.ok.get(("callgrind", client), [])
        by_n = {int(r["transfers"]): int(r["ir"]) for r in runs}
        if res.status("callgrind", client):
            rows.append([client, res.status("callgrind", client), "", ""])
            continue
        top = max(by_n) if by_n else 0
        if not top:
            continue
        net = (by_n[top] - by_n[0]) / top if 0 in by_n else None
        rows.append([client, f"{top:,}", f"{by_n[top] / top:,.0f}", fmt(net)])
    return ["### Instructions per transfer (callgrind, S1 at 64 in flight)", "",
            "Total Ir / N, and net of the same client run with N = 0 (start-up and "
            "teardown).", "",
            table(["client", "N", "Ir per transfer", "net Ir per transfer"], rows), ""]


def callgrind_h2_section(res):
    """S7 under callgrind: (Ir(N) - Ir(smallest N)) / the difference in N, so start-up
    and the TLS handshake drop out, and each client against h2load."""
    rows = []
    for server in ("nginx", "nghttpd"):
        sc = f"callgrind-h2-{server}"
        if sc not in res.order:
            continue
        net = {}
        for client in ["gmulti-session", "curl-glib", "h2load"]:
            if res.status(sc, client):
                rows.append([server, client, res.status(sc, client), ""])
                continue
            by_n = {int(r["transfers"]): int(r["ir"]) for r in res.ok.get((sc, client), [])}
            if len(by_n) < 2:
                continue
            low, high = min(by_n), max(by_n)
            net[client] = (by_n[high] - by_n[low]) / (high - low)
        for client, value in net.items():
            ratio = (f"{value / net['h2load']:.2f}x" if net.get("h2load") else "")
            rows.append([server, client, f"{value:,.0f}", ratio])
    if not rows:
        return []
    return ["### Instructions per HTTP/2 request (callgrind, S7 at 100 streams)", "",
            "(Ir at N = 2,100 - Ir at N = 100) / 2,000: start-up and the TLS handshake "
            "drop out.", "",
            table(["server", "client", "Ir per request", "vs h2load"], rows), ""]


def best(values, pick):
    values = [v for v in values if v is not None]
    return pick(values) if values else None


def targets_section(res, top_level):
    rows = []

    def add(name, value, goal, ok):
        verdict = "—" if value is None else ("met" if ok(value) else "**missed**")
        rows.append([name, "—" if value is None else f"{value:.2f}", goal, verdict])

    for sc in ("S1-c64", "S1-c8"):
        if sc not in res.order:
            continue
        g = lambda f: res.median(sc, "gmulti-session", f)  # noqa: E731
        o = lambda c, f: res.median(sc, c, f)  # noqa: E731
        add(f"{sc} throughput / curl-glib", ratio(g(rate), o("curl-glib", rate)),
            ">= 1.5", lambda v: v >= 1.5)
        add(f"{sc} CPU per transfer / curl-glib",
            ratio(g(cpu_per_transfer), o("curl-glib", cpu_per_transfer)),
            "<= 0.6", lambda v: v <= 0.6)
        add(f"{sc} throughput / curl-poll", ratio(g(rate), o("curl-poll", rate)),
            "> 1.0", lambda v: v > 1.0)
        add(f"{sc} throughput / soup", ratio(g(rate), o("soup", rate)),
            ">= 4", lambda v: v >= 4)
    for sc in ("S2-c1", "S2-c4", "S2-file-c1", "S2-file-c4"):
        if sc in res.order:
            add(f"{sc} MB/s / best libcurl",
                ratio(res.median(sc, "gmulti-session", mbps),
                      best([res.median(sc, c, mbps) for c in CURL], max)),
                ">= 1.3", lambda v: v >= 1.3)
            add(f"{sc} MB/s / curl-poll with its default 16 KiB buffer",
                ratio(res.median(sc, "gmulti-session", mbps),
                      res.median(sc, "curl-poll-16k", mbps)),
                ">= 1.3", lambda v: v >= 1.3)
    for sc in ("S3-c1", "S3-c4"):
        if sc in res.order:
            add(f"{sc} CPU per MB / best libcurl",
                ratio(res.median(sc, "gmulti-session", cpu_per_mb),
                      best([res.median(sc, c, cpu_per_mb) for c in CURL], min)),
                "<= 0.8", lambda v: v <= 0.8)
    if "S4-c64" in res.order:
        add("S4-c64 throughput / curl-glib",
            ratio(res.median("S4-c64", "gmulti-session", rate),
                  res.median("S4-c64", "curl-glib", rate)),
            ">= 1.5", lambda v: v >= 1.5)
    if f"S5-{top_level}" in res.order and "S5-100" in res.order:
        add(f"S5 CPU per event at {top_level:,} / at 100",
            ratio(per_event(res, "gmulti-session", top_level),
                  per_event(res, "gmulti-session", 100)),
            "<= 1.5", lambda v: v <= 1.5)
        add(f"S6 memory per transfer / best libcurl",
            ratio(memory_per_transfer(res, "gmulti-session", top_level),
                  best([memory_per_transfer(res, c, top_level) for c in CURL], min)),
            "<= 0.5", lambda v: v <= 0.5)
    if not rows:
        return []
    return ["### Targets (gmulti-session)", "",
            "\"best libcurl\" is the best of curl-glib, curl-poll and curl-poll-16k; a target "
            "without a figure could not be measured.", "",
            table(["target", "measured", "goal", "verdict"], rows), ""]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results")
    parser.add_argument("--s5-bytes", type=int, default=20)
    args = parser.parse_args()

    res = Results(parse(args.results))
    levels = sorted(int(sc.split("-")[1]) for sc in res.order if sc.startswith("S5-"))
    out = []
    out += throughput_section(res, ["S1-c64", "S1-c8"], "S1: 1 KiB GETs over HTTP")
    out += throughput_section(res, ["S2-c1", "S2-c4"], "S2: 256 MiB bodies over HTTP")
    out += throughput_section(res, ["S2-file-c1", "S2-file-c4"],
                              "S2-file: the same, written to a file descriptor")
    out += throughput_section(res, ["S3-c1", "S3-c4"],
                              "S3: 256 MiB bodies over HTTPS (TLS 1.3)")
    out += throughput_section(res, ["S4-c64"], "S4: 1 KiB GETs over HTTPS (TLS 1.3)")
    out += throughput_section(res, ["SP-c64"],
                              "SP: S4 through squid (CONNECT), TLS to nginx in the tunnel")
    out += throughput_section(res, ["SS-c64"], "SS: S1 through danted (SOCKS5h)")
    out += throughput_section(res, ["S1gz-c64", "S2gz-c1"],
                              "S1gz, S2gz: gzip-coded bodies, decoded by every client")
    out += ratio_section(res, ["S1-c64", "S1-c8", "S2-c1", "S2-c4", "S2-file-c1",
                               "S2-file-c4", "S3-c1", "S3-c4", "S4-c64", "SP-c64",
                               "SS-c64", "S1gz-c64",
                               "S2gz-c1"])
    if levels:
        out += trickle_section(res, levels, args.s5_bytes)
        out += memory_section(res, levels[-1])
    out += throughput_section(res, ["S7-nginx", "S7-nghttpd"],
                              "S7: 1 KiB GETs over HTTP/2 (TLS 1.3), streams on one "
                              "connection", server="server CPU", http=True)
    out += throughput_section(res, ["S8-c1", "S8-c8"],
                              "S8: 256 MiB bodies over HTTP/2 (TLS 1.3), one connection",
                              server="server CPU", http=True)
    out += h2_ratio_section(res, ["S7-nginx", "S7-nghttpd", "S8-c1", "S8-c8"])
    h2_levels = [int(sc.split("-")[1]) for sc in res.order
                 if sc.startswith("S9-") and sc != "S9-base"]
    if h2_levels:
        out += h2_memory_section(res, h2_levels[-1])
    out += callgrind_h2_section(res)
    out += callgrind_section(res)
    out += targets_section(res, levels[-1] if levels else 0)
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
