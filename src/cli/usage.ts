/**
 * What every `invscope` subcommand says about itself: its usage text with defaults (for the
 * commands whose parser does not print one: decode, connect, demo), the version, and the
 * `--help`/`--version` and unknown-option handling shared by all of them.
 * Main thread, cold path.
 */
import { readFileSync } from 'node:fs';

/** The package's version, read from the package.json beside dist/ (it ships in every install). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const DECODE_USAGE = `usage: invscope decode [HEX | FILE | -] [options]

Decodes Bitcoin P2P messages into one JSON object per message (the representations are in the
README's "Output" section). Input: a hex argument (a leading 0x is allowed), a file (raw bytes or
hex text), or - / standard input. Bad frames are printed as {"error": CODE, ...} and decoding
goes on at the next magic.

options:
  --network NAME            the frames' network: mainnet, testnet3, testnet4, signet, regtest
                            (default: mainnet); a frame with another known network's magic is
                            reported with a hint naming that network
  --signet-challenge HEX    custom signet: the magic is derived from the challenge (BIP325)
  --command NAME            the input is one bare payload of this command (no v1 frame), e.g.
                            tx or block as RPC getrawtransaction / getblock HASH 0 return them
  --summary                 print a final JSON line with counts to stderr
  -h, --help                this text
  -V, --version             print the version

exit status: 0 every frame good, 1 some frame or the payload bad, 2 bad usage or unreadable input
`;

export const CONNECT_USAGE = `usage: invscope connect HOST[:PORT] [options]
       invscope connect --listen HOST[:PORT] [options]

Talks to one node: the handshake, then every message in both directions as one JSON line
("dir": "in" or "out", "t": epoch ms), and what you type on standard input is sent (type help
once connected for the commands). The network defaults to the one whose default port is PORT,
else mainnet; without a PORT, the network's default port.

options:
  --network NAME            mainnet, testnet3, testnet4, signet, regtest (default: by PORT)
  --signet-challenge HEX    custom signet: the magic is derived from the challenge (BIP325)
  --transport v1|v2|auto    BIP324 v2, v1, or v2 then v1 if the peer drops the v2 key
                            (default: auto)
  --announce inv|headers|cmpct   how we ask blocks to be announced (default: inv)
  --user-agent UA           our user agent (default: /invscope:VERSION/)
  --connect-timeout MS      give up connecting after MS (default: 5000)
  --handshake-timeout S     close if the handshake has not finished S seconds after connecting
                            (default: 60)
  --listen HOST[:PORT]      wait for one inbound peer instead of dialling
  -h, --help                this text
  -V, --version             print the version

exit status: 0 closed by you (quit, end of input, Ctrl-C), 1 closed by the peer or failed, 2 bad usage
`;

export const DEMO_USAGE = `usage: invscope demo [options]

A whole experiment on the built-in simulated network (what npm start runs), from two vantage
points: invscope simulate and two invscope observe (--vantage demo-a and demo-b) as child
processes writing into one fresh DIR (the observers into DIR/demo-a and DIR/demo-b), the report
over both with the estimated clock offset between them, and the check of each stored measurement
against the simulator's ground truth.

options:
  --nodes N             simulated nodes, up to 5000 (default: 1000)
  --seconds S           observation time in seconds (default: 45)
  --time-scale X        the model runs X times faster than real time (default: 4)
  --block-interval S    mean model seconds between blocks (default: 20)
  --shards N            shard threads of each observer, up to 64 (default: 1)
  --seed N              the simulation's seed (default: 1)
  --misbehaving F       fraction of misbehaving nodes in [0, 1) (default: 0.03)
  --out DIR             the run directory (default: ./invscope-demo-<time>)
  --json                print the check's result as JSON
  -h, --help            this text
  -V, --version         print the version

exit status: 0 at each vantage every announcement in the truth measured and every misbehaving
node counted, and a clock offset estimated; 1 otherwise, 2 bad usage
`;

/**
 * `help` or `version` when the arguments ask for it (before any `--`, which ends the options),
 * else null. Checked before a command parses its options, so `--help` wins over a bad option.
 */
export function selfDescription(args: readonly string[]): 'help' | 'version' | null {
  for (const a of args) {
    if (a === '--') return null;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--version' || a === '-V') return 'version';
  }
  return null;
}

/**
 * The one line for an option or argument that node:util's parseArgs refused, naming it and
 * pointing at the command's help; null for any other error.
 */
export function parseArgsMessage(cmd: string | undefined, err: { code?: string; message?: string }): string | null {
  if (!err.code?.startsWith('ERR_PARSE_ARGS')) return null;
  const where = cmd ? `invscope ${cmd}` : 'invscope';
  const help = `see ${where} --help`;
  const unknown = /Unknown option '([^']+)'/.exec(err.message ?? '');
  if (unknown) return `${where}: unknown option ${unknown[1]} (${help})`;
  const positional = /Unexpected argument '([^']+)'/.exec(err.message ?? '');
  if (positional) return `${where}: unexpected argument ${JSON.stringify(positional[1])} (${help})`;
  const missing = /Option '([^']+)' argument missing/.exec(err.message ?? '');
  if (missing) return `${where}: option ${missing[1]!.replace(/^-\w, /, '').replace(/ <value>$/, '')} needs a value (${help})`;
  return `${where}: ${(err.message ?? '').split('\n')[0]} (${help})`;
}
