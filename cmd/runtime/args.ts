// Argument-count checks with runc's wording ("\"create\" requires exactly 1 argument(s)").
import { RuntimeError } from '../../src/errors/index';

export function exactArgs(verb: string, args: readonly unknown[], n: number): void {
  if (args.length !== n) throw new RuntimeError('InvalidArgument', `keel: "${verb}" requires exactly ${n} argument(s)`);
}

export function minArgs(verb: string, args: readonly unknown[], n: number): void {
  if (args.length < n) throw new RuntimeError('InvalidArgument', `keel: "${verb}" requires a minimum of ${n} argument(s)`);
}

export function maxArgs(verb: string, args: readonly unknown[], n: number): void {
  if (args.length > n) throw new RuntimeError('InvalidArgument', `keel: "${verb}" requires a maximum of ${n} argument(s)`);
}
