/**
 * Request body limits, enforced while a body is read (functions/body-parser-patch.ts; locally also by the front
 * doors, emulator/front-door.ts), never after buffering it whole.
 */

/** The api: contract §3, `413 PAYLOAD_TOO_LARGE` above 64 KiB. */
export const API_MAX_BODY_BYTES = 64 * 1024;

/**
 * Push endpoints: a Pub/Sub push request carries one message of at most 10 MB, base64-encoded (× 4/3), plus its
 * attributes and the envelope. Every message Pub/Sub can push must get through, or it could not even be recorded as
 * a dead letter; anything larger is not a push.
 */
export const PUSH_MAX_BODY_BYTES = 16 * 1024 * 1024;
