// CPU time of the local runtime, read from /proc (Linux). On this machine throughput is the
// inverse of it: workerd runs the worker and its local bindings mostly on one thread.
import { readdirSync, readFileSync } from "node:fs";

/** CPU time (ms) of every workerd process: the worker, its local bindings and wrangler's proxy. Null off Linux. */
export function workerdCpuMs() {
  let entries;
  try {
    entries = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  let ticks = 0;
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (!stat.includes("(workerd)")) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * 10;
}
