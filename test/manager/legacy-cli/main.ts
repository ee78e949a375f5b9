// The former daemonless dock image CLI (pull, push, images, tag, rmi, inspect, history, login, save),
// kept as a test driver of src/manager/images until these scenarios run through the engine (issue 12).
import { Command, CommanderError } from 'commander';
import { DEFAULT_ROOT } from '../../../src/manager/wiring';
import { Cli, collect } from './context';
import { register as registerHistory } from './history';
import { register as registerImages } from './images';
import { register as registerInspect } from './inspect';
import { register as registerLogin } from './login';
import { register as registerPull } from './pull';
import { register as registerPush } from './push';
import { register as registerRmi } from './rmi';
import { register as registerSave } from './save';
import { register as registerTag } from './tag';

declare const KEEL_VERSION: string;
const version = typeof KEEL_VERSION === 'string' ? KEEL_VERSION : 'dev';

export function buildProgram(): Command {
  const program = new Command('dock');
  const cli = new Cli(program);
  program
    .description("A Docker-like container manager built on the keel runtime")
    .usage('[OPTIONS] COMMAND')
    .option('--root <dir>', 'root of dock state (images, snapshots)', DEFAULT_ROOT)
    .option('--insecure-registry <host>', 'registry host spoken to over plain http (repeatable)', collect, [])
    .option('--config <dir>', 'location of client config files (config.json with credentials)')
    .version(`dock version ${version}`, '-v, --version')
    .enablePositionalOptions()
    .exitOverride();
  for (const reg of [registerPull, registerPush, registerImages, registerTag, registerRmi, registerInspect, registerHistory, registerLogin, registerSave]) reg(program, cli);
  for (const c of program.commands) c.exitOverride();
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 125;
      return;
    }
    throw e;
  }
}

void main(process.argv.slice(2));
