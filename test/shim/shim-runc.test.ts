// The shim contract suite with CliRuntime driving runc (the cross-check).
import { runShimSuite } from './suite';
import { which } from '../helpers/keel';

runShimSuite({ name: 'cli-runc', env: { KEEL_SHIM_BINARY: 'runc' }, skip: () => (which('runc') ? undefined : 'runc not installed') });
