// The dock command tree, laid out as the docker CLI's: management commands (container, image,
// network, system, volume) and the top-level shortcuts that docker keeps (run, ps, pull, ...).
// Each shortcut is a second instance of the same spec, as docker registers its commands twice.
import type { DockCli } from '../cli';
import type { CommandSpec } from '../command';
import { globalFlags, helpCommand } from '../execute';
import { configDir } from '../config-file';
import { containerPruneCommand, killCommand, pauseCommand, renameCommand, restartCommand, rmCommand, startCommand, stopCommand, unpauseCommand, updateCommand, waitCommand } from './container-life';
import { commitCommand, containerInspectCommand, diffCommand, exportCommand, logsCommand, portCommand, psCommand, topCommand } from './container-info';
import { attachCommand, execCommand } from './container-exec';
import { buildCommand } from './build';
import { cpCommand } from './cp';
import { historyCommand, imageInspectCommand, imagePruneCommand, imagesCommand, importCommand, loadCommand, pullCommand, pushCommand, rmiCommand, saveCommand, tagCommand } from './image';
import { inspectCommand } from './inspect';
import { loginCommand, logoutCommand } from './registry';
import { createCommand, runCommand } from './run';
import { statsCommand } from './stats';
import { dfCommand, eventsCommand, infoCommand, systemPruneCommand, versionCommand } from './system';
import { networkCommands, volumeCommands } from './volume-network';

type Spec = CommandSpec<DockCli>;

function containerCommand(): Spec {
  return {
    use: 'container',
    short: 'Manage containers',
    commands: [
      attachCommand(),
      commitCommand(),
      cpCommand(),
      createCommand(),
      diffCommand(),
      execCommand(),
      exportCommand(),
      containerInspectCommand(),
      killCommand(),
      logsCommand(),
      psCommand('ls'),
      pauseCommand(),
      portCommand(),
      containerPruneCommand(),
      renameCommand(),
      restartCommand(),
      rmCommand(),
      runCommand(),
      startCommand(),
      statsCommand(),
      stopCommand(),
      topCommand(),
      unpauseCommand(),
      updateCommand(),
      waitCommand(),
    ],
  };
}

function imageCommand(): Spec {
  return {
    use: 'image',
    short: 'Manage images',
    commands: [buildCommand(), historyCommand(), importCommand(), imageInspectCommand(), loadCommand(), imagesCommand('ls'), imagePruneCommand(), pullCommand(), pushCommand(), rmiCommand('rm'), saveCommand(), tagCommand()],
  };
}

function systemCommand(): Spec {
  return { use: 'system', short: 'Manage Docker', commands: [dfCommand(), eventsCommand(), infoCommand(), systemPruneCommand()] };
}

/** The root command with every dock client command (the daemon, build and compose are added by main). */
export function rootCommand(bin = 'dock'): Spec {
  return {
    use: `${bin} [OPTIONS] COMMAND [ARG...]`,
    short: 'A self-sufficient runtime for containers',
    flags: (f) => globalFlags(f, configDir()),
    commands: [
      runCommand(),
      execCommand(),
      psCommand('ps'),
      buildCommand(),
      pullCommand(),
      pushCommand(),
      imagesCommand('images'),
      loginCommand(),
      logoutCommand(),
      versionCommand(),
      infoCommand(),
      containerCommand(),
      imageCommand(),
      { use: 'network', short: 'Manage networks', commands: networkCommands() },
      systemCommand(),
      { use: 'volume', short: 'Manage volumes', commands: volumeCommands() },
      attachCommand(),
      commitCommand(),
      cpCommand(),
      createCommand(),
      diffCommand(),
      exportCommand(),
      killCommand(),
      logsCommand(),
      pauseCommand(),
      portCommand(),
      renameCommand(),
      restartCommand(),
      rmCommand(),
      startCommand(),
      statsCommand(),
      stopCommand(),
      topCommand(),
      unpauseCommand(),
      updateCommand(),
      waitCommand(),
      historyCommand(),
      importCommand(),
      loadCommand(),
      rmiCommand('rmi'),
      saveCommand(),
      tagCommand(),
      eventsCommand(),
      inspectCommand(),
      helpCommand(),
    ],
  };
}

/**
 * Adds a command to a root spec: at the top level, under a management command (`under: 'image'`),
 * or both (`shortcut: true` with `under`), as docker registers `build` and `image build`.
 */
export function addCommand(root: Spec, make: () => Spec, o: { under?: string; shortcut?: boolean } = {}): void {
  root.commands ??= [];
  if (o.under) {
    const parent = root.commands.find((c) => c.use.split(' ')[0] === o.under);
    if (!parent) throw new Error(`no management command ${o.under}`);
    (parent.commands ??= []).push(make());
    if (o.shortcut) root.commands.push(make());
  } else root.commands.push(make());
}

/**
 * A command that brings its own commander parser (dock daemon, dock compose) in a part loaded when
 * it runs: dock's tree hands it every argument after its name. -H/DOCKER_HOST reach it through
 * DOCKER_HOST; with needsEngine the engine is made to answer first (auto-start).
 */
export function commanderCommand(name: string, short: string, load: () => { run(args: string[]): Promise<number> }, o: { needsEngine?: boolean; longRunning?: boolean } = {}): () => Spec {
  return () => ({
    use: name,
    short,
    passthrough: true,
    ...(o.longRunning ? { longRunning: true } : {}),
    run: async ({ cli, args }) => {
      if (cli.opts.hosts[0]) process.env.DOCKER_HOST = cli.opts.hosts[0];
      // Help and the bare command need no engine (and must never start one).
      if (o.needsEngine && args.length > 0 && !args.some((a) => a === '--help' || a === '-h' || a === 'help')) await cli.client();
      return load().run(args);
    },
  });
}
