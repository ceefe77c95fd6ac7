#!/usr/bin/env python3
"""Turn the raw output of scripts/bench.sh into results.json, results.md
and PNG plots (gnuplot).  Usage: bench-report.py RESULTS_DIR

raw/ holds, per cell, CFG-rROUND-IMPL-PROFILE.json (fio) and .cpu (two
target-VM snapshots: /proc/stat cpu line + uptime, before and after), and
CFG-rROUND-raw-TEST.txt (perftest client output).  Method and how to read
the output: Documentation/benchmarks.md."""

import glob
import json
import os
import re
import shlex
import statistics
import subprocess
import sys

NAMES = {
    "raw": "raw RDMA (perftest)",
    "local": "local null_blk",
    "ours": "ours",
    "ours2": "ours' (A/A)",
    "intree": "in-tree rdma",
    "hostours": "our host, in-tree target",
    "tgtours": "in-tree host, our target",
    "tcp": "in-tree tcp",
}
FABRIC = ["ours", "ours2", "intree", "hostours", "tgtours", "tcp"]
ALL_COLUMNS = ["local"] + FABRIC
# Columns (and ratios) of the implementations a run measured.
COLUMNS = ALL_COLUMNS
# (results.json key, table heading, numerator, denominator)
RATIOS = [("ours/intree", "ours/in-tree", "ours", "intree"),
          ("ours/tcp", "ours/tcp", "ours", "tcp"),
          ("hostours/intree", "our host/in-tree", "hostours", "intree"),
          ("tgtours/intree", "our target/in-tree", "tgtours", "intree")]
PERFTEST = [("ib_send_lat", 4096, "lat"), ("ib_read_lat", 4096, "lat"),
            ("ib_write_lat", 4096, "lat"), ("ib_write_bw", 131072, "bw"),
            ("ib_read_bw", 131072, "bw")]
# What bounds a profile on the wire: an NVMe read is served by RDMA WRITEs
# from the target, a write by RDMA READs; a QD1 command is at least one
# round trip, which ib_read_lat measures.
RAW_LIMIT = {
    "randread-4k-qd1": "ib_read_lat",
    "randwrite-4k-qd1": "ib_read_lat",
    "read-128k-qd16": "ib_write_bw",
    "write-128k-qd16": "ib_read_bw",
}
CONFIG_TITLE = {
    "nj1": "numjobs=1, 1 vCPU per VM",
    "nj2": "numjobs=2, 2 vCPUs per VM (scaling row)",
}


def params(out):
    p = {}
    with open(os.path.join(out, "params.env")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            p[k] = " ".join(shlex.split(v))
    return p


def metric_of(profile):
    """(key, unit, higher_is_better) of a profile's headline number."""
    if profile.endswith("-qd1"):
        return "lat_us", "µs", False
    if "-128k-" in profile:
        return "bw_mib", "MiB/s", True
    return "iops", "IOPS", True


def fio_cell(path):
    with open(path) as f:
        text = f.read()
    # fio may put warnings ahead of the JSON in its output file.
    j = json.loads(text[text.find("{"):])["jobs"][0]
    r, w = j["read"], j["write"]
    if j.get("error"):
        raise SystemExit(f"{path}: fio error {j['error']}")
    ios = r["total_ios"] + w["total_ios"]
    if ios == 0:
        raise SystemExit(f"{path}: no I/O completed")
    lat = (r["lat_ns"]["mean"] * r["total_ios"] +
           w["lat_ns"]["mean"] * w["total_ios"]) / ios / 1000
    main = r if r["total_ios"] >= w["total_ios"] else w
    p50 = main["clat_ns"].get("percentile", {}).get("50.000000", 0) / 1000
    return {
        "iops": r["iops"] + w["iops"],
        "bw_mib": (r["bw_bytes"] + w["bw_bytes"]) / 1048576,
        "lat_us": lat,
        "clat_p50_us": p50,
        "ios": ios,
    }


def cpu_cell(path, iops):
    """Target-VM CPU time per I/O (µs): busy jiffies (user, nice, system,
    irq, softirq) over the fio run, divided by the I/Os of that window."""
    with open(path) as f:
        lines = [ln.split() for ln in f if ln.strip()]
    stats = [ln for ln in lines if ln[0] == "cpu"]
    ups = [float(ln[0]) for ln in lines if ln[0] != "cpu"]
    if len(stats) != 2 or len(ups) != 2:
        return None
    busy = [sum(int(s[i]) for i in (1, 2, 3, 6, 7)) for s in stats]
    secs = (busy[1] - busy[0]) / 100.0
    window = ups[1] - ups[0]
    if window <= 0 or iops <= 0:
        return None
    return {"cpu_us_per_io": secs / (iops * window) * 1e6,
            "target_cpu_util": secs / window}


def perftest_value(path, size, kind):
    with open(path) as f:
        for line in f:
            x = line.split()
            if len(x) >= 4 and x[0] == str(size) and re.match(r"^[\d.]+$", x[1]):
                # lat: t_typical (the median); bw: BW average
                return float(x[4]) if kind == "lat" else float(x[3])
    raise SystemExit(f"{path}: no result line for size {size}")


def summary(values):
    return {"values": values, "median": statistics.median(values),
            "min": min(values), "max": max(values)}


def collect(out, p):
    raw = {}
    for test, size, kind in PERFTEST:
        vals = [perftest_value(f, size, kind) for f in
                sorted(glob.glob(os.path.join(out, "raw", f"nj1-r*-raw-{test}.txt")))]
        if vals:
            raw[test] = dict(summary(vals), size=size,
                             unit="µs (round trip)" if test == "ib_read_lat" else
                             "µs (one way, half the ping-pong)" if kind == "lat" else
                             "MiB/s")
    configs = {}
    for cfg, profs, impls in (("nj1", p["PROFILES1"], p["IMPLS1"]),
                              ("nj2", p["PROFILES2"], p["IMPLS2"])):
        if not os.path.isdir(os.path.join(out, cfg)):
            continue
        c = {"title": CONFIG_TITLE[cfg], "profiles": {}}
        for prof in profs.split():
            key, unit, better = metric_of(prof)
            entry = {"metric": key, "unit": unit, "higher_is_better": better,
                     "impls": {}}
            for impl in impls.split():
                if impl == "raw":
                    continue
                cells = []
                for f in sorted(glob.glob(os.path.join(out, "raw", f"{cfg}-r*-{impl}-{prof}.json"))):
                    cell = fio_cell(f)
                    cell["round"] = int(re.search(r"-r(\d+)-", f).group(1))
                    cpu = cpu_cell(f[:-5] + ".cpu", cell["iops"])
                    if cpu:
                        cell.update(cpu)
                    cells.append(cell)
                if not cells:
                    raise SystemExit(f"no results for {cfg} {impl} {prof}")
                e = summary([x[key] for x in cells])
                cpus = [x["cpu_us_per_io"] for x in cells if "cpu_us_per_io" in x]
                e["cpu_us_per_io"] = summary(cpus) if cpus else None
                e["cells"] = cells
                entry["impls"][impl] = e
            m = {i: entry["impls"][i]["median"] for i in entry["impls"]}
            ratios = {}

            def ratio(a, b):
                return m[a] / m[b] if a in m and b in m and m[b] else None
            for key, _, a, b in RATIOS:
                ratios[key] = ratio(a, b)
            ratios["ours'/ours"] = ratio("ours2", "ours")
            lim = RAW_LIMIT.get(prof)
            if lim and lim in raw and "ours" in m and cfg == "nj1":
                entry["raw_limit"] = {"test": lim, "median": raw[lim]["median"]}
                ratios["ours/raw"] = m["ours"] / raw[lim]["median"]
            entry["ratios"] = ratios
            c["profiles"][prof] = entry
        configs[cfg] = c
    overhead = {}
    nj1 = configs.get("nj1", {}).get("profiles", {})
    if "ib_read_lat" in raw:
        rtt = raw["ib_read_lat"]["median"]
        for prof in ("randread-4k-qd1", "randwrite-4k-qd1"):
            if prof not in nj1 or "local" not in nj1[prof]["impls"]:
                continue
            loc = nj1[prof]["impls"]["local"]["median"]
            overhead[prof] = {
                i: {"added_us": nj1[prof]["impls"][i]["median"] - loc,
                    "rtt_multiple": (nj1[prof]["impls"][i]["median"] - loc) / rtt}
                for i in FABRIC if i in nj1[prof]["impls"]}
    return raw, configs, overhead


def fmt(v):
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell_text(e):
    return f"{fmt(e['median'])} ({fmt(e['min'])}–{fmt(e['max'])})"


def rfmt(v):
    return "—" if v is None else f"{v:.2f}"


def machine_load(out):
    """Cores busy outside our two QEMUs, and in them, per fio cell, from
    the raw/*.machine.cnt snapshots (USER_HZ jiffies, uptime in cs)."""
    others, qemu = [], []
    for path in sorted(glob.glob(os.path.join(out, "raw", "*.machine.cnt"))):
        snaps, cur = [], {}
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(" ")
                if k in cur:
                    snaps.append(cur)
                    cur = {}
                cur[k] = float(v)
        snaps.append(cur)
        a, b = snaps[0], snaps[-1]
        if "uptime_cs" not in a or "uptime_cs" not in b:
            continue
        wall = b["uptime_cs"] - a["uptime_cs"]
        if wall <= 0:
            continue
        q = (b["jiffies_qemu"] - a["jiffies_qemu"]) / wall
        qemu.append(q)
        others.append(max(0.0, (b["jiffies_busy"] - a["jiffies_busy"]) / wall - q))
    if not others:
        return None
    return {"others_cores": summary(others), "qemu_cores": summary(qemu)}


def markdown(p, raw, configs, overhead, load=None):
    L = []
    L.append(f"# nvmeof-rdma benchmark{' (QUICK smoke run)' if p['QUICK'] == '1' else ''}")
    L.append("")
    L.append(f"- date: {p['DATE']}; revision {p['REVISION']}")
    L.append(f"- machine: {p['MACHINE']}; host kernel {p['HOST_KERNEL']}")
    L.append(f"- guests: Debian {p['GUEST_KERNEL']} under {p['QEMU']} (TCG), "
             "soft-RoCE (rxe) over a UDP socket link; null_blk (memory_backed=0, irqmode=0) in the target")
    L.append(f"- method: {p['ROUNDS']} round(s), implementations alternated and the order rotated "
             f"each round; fio {p['RUNTIME']} s + {p['RAMP']} s ramp per cell, libaio, direct; "
             "cells are median (min–max) over rounds")
    if load:
        o, q = load["others_cores"], load["qemu_cores"]
        L.append(f"- machine load during the fio cells: other work {o['median']:.2f} cores "
                 f"({o['min']:.2f}–{o['max']:.2f}), our two QEMUs {q['median']:.2f} "
                 f"({q['min']:.2f}–{q['max']:.2f}); other work slows every column")
    L.append("")
    if raw:
        L.append("## Raw RDMA between the VMs (perftest, rdma_cm)")
        L.append("")
        L.append("| test | size | median (min–max) | unit |")
        L.append("|---|---|---|---|")
    for test, size, _ in PERFTEST:
        if test in raw:
            L.append(f"| {test} | {size} | {cell_text(raw[test])} | {raw[test]['unit']} |")
    for cfg, c in configs.items():
        L.append("")
        L.append(f"## {c['title']}")
        L.append("")
        L.append("Latency in µs (mean completion latency, lower is better); IOPS and MiB/s higher "
                 "is better. Ratios are of medians; for latency a ratio below 1 means ours is faster.")
        L.append("")
        shown = [r for r in RATIOS if any(e["ratios"].get(r[0]) is not None
                                          for e in c["profiles"].values())]
        rkeys = [r[0] for r in shown]
        hdr = ["profile", "unit"] + [NAMES[i] for i in COLUMNS] + \
            ["raw limit"] + [r[1] for r in shown] + ["ours/raw", "A/A (ours'/ours)"]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        for prof, e in c["profiles"].items():
            row = [prof, e["unit"]]
            row += [cell_text(e["impls"][i]) if i in e["impls"] else "—" for i in COLUMNS]
            rl = e.get("raw_limit")
            row.append(f"{fmt(rl['median'])} ({rl['test']})" if rl else "—")
            row += [rfmt(e["ratios"].get(k)) for k in rkeys + ["ours/raw", "ours'/ours"]]
            L.append("| " + " | ".join(row) + " |")
        L.append("")
        L.append("Target-VM CPU time per I/O, µs (median over rounds; for local, fio itself runs "
                 "in the target VM and is included):")
        L.append("")
        hdr = ["profile"] + [NAMES[i] for i in COLUMNS] + ["ours/in-tree", "ours/tcp"]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        for prof, e in c["profiles"].items():
            cm = {i: (e["impls"][i]["cpu_us_per_io"] or {}).get("median") for i in e["impls"]}
            row = [prof] + [fmt(cm.get(i)) for i in COLUMNS]
            for b in ("intree", "tcp"):
                row.append(rfmt(cm["ours"] / cm[b]) if cm.get("ours") and cm.get(b) else "—")
            L.append("| " + " | ".join(row) + " |")
    if overhead:
        rtt = raw["ib_read_lat"]["median"]
        L.append("")
        L.append(f"## Fabric overhead at QD1 (numjobs=1)")
        L.append("")
        L.append(f"QD1 latency minus local null_blk latency, and that as a multiple of one raw "
                 f"RDMA round trip (ib_read_lat 4 KiB, median {fmt(rtt)} µs).")
        L.append("")
        shown = [i for i in FABRIC if i in COLUMNS]
        L.append("| profile | " + " | ".join(NAMES[i] for i in shown) + " |")
        L.append("|---|" + "---|" * len(shown))
        for prof, o in overhead.items():
            L.append(f"| {prof} | " + " | ".join(
                f"{o[i]['added_us']:+.0f} µs = {o[i]['rtt_multiple']:.2f}× RTT" if i in o else "—"
                for i in shown) + " |")
    L.append("")
    L.append("Plots: latency-qd1.png, iops-4k.png, bw-128k.png (bars: median, error bars: min–max).")
    return "\n".join(L) + "\n"


def plots(out, raw, configs):
    """One gnuplot clustered bar chart per metric family."""
    series = COLUMNS + ["raw"]
    charts = [
        ("latency-qd1.png", "QD1 4 KiB latency (µs, lower is better)", "µs",
         lambda prof: prof.endswith("-qd1")),
        ("iops-4k.png", "4 KiB QD32 IOPS (higher is better)", "IOPS",
         lambda prof: prof.endswith("-qd32")),
        ("bw-128k.png", "128 KiB QD16 bandwidth (MiB/s, higher is better)", "MiB/s",
         lambda prof: "-128k-" in prof),
    ]
    made = []
    for png, title, ylabel, pick in charts:
        rows = []
        for cfg, c in configs.items():
            for prof, e in c["profiles"].items():
                if not pick(prof):
                    continue
                label = prof + ("" if cfg == "nj1" else " (nj2)")
                vals = []
                for s in series:
                    if s == "raw":
                        rl = e.get("raw_limit")
                        r = raw.get(rl["test"]) if rl else None
                        vals += [r["median"], r["min"], r["max"]] if r else ["NaN"] * 3
                    elif s in e["impls"]:
                        x = e["impls"][s]
                        vals += [x["median"], x["min"], x["max"]]
                    else:
                        vals += ["NaN"] * 3
                rows.append([label] + vals)
        if not rows:
            continue
        # gnuplot refuses a histogram column without a single number.
        keep = [k for k, _ in enumerate(series)
                if any(r[1 + 3 * k] != "NaN" for r in rows)]
        cols = [series[k] for k in keep]
        rows = [[r[0]] + [v for k in keep for v in r[1 + 3 * k:4 + 3 * k]] for r in rows]
        dat = os.path.join(out, png[:-4] + ".dat")
        with open(dat, "w") as f:
            f.write("# profile " + " ".join(f"{s}_med {s}_min {s}_max" for s in cols) + "\n")
            for r in rows:
                f.write(f'"{r[0]}" ' + " ".join(str(v) for v in r[1:]) + "\n")
        plot = []
        for k, s in enumerate(cols):
            col = 2 + 3 * k
            xt = ":xtic(1)" if k == 0 else ""
            plot.append(f"'{dat}' using {col}:{col + 1}:{col + 2}{xt} title \"{NAMES[s]}\"")
        gp = "\n".join([
            "set terminal pngcairo size 1000,520 font ',10'",
            f"set output '{os.path.join(out, png)}'",
            f"set title \"{title}\"",
            f"set ylabel \"{ylabel}\"",
            "set style data histogram",
            "set style histogram errorbars gap 2 lw 1",
            "set style fill solid 0.8 border -1",
            "set boxwidth 0.9",
            # Log scale: the local device is one to two orders of
            # magnitude beyond the fabrics, which would be slivers.
            "set logscale y",
            "set yrange [*:*]",
            f"set ylabel \"{ylabel} (log scale)\"",
            "set grid ytics",
            "set key outside right top vertical",
            "set xtics noenhanced rotate by -20",
            "set bmargin 5",
            "set key noenhanced",
            "plot " + ", \\\n     ".join(plot),
        ]) + "\n"
        with open(os.path.join(out, png[:-4] + ".gp"), "w") as f:
            f.write(gp)
        subprocess.run(["gnuplot", os.path.join(out, png[:-4] + ".gp")], check=True)
        made.append(png)
    return made


def main():
    global COLUMNS
    out = sys.argv[1]
    p = params(out)
    raw, configs, overhead = collect(out, p)
    measured = {i for c in configs.values() for e in c["profiles"].values()
                for i in e["impls"]}
    COLUMNS = [i for i in ALL_COLUMNS if i in measured]
    made = plots(out, raw, configs)
    load = machine_load(out)
    res = {"params": p, "raw_rdma": raw, "configs": configs,
           "fabric_overhead_qd1": overhead, "machine_load": load, "plots": made}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(markdown(p, raw, configs, overhead, load))


if __name__ == "__main__":
    main()
