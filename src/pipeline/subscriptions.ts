/**
 * Resource subscriptions across sessions: an upstream is subscribed once per URI however many
 * sessions watch it, and unsubscribed when the last one leaves; updates fan out only to the
 * sessions that subscribed.
 */
import type { ClientSession } from '../downstream/session.js';
import type { Upstream } from '../upstream/upstream.js';

/** Who watches which resource URI. */
export class Subscriptions {
  private readonly watchers = new Map<string, Set<ClientSession>>();

  /** Adds a watcher; subscribes the upstream when it is the first. */
  async subscribe(session: ClientSession, upstream: Upstream, uri: string): Promise<void> {
    let sessions = this.watchers.get(uri);
    if (!sessions) {
      await upstream.request('resources/subscribe', { uri });
      sessions = this.watchers.get(uri) ?? new Set();
      this.watchers.set(uri, sessions);
    }
    sessions.add(session);
    session.subscriptions.add(uri);
  }

  /** Removes a watcher; unsubscribes the upstream when it was the last. */
  async unsubscribe(session: ClientSession, upstream: Upstream | undefined, uri: string): Promise<void> {
    session.subscriptions.delete(uri);
    const sessions = this.watchers.get(uri);
    if (!sessions) return;
    sessions.delete(session);
    if (sessions.size > 0) return;
    this.watchers.delete(uri);
    if (upstream && upstream.state === 'ready') await upstream.request('resources/unsubscribe', { uri }).catch(() => undefined);
  }

  /** Sessions watching a URI. */
  watching(uri: string): ReadonlySet<ClientSession> {
    return this.watchers.get(uri) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<ClientSession> = new Set();
