// @globemeet/sdk: GlobeMeet Events in browsers and Node, over the wasm core.
export { GlobeMeetWS, ConnectionState } from './client.js';
export type {
  BackoffOptions, DeliveryMeta, GlobeMeetWSEventMap, GlobeMeetWSEventName, GlobeMeetWSOptions, LatencyStats, StateChange,
  SubscribeOptions,
} from './client.js';
export type { Subscription, SubscriptionState, Unsubscribe } from './subscription.js';
export type { TokenReason } from './core.js';
export { GlobeMeetError, GlobeMeetCloseError } from './errors.js';
export type * from './catalogue.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket.js';
