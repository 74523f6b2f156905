import { readFileSync } from 'node:fs';
import {
  type Authenticator,
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
  nkeyAuthenticator,
} from '@nats-io/transport-node';
import { type Env, readEnvironment, envVariable as variable } from '@orchestra/contracts';

/** How to reach NATS. Every field has an environment variable (see natsConfigFromEnv). */
export interface NatsConfig {
  /** `NATS_URL`, comma-separated. Default `nats://127.0.0.1:4222`. */
  servers: string[];
  /** Connection name shown by the server's monitoring (`connz`). */
  name?: string;
  /** `NATS_USER` / `NATS_PASSWORD`. */
  user?: string;
  password?: string;
  /** `NATS_TOKEN`. */
  token?: string;
  /** `NATS_CREDS`: path of a `.creds` file (user JWT and nkey seed). */
  credsFile?: string;
  /** `NATS_NKEY_SEED`: path of a file holding an nkey seed (`SU...`). */
  nkeySeedFile?: string;
  /** `NATS_TLS_CA`, `NATS_TLS_CERT`, `NATS_TLS_KEY`: paths of PEM files. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /**
   * `NATS_INBOX_PREFIX`: the first token of this connection's reply subjects (default `_INBOX`).
   * A user of its own per service lets the server's permissions keep each one's replies, and
   * the JetStream messages pulled into them, away from the other users (deploy/nats/README.md).
   */
  inboxPrefix?: string;
  /** Wait between reconnect attempts, `NATS_RECONNECT_WAIT_MS`. Default 1000. */
  reconnectTimeWaitMs?: number;
  /** Keep retrying the first connection instead of failing when no server answers. Default false. */
  waitOnFirstConnect?: boolean;
}

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
const DEFAULT_RECONNECT_WAIT_MS = 1000;

/** The NATS_* variables every process that connects reads (README, "Configuration"). */
export const NATS_ENVIRONMENT = {
  NATS_URL: variable.textOr('NATS server URLs, comma-separated', DEFAULT_NATS_URL),
  NATS_NAME: variable.text("the connection's name in the server's monitoring"),
  NATS_USER: variable.text('user name (with NATS_PASSWORD)'),
  NATS_PASSWORD: variable.text('password of NATS_USER'),
  NATS_TOKEN: variable.text('authentication token'),
  NATS_CREDS: variable.text('path of a .creds file (user JWT and nkey seed)'),
  NATS_NKEY_SEED: variable.text('path of a file holding an nkey seed (SU...)'),
  NATS_TLS_CA: variable.text('path of the PEM file of the CA that signed the server'),
  NATS_TLS_CERT: variable.text('path of the PEM client certificate (mutual TLS)'),
  NATS_TLS_KEY: variable.text('path of the PEM key of NATS_TLS_CERT'),
  NATS_INBOX_PREFIX: variable.text("first token of this connection's reply subjects (default _INBOX)"),
  NATS_RECONNECT_WAIT_MS: variable.optionalInteger(
    'wait between reconnect attempts (ms)',
    { min: 0, max: 3_600_000, unit: 'ms' },
    String(DEFAULT_RECONNECT_WAIT_MS),
  ),
} as const;

/** Reads the NATS_* variables; unset or empty variables leave the field undefined. */
export function natsConfigFromEnv(env: Env = process.env): NatsConfig {
  const values = readEnvironment(NATS_ENVIRONMENT, env);
  const servers = values.NATS_URL.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const config: NatsConfig = { servers };
  const assign = <K extends keyof NatsConfig>(key: K, v: NatsConfig[K] | undefined) => {
    if (v !== undefined) config[key] = v;
  };
  assign('name', values.NATS_NAME);
  assign('user', values.NATS_USER);
  assign('password', values.NATS_PASSWORD);
  assign('token', values.NATS_TOKEN);
  assign('credsFile', values.NATS_CREDS);
  assign('nkeySeedFile', values.NATS_NKEY_SEED);
  assign('inboxPrefix', values.NATS_INBOX_PREFIX);
  assign('reconnectTimeWaitMs', values.NATS_RECONNECT_WAIT_MS);
  const { NATS_TLS_CA: ca, NATS_TLS_CERT: cert, NATS_TLS_KEY: key } = values;
  if (ca || cert || key) {
    config.tls = {};
    if (ca) config.tls.caFile = ca;
    if (cert) config.tls.certFile = cert;
    if (key) config.tls.keyFile = key;
  }
  return config;
}

/** nats.js connection options: reconnect forever, credentials from files read now. */
export function connectionOptions(config: NatsConfig): NodeConnectionOptions {
  const opts: NodeConnectionOptions = {
    servers: config.servers.length > 0 ? config.servers : [DEFAULT_NATS_URL],
    maxReconnectAttempts: -1,
    reconnectTimeWait: config.reconnectTimeWaitMs ?? DEFAULT_RECONNECT_WAIT_MS,
    waitOnFirstConnect: config.waitOnFirstConnect ?? false,
    // nats.js otherwise captures a stack trace (new Error) for every request and publish, in
    // case it fails: 9-14 % of the services' CPU under load (docs/performance.md).
    noAsyncTraces: true,
  };
  if (config.name) opts.name = config.name;
  if (config.user !== undefined) opts.user = config.user;
  if (config.password !== undefined) opts.pass = config.password;
  if (config.token !== undefined) opts.token = config.token;
  const authenticators: Authenticator[] = [];
  if (config.credsFile) authenticators.push(credsAuthenticator(readFileSync(config.credsFile)));
  if (config.nkeySeedFile) {
    const seed = readFileSync(config.nkeySeedFile, 'utf8').trim();
    authenticators.push(nkeyAuthenticator(new TextEncoder().encode(seed)));
  }
  if (authenticators.length > 0) opts.authenticator = authenticators;
  if (config.tls) opts.tls = { ...config.tls };
  if (config.inboxPrefix) opts.inboxPrefix = config.inboxPrefix;
  return opts;
}

export interface ConnectNatsOptions extends Partial<NatsConfig> {
  /** Where the NATS_* defaults come from. Default `process.env`; pass `{}` to ignore the environment. */
  env?: Env;
}

/** Connects with the environment's settings, overridden by the fields given here. */
export function connectNats(options: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const { env, ...overrides } = options;
  const config: NatsConfig = { ...natsConfigFromEnv(env ?? process.env) };
  for (const [key, v] of Object.entries(overrides)) {
    if (v !== undefined) (config as unknown as Record<string, unknown>)[key] = v;
  }
  return connect(connectionOptions(config));
}
