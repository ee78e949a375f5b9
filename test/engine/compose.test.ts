// dock compose and docker-compose 1.29.2 against the reference dockerd, and against dock's engine
// once test/engine/lib/dock.ts provides startDock().
import * as fs from 'node:fs';
import * as path from 'node:path';
import { composeScenarios } from './compose/scenarios';
import { dockerdSkipReason, startDockerd } from './lib/dockerd';

const v1 = fs.existsSync('/usr/bin/docker-compose') ? undefined : 'docker-compose missing (apt-get install docker-compose)';
composeScenarios('dockerd', (netns) => startDockerd({ netns }), dockerdSkipReason() ?? v1);

const dockLib = path.join(__dirname, 'lib', 'dock.ts');
if (fs.existsSync(dockLib)) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require(dockLib) as { startDock(o: { netns: unknown }): Promise<import('./lib/engine').Engine>; dockSkipReason?: () => string | undefined };
  composeScenarios('dock', (netns) => lib.startDock({ netns }), lib.dockSkipReason?.() ?? v1);
}
