import { environmentProblems, readEnvironment, envVariable as variable } from './environment.js';
import { ValidationError } from './errors.js';

const spec = {
  ACK_MS: variable.integer('ack wait', { min: 1, max: 5, unit: 'ms' }, 3),
  PROVISION: variable.flag('provision', true),
  FORMAT: variable.oneOf('format', ['json', 'pretty']),
  NAME: variable.text('name'),
  WAIT: variable.optionalInteger('wait', { min: 0, max: 10 }, '7'),
  LEVEL: variable.textOr('level', 'info'),
};

describe('an environment read through its spec', () => {
  it('gives the defaults for unset and blank variables', () => {
    const values = readEnvironment(spec, { NAME: '  ', WAIT: '' });
    expect(values).toEqual({
      ACK_MS: 3,
      PROVISION: true,
      FORMAT: undefined,
      NAME: undefined,
      WAIT: undefined,
      LEVEL: 'info',
    });
  });

  it('parses each kind of value, spaces around it dropped', () => {
    expect(
      readEnvironment(spec, {
        ACK_MS: ' 4 ',
        PROVISION: 'OFF',
        FORMAT: 'pretty',
        NAME: ' a b ',
        WAIT: '0',
        LEVEL: 'debug',
      }),
    ).toEqual({ ACK_MS: 4, PROVISION: false, FORMAT: 'pretty', NAME: 'a b', WAIT: 0, LEVEL: 'debug' });
    for (const [text, value] of [
      ['1', true],
      ['yes', true],
      ['On', true],
      ['0', false],
      ['no', false],
      ['FALSE', false],
    ] as const) {
      expect(readEnvironment(spec, { PROVISION: text }).PROVISION).toBe(value);
    }
  });

  it('lists every problem at once, each with its variable, the rule and the value', () => {
    const env = { ACK_MS: '1.5', PROVISION: 'maybe', FORMAT: 'xml', WAIT: '11', UNRELATED: 'x' };
    const expected = [
      { path: 'ACK_MS', message: 'must be an integer from 1 to 5 (ms), got "1.5"' },
      { path: 'PROVISION', message: 'must be true or false, got "maybe"' },
      { path: 'FORMAT', message: 'must be one of json, pretty, got "xml"' },
      { path: 'WAIT', message: 'must be an integer from 0 to 10, got "11"' },
    ];
    expect(environmentProblems(spec, env)).toEqual(expected);
    let error: unknown;
    try {
      readEnvironment(spec, env);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual(expected);
    expect((error as Error).message).toBe(
      [
        'invalid environment, 4 problem(s):',
        '  ACK_MS: must be an integer from 1 to 5 (ms), got "1.5"',
        '  PROVISION: must be true or false, got "maybe"',
        '  FORMAT: must be one of json, pretty, got "xml"',
        '  WAIT: must be an integer from 0 to 10, got "11"',
      ].join('\n'),
    );
  });

  it('shows each default as a person reads it', () => {
    expect(Object.fromEntries(Object.entries(spec).map(([name, v]) => [name, v.default]))).toEqual({
      ACK_MS: '3',
      PROVISION: 'true',
      FORMAT: undefined,
      NAME: undefined,
      WAIT: '7',
      LEVEL: 'info',
    });
  });
});
