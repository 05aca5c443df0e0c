/**
 * A Redis pub/sub subscription on a connection of its own (a subscribed connection can do nothing
 * else). ioredis reconnects and resubscribes by itself; messages published meanwhile are lost,
 * which `onReconnect` lets the subscriber make up for.
 */
import type { Redis } from "ioredis";

export interface ChannelSubscription {
  close(): void;
}

export async function subscribeChannel(
  redis: Redis,
  channel: string,
  onMessage: (message: string) => void,
  /** Called when the subscription reconnects: messages published meanwhile were missed. */
  onReconnect?: () => void,
): Promise<ChannelSubscription> {
  // Waits for Redis as long as it takes (a worker started before Redis subscribes once it is up).
  const subscriber = redis.duplicate({ maxRetriesPerRequest: null });
  subscriber.on("message", (from: string, message: string) => {
    if (from === channel) onMessage(message);
  });
  subscriber.on("error", () => {}); // reconnecting by itself
  let connectedOnce = false;
  subscriber.on("ready", () => {
    if (connectedOnce) onReconnect?.();
    connectedOnce = true;
  });
  try {
    await subscriber.subscribe(channel);
  } catch (error) {
    // Refused (an ACL without the channel, say): left open, the connection would keep the process alive.
    subscriber.disconnect();
    throw error;
  }
  return { close: () => subscriber.disconnect() };
}
