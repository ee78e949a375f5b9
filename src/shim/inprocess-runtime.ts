// InProcessRuntime: drives src/runtime from inside the shim, so create, start, kill and delete
// cost no new process. Placeholder until bin/keel create/start works end to end.
import { errors } from '../errors/index';
import type { InProcessFactory } from './shim';

export const inProcessFactory: InProcessFactory = () => {
  throw errors.notImplemented('in-process runtime: not available yet; set BinaryName or KEEL_SHIM_BINARY');
};
