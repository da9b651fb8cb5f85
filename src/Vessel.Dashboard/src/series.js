// Per-VM time series built from the live snapshots: rates come from counter deltas between frames.
const keep = 120;
const byVm = new Map();

export function record(stats, now = Date.now() / 1000) {
  for (const s of stats) {
    const disk = s.disks.reduce((a, d) => a + d.readBytes + d.writeBytes, 0);
    const net = s.nics.reduce((a, n) => a + n.rxBytes + n.txBytes, 0);
    let entry = byVm.get(s.name);
    if (!entry || s.pid !== entry.pid) {
      entry = { pid: s.pid, last: null, t: [], cpu: [], ips: [], rss: [], disk: [], net: [] };
      byVm.set(s.name, entry);
    }
    const dt = entry.last ? now - entry.last.t : 0;
    const delta = (value, previous) => (dt > 0 && value >= previous ? (value - previous) / dt : 0);
    entry.t.push(now);
    entry.cpu.push(s.cpuPercent);
    entry.ips.push(s.instructionsPerSecond);
    entry.rss.push(s.rssBytes);
    entry.disk.push(entry.last ? delta(disk, entry.last.disk) : 0);
    entry.net.push(entry.last ? delta(net, entry.last.net) : 0);
    entry.last = { t: now, disk, net };
    if (entry.t.length > keep) for (const k of ['t', 'cpu', 'ips', 'rss', 'disk', 'net']) entry[k].shift();
  }
  for (const name of byVm.keys()) if (!stats.some((s) => s.name === name)) byVm.delete(name);
}

export const seriesOf = (name) => byVm.get(name);

// A sparkline on a canvas: cheap enough to redraw for every row every second.
export function drawSparkline(canvas, values, max) {
  const ctx = canvas.getContext('2d');
  const w = (canvas.width = canvas.clientWidth * devicePixelRatio);
  const h = (canvas.height = canvas.clientHeight * devicePixelRatio);
  ctx.clearRect(0, 0, w, h);
  if (!values || values.length < 2) return;
  const top = Math.max(max ?? 0, ...values, 1);
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = w - ((values.length - 1 - i) / (keep - 1)) * w;
    const y = h - (v / top) * (h - 2) - 1;
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.strokeStyle = '#3b7ea1';
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.stroke();
}
