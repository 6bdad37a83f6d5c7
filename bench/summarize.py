#!/usr/bin/env python3
"""bench/summarize.py: turns one run of bench/run.sh (its raw directory) into
bench/results/latest.json and prints the table of ratios (synack / kernel).

Raw files (tab-separated, written by run.sh):
  values.tsv  key side rep value    one measured figure
  nulls.tsv   key side reason       a figure that could not be measured
  detail.tsv  key name value        anything else worth keeping

bytes_per_conn is computed here from the detail rows of the memory phase:
  synack: VmRSS growth of bench/synhold (synack serve's discard service as
          a detail, or in its place when synhold could not be built) / N
  kernel: (socket slab cache growth with kernel client + kernel server
           - the same with kernel client + synack server) / N
          i.e. what the kernel's server side of N idle connections costs,
          the client sockets (the same in both runs) cancelling out; the
          same difference over all of Slab and all caches is in "detail".
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# key: (unit, better, target ratio, label)
MEASUREMENTS = {
    "bulk_rx": ("Gbit/s", "higher", 1.0, "bulk, kernel -> server (discard)"),
    "bulk_tx": ("Gbit/s", "higher", 1.0, "bulk, server -> kernel (chargen)"),
    "conn_rate": ("conn/s", "higher", 1.5, "HTTP/1.1 Connection: close, wrk -c50"),
    "h1_keepalive": ("req/s", "higher", 2.5, "HTTP/1.1 keep-alive, wrk -c50"),
    "h2": ("req/s", "higher", 2.0, "HTTP/2, h2load -c10 -m10"),
    "echo_p50": ("us", "lower", 1.0, "1-byte echo round trip, p50"),
    "echo_p99": ("us", "lower", 1.0, "1-byte echo round trip, p99"),
    "bytes_per_conn": ("bytes", "lower", 1.0, "memory per idle connection"),
    "queue_scaling": ("req/s", "higher", None, "synack --queues 2 / --queues 1"),
}


def read_tsv(path, ncols):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= ncols:
                rows.append(parts[: ncols - 1] + ["\t".join(parts[ncols - 1 :])])
    return rows


def stats(runs):
    if not runs:
        return None
    return {
        "median": round(statistics.median(runs), 3),
        "min": round(min(runs), 3),
        "max": round(max(runs), 3),
        "runs": [round(x, 3) for x in runs],
    }


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def memory(details, mem_conns):
    """Per rep bytes per connection, for each N: {series: {N: [..]}}."""
    d = details.get("bytes_per_conn", {})
    out = {"synack": {}, "serve": {}, "kernel": {}, "kernel_slab": {}, "kernel_slabobj": {},
           "client_slab": {}, "client_sockslab": {}}
    for n in mem_conns:
        for rep in range(1, 100):
            g = lambda side, what: num(d.get(f"{side}.{n}.rep{rep}.{what}"))
            if all(g(side, "slab_kb") is None for side in ("synack", "serve", "kernel")):
                if rep > 1:
                    break
                continue
            for side in ("synack", "serve"):
                if g(side, "rss_kb") is not None:
                    out[side].setdefault(n, []).append(g(side, "rss_kb") * 1024 / n)
            # the client's own sockets: the slab growth while synack serves
            cside = "synack" if g("synack", "slab_kb") is not None else "serve"
            for what, series, client in (("sockslab_kb", "kernel", "client_sockslab"),
                                         ("slab_kb", "kernel_slab", "client_slab"),
                                         ("slabobj_kb", "kernel_slabobj", None)):
                c, k = g(cside, what), g("kernel", what)
                if c is not None and client:
                    out[client].setdefault(n, []).append(c * 1024 / n)
                if c is not None and k is not None:
                    out[series].setdefault(n, []).append((k - c) * 1024 / n)
    return out


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("Gbit/s", "us"):
        return f"{v:.2f}"
    return f"{v:,.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--echo-n", type=int, default=20000)
    ap.add_argument("--mem-conns", default="10000 100000")
    ap.add_argument("--budget-exceeded", default="0")
    a = ap.parse_args()

    values = read_tsv(os.path.join(a.raw, "values.tsv"), 4)
    nulls = read_tsv(os.path.join(a.raw, "nulls.tsv"), 3)
    detail_rows = read_tsv(os.path.join(a.raw, "detail.tsv"), 3)
    details = {}
    for key, name, value in detail_rows:
        details.setdefault(key, {})[name] = value
    mem_conns = [int(x) for x in a.mem_conns.split()]

    runs = {}
    for key, side, rep, value in values:
        v = num(value)
        if v is not None:
            runs.setdefault(key, {}).setdefault(side, []).append(v)
    reasons = {}
    for key, side, reason in nulls:
        reasons.setdefault(key, {}).setdefault(side, reason)
    # echo_p99 fails with echo_p50
    for side, r in reasons.get("echo_p50", {}).items():
        reasons.setdefault("echo_p99", {}).setdefault(side, r)

    mem = memory(details, mem_conns)
    big = max(mem_conns) if mem_conns else None
    mem_note = None
    if big is not None:
        if mem["kernel"].get(big):
            runs.setdefault("bytes_per_conn", {})["kernel"] = mem["kernel"][big]
        if mem["synack"].get(big):
            runs.setdefault("bytes_per_conn", {})["synack"] = mem["synack"][big]
        elif mem["serve"].get(big):
            runs.setdefault("bytes_per_conn", {})["synack"] = mem["serve"][big]
            mem_note = ("the synack figure is synack serve's (discard service, which allocates "
                        "a 64 KiB buffer per connection): bench/synhold was not available")

    result = {}
    for key, (unit, better, target, label) in MEASUREMENTS.items():
        r = runs.get(key, {})
        entry = {"label": label, "unit": unit, "better": better}
        if key == "queue_scaling":
            syn, ker = stats(r.get("q2", [])), None
            base = stats(r.get("q1", []))
            entry["synack"] = syn  # --queues 2
            entry["kernel"] = None
            entry["baseline_queues_1"] = base
            entry["ratio_of"] = "synack --queues 2 / synack --queues 1 (no kernel figure)"
            ratio = syn["median"] / base["median"] if syn and base and base["median"] else None
        else:
            syn, ker = stats(r.get("synack", [])), stats(r.get("kernel", []))
            entry["synack"] = syn
            entry["kernel"] = ker
            entry["ratio_of"] = "synack / kernel"
            ratio = syn["median"] / ker["median"] if syn and ker and ker["median"] else None
        entry["ratio"] = round(ratio, 3) if ratio is not None else None
        entry["target"] = None if target is None else (
            f">= {target}" if better == "higher" else f"<= {target}")
        entry["met"] = None if ratio is None or target is None else (
            ratio >= target if better == "higher" else ratio <= target)
        why = reasons.get(key, {})
        if ratio is None:
            if why:
                entry["reason"] = "; ".join(f"{s}: {w}" for s, w in why.items())
            elif a.budget_exceeded == "1":
                entry["reason"] = "the time budget of the run ran out first"
            else:
                entry["reason"] = "no figure recorded (see the raw directory)"
        else:
            entry["reason"] = None
            if why:
                entry["notes"] = "; ".join(f"{s}: {w}" for s, w in why.items())
        d = dict(details.get(key, {}))
        if key == "bytes_per_conn":
            d = {"connections": big, "per_step": {}}
            for n in mem_conns:
                d["per_step"][str(n)] = {
                    "synack_rss": stats(mem["synack"].get(n, [])),
                    "synack_serve_discard_rss": stats(mem["serve"].get(n, [])),
                    "kernel_socket_caches": stats(mem["kernel"].get(n, [])),
                    "kernel_slab_meminfo": stats(mem["kernel_slab"].get(n, [])),
                    "kernel_slabinfo_all_objects": stats(mem["kernel_slabobj"].get(n, [])),
                    "kernel_client_socket_caches": stats(mem["client_sockslab"].get(n, [])),
                    "kernel_client_slab_meminfo": stats(mem["client_slab"].get(n, [])),
                }
            if mem_note:
                entry["notes"] = mem_note
            d["tcp_slab_objsize"] = num(details.get("bytes_per_conn", {}).get("tcp_slab_objsize"))
            d["raw"] = details.get("bytes_per_conn", {})
            d["method"] = ("synack: VmRSS growth / N of bench/synhold (synack's stack on the TAP, "
                           "accepting and keeping connections with no per-connection application "
                           "state, like benchtool hold on the kernel); synack_serve_discard_rss: the "
                           "same for synack serve's discard service (port 9); kernel: growth of "
                           "the socket slab caches (/proc/slabinfo active objects x object size of "
                           + (d.get("raw", {}).get("sock_caches") or "TCP, sock_inode_cache, filp, "
                              "dentry, lsm_inode_cache, lsm_file_cache").replace(" ", ", ") +
                           ") with the kernel holding both ends, minus their growth with synack as "
                           "the server (the client sockets cancel), / N; kernel_slab_meminfo and "
                           "kernel_slabinfo_all_objects: the same with all of /proc/meminfo Slab "
                           "or all slab caches (noisier: everything else the machine does)")
        if d:
            entry["detail"] = d
        result[key] = entry

    uname = platform.uname()
    meta = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "kernel": f"{uname.system} {uname.release}",
        "machine": uname.machine,
        "cpus": os.cpu_count(),
        "pinning": "clients on CPU 0, servers (synack or kernel) on CPU 1: "
                   "client and server share the machine's 2 cores",
        "congestion_control": "reno on every kernel socket (synack: NewReno)",
        "seconds_per_run": a.secs,
        "repetitions": a.reps,
        "echo_round_trips": a.echo_n,
        "memory_connections": mem_conns,
        "raw": os.path.relpath(a.raw, os.path.dirname(os.path.abspath(a.out))),
    }
    try:
        meta["git"] = subprocess.run(["git", "describe", "--always", "--dirty"],
                                     capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    for k, v in details.get("meta", {}).items():
        meta[k] = v
    doc = {"meta": meta}
    doc.update(result)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, a.out)
    with open(os.path.join(a.raw, "result.json"), "w") as f:
        json.dump(doc, f, indent=2)

    # The table.
    print()
    print(f"synack vs the Linux kernel ({meta['timestamp']}, {meta['kernel']}, {meta['cpus']} CPUs; "
          f"median of {a.reps}, min-max in brackets)")
    print("client and server share the 2 cores: clients on CPU 0, servers on CPU 1")
    print(f"synack serve {meta.get('synack_args') or '(plain TAP, no extra arguments)'}")
    hdr = f"{'measurement':<15} {'unit':<7} {'synack':>26} {'kernel':>26} {'ratio':>7}  {'target':<8} "
    print(hdr)
    print("-" * len(hdr))
    for key, e in result.items():
        def cell(s):
            if not s:
                return "null"
            return f"{fmt(s['median'], e['unit'])} [{fmt(s['min'], e['unit'])}-{fmt(s['max'], e['unit'])}]"
        ker = e["kernel"] if key != "queue_scaling" else e.get("baseline_queues_1")
        ratio = "null" if e["ratio"] is None else f"{e['ratio']:.3f}"
        met = "" if e["met"] is None else ("met" if e["met"] else "NOT met")
        print(f"{key:<15} {e['unit']:<7} {cell(e['synack']):>26} {cell(ker):>26} {ratio:>7}  "
              f"{e['target'] or '':<8} {met}")
    print()
    print("ratio = synack / kernel (queue_scaling: synack --queues 2 / --queues 1, its 'kernel' "
          "column is --queues 1);")
    print("higher is better for throughput and rates, lower for latency and bytes_per_conn")
    for key, e in result.items():
        if e["ratio"] is None:
            print(f"  {key}: null: {e['reason']}")
    bpc = result["bytes_per_conn"].get("detail", {}).get("per_step", {})
    for n, s in bpc.items():
        sy, sv, ke = s.get("synack_rss"), s.get("synack_serve_discard_rss"), s.get("kernel_socket_caches")
        if sy or sv or ke:
            print(f"  bytes_per_conn at {int(n):,} connections: synack stack (synhold) "
                  f"{fmt(sy and sy['median'], 'bytes')}, synack serve discard "
                  f"{fmt(sv and sv['median'], 'bytes')}, kernel {fmt(ke and ke['median'], 'bytes')}")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
