import { provisionSettings } from './stack.js';

describe('provisionSettings (orchestra up, orchestra provision)', () => {
  it('provisions one replica by default', () => {
    expect(provisionSettings({})).toEqual({ provision: true, replicas: 1 });
  });

  it.each(['false', 'FALSE', '0', 'no', 'off', ' false '])(
    'ORCHESTRA_PROVISION=%j skips provisioning',
    (v) => {
      expect(provisionSettings({ ORCHESTRA_PROVISION: v }).provision).toBe(false);
    },
  );

  it.each(['true', '1', 'yes', 'on', ''])('ORCHESTRA_PROVISION=%j provisions', (v) => {
    expect(provisionSettings({ ORCHESTRA_PROVISION: v }).provision).toBe(true);
  });

  it('reads ORCHESTRA_STREAM_REPLICAS', () => {
    expect(provisionSettings({ ORCHESTRA_STREAM_REPLICAS: '3' })).toEqual({ provision: true, replicas: 3 });
  });

  it('refuses values it does not understand rather than guessing', () => {
    expect(() => provisionSettings({ ORCHESTRA_PROVISION: 'maybe' })).toThrow(/ORCHESTRA_PROVISION/);
    for (const bad of ['0', '6', '2.5', 'three']) {
      expect(() => provisionSettings({ ORCHESTRA_STREAM_REPLICAS: bad })).toThrow(
        /ORCHESTRA_STREAM_REPLICAS/,
      );
    }
  });
});
