/**
 * A bounded in-memory event store for Streamable HTTP resumability: a client whose SSE stream
 * broke reconnects with `Last-Event-ID` and receives what it missed. Bounded per session so a
 * client that never reconnects cannot grow the gateway's memory.
 */
import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface StoredEvent {
  readonly id: EventId;
  readonly stream: StreamId;
  readonly message: JSONRPCMessage;
}

/** Keeps the last `limit` events of one session. */
export class BoundedEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private readonly byId = new Map<EventId, StoredEvent>();
  private counter = 0;

  constructor(private readonly limit = 1000) {}

  async storeEvent(stream: StreamId, message: JSONRPCMessage): Promise<EventId> {
    return this.store(stream, message);
  }

  /** Stores an event now and returns its id (the HTTP fast path writes the id in the same tick). */
  store(stream: StreamId, message: JSONRPCMessage): EventId {
    const id = `${stream}_${(this.counter++).toString(36)}`;
    const event = { id, stream, message };
    this.events.push(event);
    this.byId.set(id, event);
    if (this.events.length > this.limit) {
      const dropped = this.events.shift();
      if (dropped) this.byId.delete(dropped.id);
    }
    return id;
  }

  /** The stream of a stored event, or undefined for an unknown (or dropped) id. */
  streamOf(id: EventId): StreamId | undefined {
    return this.byId.get(id)?.stream;
  }

  async getStreamIdForEventId(id: EventId): Promise<StreamId | undefined> {
    return this.byId.get(id)?.stream;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (id: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const last = this.byId.get(lastEventId);
    if (!last) return '';
    const start = this.events.indexOf(last) + 1;
    for (const event of this.events.slice(start)) {
      if (event.stream === last.stream) await send(event.id, event.message);
    }
    return last.stream;
  }
}
