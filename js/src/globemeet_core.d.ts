// The Emscripten module factory (platform/wasm), wrapped as an ES module by js/build.mjs.
export interface GlobeMeetCoreModule {
  HEAPU8: Uint8Array;
  UTF8ToString(pointer: number): string;
  _gm_alloc(size: number): number;
  _gm_free(pointer: number): void;
  _gm_topic_validate_pattern(pattern: number, size: number): number;
  _gm_session_create(config: number, size: number): number;
  _gm_session_destroy(session: number): void;
  _gm_session_start(session: number, nowMs: number, random: number): number;
  _gm_session_token_obtained(session: number, nowMs: number, random: number, token: number, size: number): number;
  _gm_session_token_failed(session: number, nowMs: number, random: number, reason: number, size: number): number;
  _gm_session_opened(session: number, nowMs: number, random: number, connection: number): number;
  _gm_session_frame(session: number, nowMs: number, random: number, connection: number, text: number, size: number): number;
  _gm_session_event(session: number, nowMs: number, random: number, connection: number, id: number, idSize: number,
    topic: number, topicSize: number, time: number, timeSize: number, snapshot: number): number;
  _gm_session_handles(session: number): number;
  _gm_session_latency(session: number): number;
  _gm_session_closed(session: number, nowMs: number, random: number, connection: number, code: number,
    reason: number, size: number): number;
  _gm_session_timer_fired(session: number, nowMs: number, random: number, timer: number, size: number): number;
  _gm_session_subscribe(session: number, nowMs: number, random: number, pattern: number, size: number,
    snapshot: number): number;
  _gm_session_unsubscribe(session: number, nowMs: number, random: number, handle: number): number;
  _gm_session_stop(session: number, nowMs: number, random: number): number;
  _gm_session_disconnect(session: number, nowMs: number, random: number): number;
  _gm_session_set_last_event_id(session: number, id: number, size: number): number;
  _gm_session_take_actions(session: number): number;
  _gm_session_status(session: number): number;
}

declare function createGlobeMeetCore(overrides?: object): Promise<GlobeMeetCoreModule>;
export default createGlobeMeetCore;
