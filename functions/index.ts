/**
 * Entry point of the source archive: every Cloud Function's target is exported here
 * (functions-framework --target=<name>). Each function is deployed and run as its own service.
 */
import './body-parser-patch';

export { api } from './api';
export { cars } from './cars';
export { console } from './console';
export { credit } from './credit';
export { deadLetters } from './dead-letters';
export { flights } from './flights';
export { hotels } from './hotels';
export { inventory } from './inventory';
export { orchestrator } from './orchestrator';
export { payment } from './payment';
export { sweeper } from './sweeper';
