// Moved to @orchestra/testing (libs/testing); this re-export keeps older imports working.
export {
  findNatsServer,
  freePort,
  type NatsServerHandle,
  type NatsServerOptions,
  startNatsServer,
  useNatsServer,
} from '@orchestra/testing';
