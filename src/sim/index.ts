/**
 * The simulated network as a library: `startSimulation` binds the one listening socket, builds the
 * model on the bound port, attaches the server, writes nodes.txt/nodes.json and the ground truth
 * when given a directory, and starts the clock. `invscope simulate` is this plus options and a
 * status line. Simulator process, main thread, cold path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NETWORKS, type NetworkParams } from '../protocol/constants.js';
import { SimModel, type SimOptions } from './model.js';
import { TruthWriter } from './truth.js';
import { SimServer, type SimServerOptions, type SimServerStats } from './server.js';
import type { SimNodeInfo } from './types.js';

export { SimServer, type SimServerOptions, type SimServerStats } from './server.js';
export * from './types.js';

export interface SimulationOptions extends Partial<SimOptions> {
  /** Magic and default port. @default NETWORKS.regtest */
  network?: NetworkParams;
  /** Directory for truth.jsonl, nodes.txt and nodes.json (created). @default none: no files */
  out?: string;
  /** Keep the truth in memory (`sim.truth.records`) when there is no `out`: for tests. @default false */
  truthInMemory?: boolean;
  /** Server tuning (trickle mean, misbehaviour delays, timer). */
  server?: Omit<SimServerOptions, 'network' | 'port'>;
}

/** One status sample: what `invscope simulate` prints every few seconds. */
export interface SimStatus {
  t: number;
  /** Items originated so far. */
  items: number;
  /** Announcements to observers so far (one per item per observer). */
  announcements: number;
  /** Observer connections now, and those past the handshake. */
  observers: number;
  ready: number;
  /** CPU of this process since the previous sample, in percent of one core. */
  cpu: number;
  rssMB: number;
}

export interface Simulation {
  readonly nodes: readonly SimNodeInfo[];
  readonly model: SimModel;
  readonly server: SimServer;
  /** The ground truth writer (null without `out` and `truthInMemory`). */
  readonly truth: TruthWriter | null;
  readonly network: NetworkParams;
  /** The port every node listens on (the bound one when 0 was asked for). */
  readonly port: number;
  readonly stats: SimServerStats;
  status(): SimStatus;
  /** Stops the model, closes every connection and the listener, flushes and closes the truth. */
  stop(): Promise<void>;
}

/** One host:port per line, what `invscope observe --targets FILE` reads. */
export function nodesText(nodes: readonly SimNodeInfo[]): string {
  return nodes.map((n) => `${n.host}:${n.port}`).join('\n') + '\n';
}

/** The identities as JSON (services as decimal strings: they are uint64). */
export function nodesJSON(nodes: readonly SimNodeInfo[]): string {
  return JSON.stringify(nodes.map((n) => ({ ...n, services: n.services.toString() })), null, 1) + '\n';
}

export async function startSimulation(options: SimulationOptions = {}): Promise<Simulation> {
  const { network = NETWORKS.regtest, out, truthInMemory = false, server: serverOptions = {}, ...modelOptions } = options;
  const server = new SimServer({ ...serverOptions, network, port: modelOptions.port ?? network.defaultPort });
  const port = await server.listen();
  let truth: TruthWriter | null = null;
  let model: SimModel;
  try {
    if (out !== undefined) {
      mkdirSync(out, { recursive: true });
      truth = new TruthWriter(join(out, 'truth.jsonl'));
    } else if (truthInMemory) {
      truth = new TruthWriter(null);
    }
    model = new SimModel({ ...modelOptions, port }, truth ?? undefined);
    server.attach(model, truth);
    if (out !== undefined) {
      writeFileSync(join(out, 'nodes.txt'), nodesText(model.nodes));
      writeFileSync(join(out, 'nodes.json'), nodesJSON(model.nodes));
    }
    model.start();
  } catch (e) {
    await server.close();
    await truth?.close();
    throw e;
  }
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  let stopped: Promise<void> | null = null;
  const sim: Simulation = {
    nodes: model.nodes,
    model,
    server,
    truth,
    network,
    port,
    stats: server.stats,
    status(): SimStatus {
      const cpu = process.cpuUsage();
      const at = performance.now();
      const used = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      const pct = at > lastAt ? (100 * used) / (at - lastAt) : 0;
      lastCpu = cpu;
      lastAt = at;
      const s = server.stats;
      return {
        t: Date.now(),
        items: model.itemCount,
        announcements: s.invTx + s.invBlock + s.headers + s.cmpctblock,
        observers: s.connected,
        ready: s.ready,
        cpu: Math.round(pct * 10) / 10,
        rssMB: Math.round(process.memoryUsage.rss() / 1048576),
      };
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        model.stop();
        await server.close();
        await truth?.close();
      })();
      return stopped;
    },
  };
  return sim;
}
