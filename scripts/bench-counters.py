#!/usr/bin/env python3
"""Per-command event counters of a BENCH_COUNTERS=1 run of scripts/bench.sh.

Each cell left raw/TAG.{target,host,machine}.cnt: two snapshots ("name
value" lines, before and after fio).  This prints, per profile, every
counter that moved, divided by the I/Os fio completed, as the median over
rounds per implementation, into counters.md.
"""
import glob
import json
import os
import re
import statistics
import sys


def snapshots(path, deltas):
    """The before and after snapshots of a .cnt file, as dicts; lines
    "fg_FUNC total_us calls" are deltas already and go to @deltas."""
    snaps, cur = [], {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0].startswith('fg_'):
                deltas[parts[0] + '_us'] = int(parts[1])
                deltas[parts[0] + '_calls'] = int(parts[2])
                continue
            if len(parts) != 2:
                continue
            name, val = parts
            if name in cur:
                snaps.append(cur)
                cur = {}
            try:
                cur[name] = int(val)
            except ValueError:
                pass
    if cur:
        snaps.append(cur)
    return snaps


def fmt(v):
    return f'{v:.0f}' if abs(v) >= 100 else f'{v:.3g}'


def ios(path):
    with open(path) as f:
        job = json.load(f)['jobs'][0]
    return job['read']['total_ios'] + job['write']['total_ios']


def main(out):
    cells = {}  # (cfg, profile) -> impl -> side -> name -> [per-I/O]
    for js in sorted(glob.glob(os.path.join(out, 'raw', '*.json'))):
        tag = os.path.basename(js)[:-5]
        m = re.match(r'(nj\d)-r(\d+)-([a-z0-9]+)-(.+)$', tag)
        if not m:
            continue
        cfg, _, impl, prof = m.groups()
        n = ios(js)
        # fio counts no I/O of its ramp time; the commands the target
        # received (SENDs into its receive queue) cover the whole window.
        tp = os.path.join(out, 'raw', f'{tag}.target.cnt')
        if os.path.exists(tp):
            t = snapshots(tp, {})
            if len(t) >= 2:
                n = t[-1].get('rxe_rdma_recvs', 0) - t[0].get('rxe_rdma_recvs', 0) or n
        if not n:
            continue
        cp = os.path.join(out, 'raw', f'{tag}.cpu')
        if os.path.exists(cp):
            with open(cp) as f:
                busy = [sum(int(x) for x in (v[1], v[2], v[3], v[6], v[7]))
                        for v in (line.split() for line in f)
                        if v and v[0] == 'cpu']
            if len(busy) >= 2:
                # USER_HZ jiffies of 10 ms
                cells.setdefault((cfg, prof), {}).setdefault(impl, {}) \
                    .setdefault('target', {}).setdefault('cpu_us', []) \
                    .append((busy[-1] - busy[0]) * 10000 / n)
        for side in ('target', 'host', 'machine'):
            p = os.path.join(out, 'raw', f'{tag}.{side}.cnt')
            if not os.path.exists(p):
                continue
            fg = {}
            s = snapshots(p, fg)
            if len(s) < 2:
                continue
            for name, d in fg.items():
                cells.setdefault((cfg, prof), {}).setdefault(impl, {}) \
                    .setdefault(side, {}).setdefault(name, []).append(d / n)
            if side == 'machine' and 'uptime_cs' in s[0]:
                wall = s[-1]['uptime_cs'] - s[0]['uptime_cs']
                for k in ('jiffies_busy', 'jiffies_qemu'):
                    s[0][k] = s[0].get(k, 0) * n / max(wall, 1)
                    s[-1][k] = s[-1].get(k, 0) * n / max(wall, 1)
                s[0]['jiffies_others'] = s[0]['jiffies_busy'] - s[0]['jiffies_qemu']
                s[-1]['jiffies_others'] = s[-1]['jiffies_busy'] - s[-1]['jiffies_qemu']
                del s[0]['uptime_cs'], s[-1]['uptime_cs']
            for name, v in s[-1].items():
                d = v - s[0].get(name, v)
                if d:
                    cells.setdefault((cfg, prof), {}).setdefault(impl, {}) \
                        .setdefault(side, {}).setdefault(name, []).append(d / n)
    lines = ['# Event counters per command (median over rounds)', '',
             'Per command: divided by the SENDs the target received in the '
             'window (fio ramp included; local: by fio I/Os).', '',
             'machine jiffies_*: CPU of the whole machine and of the two '
             'QEMUs during the cell, in cores (1.0 = one core busy); '
             'jiffies_others = busy - qemu: other work on the machine.', '']
    for (cfg, prof), impls in sorted(cells.items()):
        names = sorted(impls)
        lines += [f'## {cfg} {prof}', '',
                  '| side | counter | ' + ' | '.join(names) + ' |',
                  '|---|---|' + '---|' * len(names)]
        for side in ('target', 'host', 'machine'):
            keys = sorted({k for i in names for k in impls[i].get(side, {})})
            for k in keys:
                vals = []
                for i in names:
                    v = impls[i].get(side, {}).get(k)
                    vals.append(fmt(statistics.median(v)) if v else '0')
                lines.append(f'| {side} | {k} | ' + ' | '.join(vals) + ' |')
        lines.append('')
    with open(os.path.join(out, 'counters.md'), 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main(sys.argv[1])
