#!/usr/bin/env node
/**
 * The `invscope` command: dispatches to its subcommands. Every bad option or argument is a
 * one-line error naming the value, exit status 2, before anything starts.
 * Main thread, cold path.
 */
import { parseArgs } from 'node:util';
import { decodeStream, decodeBarePayload, readInput, jsonLine, UsageError } from './decode.js';
import { isKnownCommand } from '../protocol/commands.js';
import type { CommandName } from '../protocol/constants.js';
import { parseNetwork } from './options.js';
import { connectCommand, CONNECT_HELP } from './connect.js';
import { simulateCommand } from './simulate.js';
import { demoCommand } from './demo.js';
import { observeCommand } from './observe.js';
import { CONNECT_USAGE, DECODE_USAGE, DEMO_USAGE, parseArgsMessage, selfDescription, version } from './usage.js';

const HELP = `invscope: a Bitcoin P2P stack for measuring the network

usage:
  invscope decode [HEX | FILE | -] [--network NAME] [--command NAME] [--summary]
      Decode v1 frames (hex argument, file, or stdin; raw bytes or hex text), or with --command
      one bare payload (a tx or block as RPC returns it), into one JSON object per message. Bad frames are printed as {"error": CODE, ...} and decoding goes on.
      Exit status: 0 all frames good, 1 some frames bad, 2 bad usage.
  invscope connect HOST:PORT [--network NAME] [--user-agent UA] [--announce inv|headers|cmpct] [--transport v1|v2|auto]
  invscope connect --listen HOST:PORT [--network NAME] [--transport v1|v2|auto]
      Talk to one node: prints the handshake and every message in both directions as one JSON
      line ("dir": "in" or "out", "t": epoch ms), and sends what you type on stdin.
      The network defaults to the one whose default port is PORT, else mainnet.
      --transport: BIP324 v2, v1, or auto (default: v2, then v1 if the peer drops the v2 key).
  invscope simulate [--nodes N] [--seed N] [--time-scale X] [--out DIR] [--duration S] ...
      Run a simulated network on loopback (every node at its own 127.x.y.z, one port) with the
      ground truth of every propagation; invscope simulate --help lists every option.
  invscope observe [--peer HOST:PORT ...] [--peers FILE] [--dns] [--crawl] [--out DIR] [--duration T] ...
      Observe many peers at once and store every announcement, peer session and item as Parquet
      parts in DIR (plus run.json and log/); invscope observe --help lists every option.
  invscope demo [--nodes 1000] [--seconds 45] [--time-scale 4] [--block-interval 20] [--shards 1]
                [--seed 1] [--misbehaving 0.03] [--out DIR] [--json]
      A whole experiment on the built-in simulated network (what npm start runs) from two
      vantages: invscope simulate and two invscope observe (demo-a, demo-b) as child processes
      writing into one fresh DIR (./invscope-demo-<time> by default), the report over both with
      their estimated clock offset, and the check of each stored measurement against the ground
      truth. Exit status 0 when at each vantage every announcement in the truth was measured and
      every misbehaving node counted, 1 otherwise.
  invscope report DIR... [--out DIR] [--json] [--no-html] [--skip-corrupt]
      Summary table and report.html (self-contained, with SVG files) of one or more observe runs,
      one DIR per vantage point; with a simulator ground truth, the accuracy too.
      Exit status: 0 written, 1 unreadable or empty input, 2 bad usage; invscope report --help.
  invscope help | --help | -h        this text; invscope COMMAND --help for each command's
  invscope --version | -V           the version (also invscope COMMAND --version)

options:
  --network NAME   mainnet (default), testnet3, testnet4, signet, regtest
  --signet-challenge HEX   custom signet: the magic is derived from the challenge (BIP325)
  --summary        print a final JSON line with counts to stderr
`;

/** Each command's own usage, for the ones whose option parser does not print it. */
const USAGE: Record<string, string> = { decode: DECODE_USAGE, connect: CONNECT_USAGE, demo: DEMO_USAGE };

/** The subcommand being run, so that an option error can name it. */
let current: string | undefined;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V') return printVersion();
  current = cmd;
  const asked = cmd === undefined ? null : selfDescription(rest);
  if (asked === 'version') return printVersion();
  if (asked === 'help' && cmd !== undefined && USAGE[cmd] !== undefined) {
    process.stdout.write(USAGE[cmd]!);
    return 0;
  }
  // simulate, observe and report print their own usage (with their defaults) for --help.
  const args = asked === 'help' ? ['--help'] : rest;
  switch (cmd) {
    case 'decode':
      return decodeCommand(args);
    case 'connect':
      return connectCmd(args);
    case 'simulate':
      return simulateCommand(args);
    case 'demo':
      return demoCmd(args);
    case 'observe':
      return observeCommand(args);
    case 'report':
      // Loaded on demand: Vega and Vega-Lite cost every other command ~0.3 s of start-up.
      return (await import('./report.js')).reportCli(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      current = undefined;
      throw new UsageError(`unknown command ${JSON.stringify(cmd)} (try: invscope --help)`);
  }
}

function printVersion(): number {
  process.stdout.write(`invscope ${version()}\n`);
  return 0;
}

function positiveNumber(name: string, value: string, integer = false, max = Infinity): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}${max < Infinity ? ` up to ${max}` : ''}, not ${JSON.stringify(value)}`);
  }
  return n;
}

async function demoCmd(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      nodes: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '45' },
      'time-scale': { type: 'string', default: '4' },
      'block-interval': { type: 'string', default: '20' },
      shards: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      misbehaving: { type: 'string', default: '0.03' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const misbehaving = Number(values.misbehaving);
  if (!(misbehaving >= 0 && misbehaving < 1)) throw new UsageError(`--misbehaving must be a fraction in [0, 1), not ${JSON.stringify(values.misbehaving)}`);
  return demoCommand({
    nodes: positiveNumber('nodes', values.nodes!, true, 5000),
    seconds: positiveNumber('seconds', values.seconds!),
    timeScale: positiveNumber('time-scale', values['time-scale']!),
    blockInterval: positiveNumber('block-interval', values['block-interval']!),
    shards: positiveNumber('shards', values.shards!, true, 64),
    seed: positiveNumber('seed', values.seed!, true),
    misbehaving,
    out: values.out ?? null,
    json: values.json!,
  });
}

async function connectCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      network: { type: 'string' },
      'signet-challenge': { type: 'string' },
      listen: { type: 'string' },
      'user-agent': { type: 'string' },
      'connect-timeout': { type: 'string', default: '5000' },
      'handshake-timeout': { type: 'string', default: '60' },
      announce: { type: 'string', default: 'inv' },
      transport: { type: 'string', default: 'auto' },
    },
  });
  const transport = values.transport!;
  if (transport !== 'v1' && transport !== 'v2' && transport !== 'auto') throw new UsageError(`--transport takes v1, v2 or auto, not ${JSON.stringify(transport)}`);
  if (values.listen === undefined && positionals.length !== 1) throw new UsageError('connect takes one HOST:PORT (or --listen HOST:PORT)');
  if (values.listen !== undefined && positionals.length !== 0) throw new UsageError('connect --listen takes no HOST:PORT argument');
  const network = values.network === undefined ? undefined : parseNetwork(values.network, values['signet-challenge']);
  const connectTimeoutMs = Number(values['connect-timeout']);
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) throw new UsageError(`--connect-timeout must be a positive number of ms, not ${JSON.stringify(values['connect-timeout'])}`);
  const handshakeTimeoutMs = positiveNumber('handshake-timeout', values['handshake-timeout']!) * 1000;
  const announce = values.announce!;
  if (announce !== 'inv' && announce !== 'headers' && announce !== 'cmpct') throw new UsageError(`--announce takes inv, headers or cmpct, not ${JSON.stringify(announce)}`);
  if (process.stdin.isTTY) process.stderr.write(CONNECT_HELP);
  return connectCommand({
    target: positionals[0],
    listen: values.listen,
    network,
    userAgent: values['user-agent'],
    connectTimeoutMs,
    handshakeTimeoutMs,
    blockAnnounce: announce,
    transport,
  });
}

function decodeCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      network: { type: 'string', default: 'mainnet' },
      'signet-challenge': { type: 'string' },
      command: { type: 'string' },
      summary: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 1) throw new UsageError(`decode takes one input, got ${positionals.length}`);
  if (positionals.length === 0 && process.stdin.isTTY) {
    // Nothing to read but a person at a terminal: say what the command wants instead of waiting.
    process.stderr.write(DECODE_USAGE);
    return 2;
  }
  const net = parseNetwork(values.network!, values['signet-challenge']);
  const command = values.command === undefined ? undefined : parseCommandName(values.command);
  const bytes = readInput(positionals[0]);
  const lines: string[] = [];
  const flush = (): void => {
    if (lines.length) process.stdout.write(lines.join('\n') + '\n');
    lines.length = 0;
  };
  const print = (o: Record<string, unknown>): void => {
    lines.push(jsonLine(o));
    if (lines.length >= 1024) flush();
  };
  const summary = command === undefined ? decodeStream(bytes, net.magic, print) : decodeBarePayload(command, bytes, print);
  flush();
  const hint = summary.hints[0];
  if (hint !== undefined) process.stderr.write(`invscope decode: ${hint}\n`);
  if (values.summary) process.stderr.write(jsonLine({ summary: { bytes: bytes.length, ...summary, hints: undefined } }) + '\n');
  return summary.errors > 0 ? 1 : 0;
}

function parseCommandName(name: string): CommandName {
  if (!isKnownCommand(name)) throw new UsageError(`--command takes a message command (tx, block, headers, inv, version, ...), not ${JSON.stringify(name)}`);
  return name;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const argsLine = parseArgsMessage(current, err as { code?: string; message?: string });
    if (argsLine !== null) {
      process.stderr.write(argsLine + '\n');
      process.exitCode = 2;
    } else if (err instanceof UsageError) {
      process.stderr.write(`invscope${current ? ' ' + current : ''}: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`invscope: internal error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
