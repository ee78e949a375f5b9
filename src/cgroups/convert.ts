// Value conversions between runtime-spec resources and cgroup v2 files, as runc computes them.
// Pure functions; no I/O.
import { errors } from '../errors/index';

/**
 * cpu.shares (v1, 2..262144) to cpu.weight (v2, 1..10000) with runc's linear mapping
 * `1 + ((shares-2)*9999)/262142` (runc 1.1–1.3, cgroups.ConvertCPUSharesToCgroupV2Value; the
 * runc installed here is 1.1.5). opencontainers/cgroups later switched to a log-quadratic curve;
 * keep the linear one so `cpu.weight` matches the runc we are cross-checked against.
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) to io.weight (1..10000), runc's ConvertBlkIOToIOWeightValue. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * The spec's swap is memory+swap; cgroup v2's memory.swap.max is swap alone. Returns -1 for "max",
 * 0 for "unset"; runc's ConvertMemorySwapToCgroupV2Value.
 */
export function swapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === -1) return swap;
  if (memory === 0) throw errors.invalid('unable to set swap limit without memory limit');
  if (memory < 0) throw errors.invalid(`invalid memory value: ${memory}`);
  if (swap < memory) throw errors.invalid('memory+swap limit should be >= memory limit');
  return swap - memory;
}

/** runc's fs2 numToStr: 0 is "leave alone", -1 is "max". */
export function numToStr(value: number | undefined): string {
  if (value === undefined || value === 0) return '';
  if (value === -1) return 'max';
  return String(value);
}
