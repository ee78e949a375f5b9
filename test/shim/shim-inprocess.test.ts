// The shim contract suite with the default InProcessRuntime (src/runtime in the shim process).
import { runShimSuite } from './suite';

runShimSuite({ name: 'in-process', env: {} });
