// The fault suite runs for minutes (short form) or much longer (FAULTS=long).
jest.setTimeout(Number(process.env.ORCHESTRA_TEST_TIMEOUT_MS ?? 6 * 60 * 60 * 1000));
