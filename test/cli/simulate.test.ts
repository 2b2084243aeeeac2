import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { SIMULATE_HELP, parseSimulateArgs } from '../../src/cli/simulate.js';
import { startSimulation } from '../../src/sim/index.js';
import { connectPeer } from '../../src/peer/index.js';
import { NETWORKS, InvType } from '../../src/protocol/constants.js';
import { bytesEqual } from '../../src/protocol/hash.js';
import { ROOT, until } from '../helpers.js';

const BIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** A CLI process through pipes: stdout lines parsed as JSON when they are, stderr kept. */
class Run {
  readonly lines: any[] = [];
  out = '';
  err = '';
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: 'pipe' });
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      this.out += l + '\n';
      try {
        this.lines.push(JSON.parse(l));
      } catch {
        /* help text */
      }
    });
    this.child.stderr.on('data', (d) => (this.err += d));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
    // A guard against a hang, not a timing assertion: 13 of these start at once, and at a load of
    // 30 on two cores (several helpers' test runs) each start-up alone took 4 s of wall time.
    setTimeout(() => this.child.kill('SIGKILL'), 120_000).unref();
  }
  has(pred: (l: any) => boolean): boolean {
    return this.lines.some(pred);
  }
}

/** A free high port (bound on every address, as the simulator binds it). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '0.0.0.0', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('--help lists every option with its default', async () => {
  const r = new Run(['simulate', '--help']);
  assert.is(await r.exited, 0);
  for (const opt of ['--nodes', '--seed', '--time-scale', '--tx-rate', '--block-interval', '--misbehaving', '--churn', '--network', '--port', '--address-base', '--out', '--duration', '--status-interval', '--quiet']) {
    const line = r.out.split('\n').find((l) => l.trimStart().startsWith(opt + ' '));
    assert.ok(line, `${opt} is documented`);
    if (opt !== '--quiet') assert.match(r.out.slice(r.out.indexOf(line!)), /\[[^\]]+\]/, `${opt} has a default`);
  }
  assert.match(r.out, /--nodes N .*\[1000\]/);
  assert.match(r.out, /--network NAME .*\[regtest\]/);
  assert.is(r.out, SIMULATE_HELP);
  const main = new Run(['help']);
  await main.exited;
  assert.match(main.out, /invscope simulate/);
});

test('bad options exit 2 with an error naming the value, before anything starts', async () => {
  const cases: [string[], RegExp][] = [
    [['--nodes', '10001'], /--nodes .*"10001"/],
    [['--nodes', 'many'], /"many"/],
    [['--time-scale', '0'], /--time-scale .*"0"/],
    [['--misbehaving', '1.5'], /--misbehaving .*"1.5"/],
    [['--churn=-1'], /--churn .*"-1"/],
    [['--network', 'moon'], /"moon"/],
    [['--port', '70000'], /--port .*"70000"/],
    [['--address-base', '10.1.0.0'], /"10.1.0.0"/],
    [['--address-base', '127.255.255.200', '--nodes', '100'], /leaves 127.0.0.0\/8/],
    [['--duration', 'soon'], /--duration .*"soon"/],
    [['--tx-rate', 'x'], /"x"/],
    [['--frobnicate'], /frobnicate/],
    [['extra'], /"extra"/],
  ];
  const runs = cases.map(([args]) => new Run(['simulate', ...args]));
  for (const [i, r] of runs.entries()) {
    assert.is(await r.exited, 2, cases[i]![0].join(' '));
    assert.match(r.err, cases[i]![1]);
    assert.is(r.lines.length, 0, 'nothing started');
  }
  assert.equal(parseSimulateArgs([]).sim.port, NETWORKS.regtest.defaultPort);
  assert.is(parseSimulateArgs(['--block-interval', '30']).sim.blockIntervalMs, 30_000);
  // The misbehaviour modes: 'all', a list, or an error naming the bad one.
  assert.is(parseSimulateArgs(['--misbehaviours', 'all']).sim.misbehaviours?.length, 16);
  assert.equal(parseSimulateArgs(['--misbehaviours', 'inv-storm,never-reads']).sim.misbehaviours, ['inv-storm', 'never-reads']);
  assert.throws(() => parseSimulateArgs(['--misbehaviours', 'ping-flood,rude']), /--misbehaviours .*"rude"/);
});

test('a run with --nodes 50 --duration 3 --out DIR writes truth.jsonl, nodes.txt and nodes.json and exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'invscope-sim-cli-'));
  try {
    const port = await freePort();
    const r = new Run(['simulate', '--nodes', '50', '--duration', '3', '--out', dir, '--port', String(port), '--time-scale', '20', '--status-interval', '1']);
    assert.is(await r.exited, 0, r.err);
    const listening = r.lines.find((l) => l.event === 'listening');
    assert.is(listening.nodes, 50);
    assert.is(listening.port, port);
    assert.ok(r.lines.filter((l) => l.event === 'status').length >= 2);
    const stopped = r.lines.find((l) => l.event === 'stopped');
    assert.is(stopped.why, 'duration');
    assert.ok(stopped.items > 0);
    const nodes = readFileSync(join(dir, 'nodes.txt'), 'utf8').trim().split('\n');
    assert.is(nodes.length, 50);
    assert.is(nodes[0], `127.1.0.1:${port}`);
    const json = JSON.parse(readFileSync(join(dir, 'nodes.json'), 'utf8'));
    assert.is(json.length, 50);
    assert.is(typeof json[0].services, 'string');
    const truth = readFileSync(join(dir, 'truth.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.is(truth[0].e, 'meta');
    assert.is(truth.filter((x) => x.e === 'node').length, 50);
    assert.ok(truth.some((x) => x.e === 'item') && truth.some((x) => x.e === 'learn'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM stops a run cleanly and --quiet prints no status lines', async () => {
  const port = await freePort();
  const r = new Run(['simulate', '--nodes', '20', '--port', String(port), '--quiet', '--status-interval', '0.2']);
  await until(() => r.has((l) => l.event === 'listening'), 'listening', 10_000);
  await new Promise((res) => setTimeout(res, 600));
  r.child.kill('SIGTERM');
  assert.is(await r.exited, 0);
  assert.not.ok(r.has((l) => l.event === 'status'));
  assert.is(r.lines.find((l) => l.event === 'stopped').why, 'terminated');
});

test('invscope connect pointed at a node of invscope simulate completes the handshake', async () => {
  const port = await freePort();
  const sim = new Run(['simulate', '--nodes', '30', '--port', String(port), '--quiet', '--seed', '3']);
  try {
    await until(() => sim.has((l) => l.event === 'listening'), 'listening', 10_000);
    const c = new Run(['connect', `127.1.0.7:${port}`, '--network', 'regtest']);
    await until(() => c.has((l) => l.event === 'ready'), 'ready', 10_000);
    const ready = c.lines.find((l) => l.event === 'ready');
    assert.match(ready.remote.userAgent, /^\//);
    await until(() => c.has((l) => l.dir === 'in' && l.command === 'feefilter'), 'feefilter', 10_000);
    const inCmds = c.lines.filter((l) => l.dir === 'in').map((l) => l.command);
    assert.equal(inCmds.slice(0, 4), ['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
    assert.ok(inCmds.includes('sendcmpct'));
    c.child.stdin.write('getaddr\n');
    await until(() => c.has((l) => l.dir === 'in' && l.command === 'addrv2'), 'addrv2', 10_000);
    c.child.stdin.end();
    assert.is(await c.exited, 0);
  } finally {
    sim.child.kill('SIGTERM');
    assert.is(await sim.exited, 0);
  }
});

test('startSimulation: an injected tx reaches an observer as inv MSG_WTX, recorded in the truth after the node learned it', async () => {
  const sim = await startSimulation({
    nodes: 30,
    seed: 5,
    port: 0,
    txRate: 0,
    blockIntervalMs: 0,
    timeScale: 10,
    truthInMemory: true,
    server: { trickleMeanMs: 100 },
  });
  try {
    assert.ok(sim.port > 1024);
    const node = sim.nodes[4]!;
    const invs: { type: number; hash: Uint8Array }[] = [];
    const peer = await connectPeer({ host: node.host, port: sim.port, network: sim.network, localNonces: new Set(), setup: (p) => p.on('inv', (m) => invs.push(...m.inventory)) });
    await peer.ready;
    await until(() => sim.stats.ready === 1, 'server side ready');
    const item = sim.model.inject('tx', 0);
    await until(() => invs.some((e) => bytesEqual(e.hash, item.wtxid)), 'the tx inv', 10_000);
    assert.is(invs.find((e) => bytesEqual(e.hash, item.wtxid))!.type, InvType.MSG_WTX);
    const a = sim.truth!.records.announces.find((x) => x.item === item.id)!;
    assert.is(a.node, 4);
    assert.ok(a.t >= sim.model.learnedAt(4, item.id));
    assert.is(sim.truth!.records.announces.filter((x) => x.item === item.id).length, 1);
    peer.close();
  } finally {
    await sim.stop();
  }
});

test.run();
