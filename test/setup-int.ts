// Integration tiers start real nats-server processes: give them time (Jest 30 ignores per-project testTimeout).
jest.setTimeout(Number(process.env.ORCHESTRA_TEST_TIMEOUT_MS ?? 60_000));
