// The default seccomp profile (placeholder until the full profile lands: none is applied).
import type { Spec } from '../../../spec/types/runtime';
import { RuntimeError } from '../../errors/index';

type LinuxSeccomp = NonNullable<NonNullable<Spec['linux']>['seccomp']>;

export function defaultSeccompProfile(_o: { capabilities: string[]; arch?: string }): LinuxSeccomp | undefined {
  return undefined;
}

export function parseSeccompOption(value: string, _caps: string[]): LinuxSeccomp | undefined {
  try {
    return JSON.parse(value) as LinuxSeccomp;
  } catch {
    throw new RuntimeError('InvalidArgument', `Decoding seccomp profile failed: invalid JSON`);
  }
}
