// The simulator's public surface for the CLI, the demo, benchmarks and the autoscaler's
// simulated provider.
export { SimCluster } from './sim-cluster.js';
export type { AddServerOptions, SimClusterOptions, SimServerEntry } from './sim-cluster.js';
export { SimServer } from './sim-server.js';
export type { SimServerOptions, SimServerState } from './sim-server.js';
export { FAULT_MODES, isFaultMode } from './faults.js';
export type { Fault, FaultMode } from './faults.js';
export { MeetingModel } from './meeting-model.js';
export type { AudioMode, MeetingModelOptions } from './meeting-model.js';
export { DEFAULT_LOAD_CONSTANTS, serverLoad } from './load.js';
export type { LoadConstants, MeetingLoadInput } from './load.js';
export type { AddUsersResult, AddUsersSpec } from './sim-control.js';
