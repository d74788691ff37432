/**
 * Resource subscriptions across sessions: an upstream is subscribed once per URI however many
 * sessions watch it, and unsubscribed when the last one leaves; updates fan out only to the
 * sessions that subscribed.
 */
import type { Subscriber } from '../caller/caller.js';
import type { Upstream } from '../upstream/upstream.js';

/** Who watches which resource URI. */
export class Subscriptions {
  private readonly watchers = new Map<string, Set<Subscriber>>();

  /** Adds a watcher; subscribes the upstream when it is the first. */
  async subscribe(subscriber: Subscriber, upstream: Upstream, uri: string): Promise<void> {
    let sessions = this.watchers.get(uri);
    if (!sessions) {
      await upstream.request('resources/subscribe', { uri });
      sessions = this.watchers.get(uri) ?? new Set();
      this.watchers.set(uri, sessions);
    }
    sessions.add(subscriber);
    subscriber.subscriptions.add(uri);
  }

  /** Removes a watcher; unsubscribes the upstream when it was the last. */
  async unsubscribe(subscriber: Subscriber, upstream: Upstream | undefined, uri: string): Promise<void> {
    subscriber.subscriptions.delete(uri);
    const sessions = this.watchers.get(uri);
    if (!sessions) return;
    sessions.delete(subscriber);
    if (sessions.size > 0) return;
    this.watchers.delete(uri);
    if (upstream && upstream.state === 'ready') await upstream.request('resources/unsubscribe', { uri }).catch(() => undefined);
  }

  /** Subscribers (sessions) watching a URI. */
  watching(uri: string): ReadonlySet<Subscriber> {
    return this.watchers.get(uri) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<Subscriber> = new Set();
