// InProcessRuntime: drives src/runtime from inside the shim, so create, start, exec, kill and
// delete cost no new runtime process. The init is cloned by this process (so it is our child and
// the shim's reaper collects it); exec's pid-namespace helper is reaped by launch synchronously
// and its grandchild is reparented to us as subreaper. Shares the state root layout with bin/keel.
// OCI hooks run through spawnSync, which reaps its own child inside the call: the reaper's P_ALL
// sweep is JS on this thread, so it cannot run (and steal that status) until spawnSync returned.
import * as fs from 'node:fs';
import { RuntimeError } from '../errors/index';
import type { Logger } from '../log/index';
import { realSys } from '../native/index';
import { cgroupManagerOf, joinCgroupsSync } from '../runtime/cgroups';
import type { CgroupManager } from '../cgroups/index';
import { ContainerRuntime, writePidFile } from '../runtime/container';
import { createContainer } from '../runtime/create';
import { launchJoin } from '../runtime/launch';
import { checkTransition } from '../runtime/status';
import type { Process } from '../../spec/types/runtime';
import type { CreateRequest, ExecRequest, Runtime } from './runtime';
import type { InProcessFactory } from './shim';

export class InProcessRuntime implements Runtime {
  readonly name = 'in-process';
  private readonly rt: ContainerRuntime;

  constructor(root: string, private readonly log: Logger, systemdCgroup = false) {
    this.rt = new ContainerRuntime({ root, sys: realSys, log, systemdCgroup, rootless: false });
  }

  /** -1 means /dev/null for the shim but "inherit" for launch, and the shim's own stderr is its log. */
  private nullFds(fds: [number, number, number]): { fds: [number, number, number]; close: () => void } {
    const opened: number[] = [];
    const out = fds.map((fd, i) => {
      if (fd >= 0) return fd;
      const n = fs.openSync('/dev/null', i === 0 ? 'r' : 'w');
      opened.push(n);
      return n;
    }) as [number, number, number];
    return { fds: out, close: () => opened.forEach((fd) => fs.closeSync(fd)) };
  }

  /**
   * Creates run one at a time. Their awaits (cgroup setup) would otherwise interleave in this one
   * process, and src/cgroups' v1 cpuset set-up of a shared new parent is not safe against that:
   * five parallel `ctr run` in a fresh namespace failed to join with ENOSPC (empty cpuset).
   */
  private createChain: Promise<unknown> = Promise.resolve();

  create(req: CreateRequest): Promise<number> {
    const next = this.createChain.then(() => this.createOne(req));
    this.createChain = next.catch(() => undefined);
    return next;
  }

  private async createOne(req: CreateRequest): Promise<number> {
    const run = async (stdio: [number, number, number] | undefined) =>
      (
        await createContainer(this.rt, req.id, {
          bundle: req.bundle,
          pidFile: req.pidFile,
          consoleSocket: req.io.consoleSocket,
          stdio,
          noPivot: req.noPivot,
          noNewKeyring: req.noNewKeyring,
        })
      ).pid;
    if (req.io.consoleSocket) return run(undefined);
    const { fds, close } = this.nullFds(req.io.fds);
    try {
      return await run(fds);
    } finally {
      close();
    }
  }

  async start(id: string): Promise<void> {
    this.rt.start(id);
  }

  /** From the paths create recorded: no host layout to read again. */
  cgroupOf(id: string): CgroupManager | undefined {
    return cgroupManagerOf(this.rt.store.read(id));
  }

  async exec(req: ExecRequest): Promise<number> {
    const rec = this.rt.store.read(req.id);
    checkTransition('exec', this.rt.status(rec), req.id);
    let proc: Process;
    try {
      proc = JSON.parse(req.processJson) as Process;
    } catch (e) {
      throw new RuntimeError('InvalidArgument', `exec ${req.execId}: process spec: ${(e as Error).message}`);
    }
    const run = (stdio: [number, number, number] | undefined) =>
      launchJoin({
        id: req.id,
        initPid: rec.pid,
        spec: rec.config,
        process: proc,
        bundle: rec.bundle,
        consoleSocket: req.io.consoleSocket,
        preserveFds: 0,
        log: this.log.child({ id: req.id, execId: req.execId }),
        stdio,
        onJoined: (p) => {
          if (rec.cgroupPaths) joinCgroupsSync(rec.cgroupPaths, p, rec.rootless);
        },
      });
    let pid: number;
    if (req.io.consoleSocket) pid = run(undefined).pid;
    else {
      const { fds, close } = this.nullFds(req.io.fds);
      try {
        pid = run(fds).pid;
      } finally {
        close();
      }
    }
    writePidFile(req.pidFile, pid);
    return pid;
  }

  async kill(id: string, signal: number, all: boolean): Promise<void> {
    await this.rt.kill(id, signal, all);
  }

  async delete(id: string, force: boolean): Promise<void> {
    try {
      await this.rt.delete(id, force);
    } catch (e) {
      if (e instanceof RuntimeError && e.kind === 'NotFound') return;
      throw e;
    }
  }

  async pause(id: string): Promise<void> {
    await this.rt.pause(id);
  }

  async resume(id: string): Promise<void> {
    await this.rt.resume(id);
  }

  async ps(id: string): Promise<number[]> {
    return this.rt.pids(id);
  }

  async update(id: string, resourcesJson: string): Promise<void> {
    await this.rt.update(id, JSON.parse(resourcesJson) as Record<string, unknown>);
  }
}

export const inProcessFactory: InProcessFactory = (o) => new InProcessRuntime(o.root, o.log, o.systemdCgroup);
