// End-to-end tests run the whole system, kill it and restart it: give them time.
jest.setTimeout(Number(process.env.ORCHESTRA_TEST_TIMEOUT_MS ?? 180_000));
