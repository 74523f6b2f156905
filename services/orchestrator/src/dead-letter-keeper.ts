import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { type BusLogger, type Clock, watchExhaustedDeliveries } from '@orchestra/bus';

/** Moves messages that exhausted their deliveries (a worker crashing on each) to the dead letters. */
export class DeadLetterKeeper implements OnModuleInit, OnApplicationShutdown {
  private subscription?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly clock: Clock,
    private readonly logger: BusLogger,
  ) {}

  onModuleInit(): void {
    this.subscription = watchExhaustedDeliveries(this.nc, this.js, this.jsm, this.logger, () =>
      this.clock.now(),
    );
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }
}
