// dock compose and docker-compose 1.29.2 against each engine (dock and the reference dockerd;
// DOCK_TEST_ENGINES narrows it), in a test netns.
import * as fs from 'node:fs';
import { composeScenarios, type Todo } from './compose/scenarios';
import { ENGINE_KINDS, engineSkipReason, startEngine } from './lib/engines';

const v1 = fs.existsSync('/usr/bin/docker-compose') ? undefined : 'docker-compose missing (apt-get install docker-compose)';
// What dock's engine lacks for some scenarios (none today); such scenarios run as TODO there until it lands.
const dockTodo: Todo = () => undefined;
for (const kind of ENGINE_KINDS) composeScenarios(kind, (netns) => startEngine(kind, { netns }), engineSkipReason(kind) ?? v1, kind === 'dock' ? dockTodo : undefined);
